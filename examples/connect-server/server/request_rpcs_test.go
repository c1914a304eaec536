package server_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/tfpilot/tfpilot"
	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
	"github.com/tfpilot/tfpilot/runs"
)

// plannedCommit is the commit planLog's workflow says it planned.
const plannedCommit = "0123456789abcdef0123456789abcdef01234567"

const planLog = `2026-06-01T09:00:00.0000000Z tfpilot-planned-commit: 0123456789abcdef0123456789abcdef01234567
2026-06-01T09:00:00.0000000Z   # module.s3_bucket_x.aws_s3_bucket.this will be created
2026-06-01T09:00:00.0000000Z   # module.s3_bucket_x.aws_s3_bucket_versioning.this will be created
2026-06-01T09:00:00.0000000Z Plan: 2 to add, 0 to change, 0 to destroy.
2026-06-01T09:00:01.0000000Z tfpilot-plan-digest: sha256:3f6c2a1e000000000000000000000000000000000000000000000000000000aa
`

// currentRunID returns the run id of request id's current attempt of kind.
func (e *env) currentRunID(id string, kind runs.Kind) int64 {
	e.t.Helper()
	r, err := e.store.GetRequest(ctxT(e.t), id)
	if err != nil {
		e.t.Fatal(err)
	}
	a, ok := runs.Current(r.Runs, kind)
	if !ok || a.RunID == 0 {
		e.t.Fatalf("no current %s run", kind)
	}
	return a.RunID
}

// applied drives a new dev request to applied through the API.
func (e *env) applied(bucket string) string {
	e.t.Helper()
	ctx := ctxT(e.t)
	id := e.create(bucket).GetId()
	e.finishRun(id, runs.Plan, "success")
	e.sync(id)
	approver := e.client(approverToken)
	if _, err := approver.Approve(ctx, connect.NewRequest(&pb.ApproveRequest{Id: id})); err != nil {
		e.t.Fatal(err)
	}
	if _, err := approver.Merge(ctx, connect.NewRequest(&pb.MergeRequest{Id: id})); err != nil {
		e.t.Fatal(err)
	}
	if _, err := approver.Apply(ctx, connect.NewRequest(&pb.ApplyRequest{Id: id})); err != nil {
		e.t.Fatal(err)
	}
	e.finishRun(id, runs.Apply, "success")
	if st := e.sync(id).GetStatus(); st != pb.Status_STATUS_APPLIED {
		e.t.Fatalf("status %s, want applied", st)
	}
	return id
}

// TestRPC_GetAndWatchCarryTheSamePlanOutputListTrimsIt: the plan's
// Terraform summary (state, headline, counts, change lines, digest) is on
// the run attempt; Get and Watch answer the same message; List keeps the
// summary without the change lines.
func TestRPC_GetAndWatchCarryTheSamePlanOutputListTrimsIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, newMemstore(), envOptions{})
	ctx := ctxT(t)
	id := e.create("payments-dev-output").GetId()
	if err := e.fake.SetJobLogs(e.currentRunID(id, runs.Plan), planLog); err != nil {
		t.Fatal(err)
	}
	e.finishRun(id, runs.Plan, "success")
	e.sync(id)

	res, err := e.admin.Get(ctx, connect.NewRequest(getMsg(id)))
	if err != nil {
		t.Fatal(err)
	}
	got := res.Msg.GetRequest()
	var out *pb.RunOutput
	for _, a := range got.GetRuns() {
		if a.GetKind() == pb.RunKind_RUN_KIND_PLAN && a.GetCurrent() {
			out = a.GetOutput()
		}
	}
	if out.GetState() != pb.OutputState_OUTPUT_STATE_PLANNED || out.GetCounts().GetAdd() != 2 || len(out.GetChanges()) != 2 ||
		out.GetChanges()[0].GetAction() != "create" || !strings.HasPrefix(out.GetPlanDigest(), "sha256:3f6c2a1e") ||
		out.GetHeadline() != "Plan: 2 to add, 0 to change, 0 to destroy." || out.GetPlannedCommit() != plannedCommit {
		t.Fatalf("plan output on Get: %v", out)
	}

	w := e.watch(ctx, id)
	select {
	case m := <-w.msgs:
		if !proto.Equal(m.GetRequest(), got) {
			t.Fatalf("Watch and Get differ:\nwatch %v\nget   %v", m.GetRequest(), got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no first Watch message")
	}

	list, err := e.admin.List(ctx, connect.NewRequest(&pb.ListRequest{}))
	if err != nil || len(list.Msg.GetRequests()) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}
	for _, a := range list.Msg.GetRequests()[0].GetRuns() {
		if a.GetKind() == pb.RunKind_RUN_KIND_PLAN && a.GetCurrent() {
			lo := a.GetOutput()
			if lo.GetCounts().GetAdd() != 2 || lo.GetPlanDigest() != out.GetPlanDigest() || len(lo.GetChanges()) != 0 {
				t.Fatalf("plan output on List: %v", lo)
			}
		}
	}
}

// TestRPC_GetCostAnswersTheUploadedDocuments: before any upload the cost
// is not available (not an error); after, the documents and their totals
// come back; an unknown request is not found.
func TestRPC_GetCostAnswersTheUploadedDocuments(t *testing.T) {
	t.Parallel()
	e := newEnv(t, newMemstore(), envOptions{})
	ctx := ctxT(t)
	id := e.create("payments-dev-cost").GetId()
	viewer := e.client(viewerToken)
	res, err := viewer.GetCost(ctx, connect.NewRequest(&pb.GetCostRequest{Id: id}))
	if err != nil || res.Msg.GetAvailable() || res.Msg.GetEstimate() != nil {
		t.Fatalf("GetCost before upload = %v, %v", res, err)
	}
	if err := e.store.PutCost(ctx, tfpilot.Cost{RequestID: id,
		Estimate: []byte(`{"version":"0.2","currency":"USD","totalMonthlyCost":"23.4","projects":[]}`),
		Diff:     []byte(`{"version":"0.2","currency":"USD","diffTotalMonthlyCost":"23.4"}`)}); err != nil {
		t.Fatal(err)
	}
	res, err = viewer.GetCost(ctx, connect.NewRequest(&pb.GetCostRequest{Id: id}))
	m := res.Msg
	if err != nil || !m.GetAvailable() || m.GetCurrency() != "USD" || m.GetTotalMonthlyCost() != "23.4" || m.GetDiffTotalMonthlyCost() != "23.4" ||
		m.GetEstimate().GetFields()["version"].GetStringValue() != "0.2" || m.GetDiff() == nil {
		t.Fatalf("GetCost after upload = %v, %v", m, err)
	}
	_, err = viewer.GetCost(ctx, connect.NewRequest(&pb.GetCostRequest{Id: "no-such-request"}))
	if c := codeOf(t, err); c != connect.CodeNotFound {
		t.Fatalf("GetCost of an unknown request: %s", c)
	}
}

// TestRPC_DriftEligibleStartAndResult: the applied request is listed as
// drift-eligible, a drift check starts and is pending, and its failed
// drift plan lands as DRIFTED with the plan's output and the
// drift_check_started and drift_detected events; the status stays
// APPLIED. A request that is not applied cannot be checked.
func TestRPC_DriftEligibleStartAndResult(t *testing.T) {
	t.Parallel()
	e := newEnv(t, newMemstore(), envOptions{})
	ctx := ctxT(t)
	planned := e.create("payments-dev-planned").GetId()
	id := e.applied("payments-dev-drift")
	dev := e.client(developerToken)

	list, err := dev.ListDriftEligible(ctx, connect.NewRequest(&pb.ListDriftEligibleRequest{Project: "payments"}))
	if err != nil || len(list.Msg.GetRequests()) != 1 || list.Msg.GetRequests()[0].GetId() != id {
		t.Fatalf("ListDriftEligible = %v, %v", list, err)
	}
	_, err = e.admin.StartDriftCheck(ctx, connect.NewRequest(&pb.StartDriftCheckRequest{Id: planned}))
	if c := codeOf(t, err); c != connect.CodeFailedPrecondition {
		t.Fatalf("drift check of a planning request: %s", c)
	}

	res, err := e.admin.StartDriftCheck(ctx, connect.NewRequest(&pb.StartDriftCheckRequest{Id: id}))
	if err != nil {
		t.Fatal(err)
	}
	d := res.Msg.GetRequest().GetLastDriftCheck()
	if d.GetResult() != pb.DriftResult_DRIFT_RESULT_PENDING || d.GetRunId() == 0 || d.GetActor() != "admin" || d.GetStartedAt() == nil {
		t.Fatalf("drift check after start: %v", d)
	}
	if err := e.fake.SetJobLogs(d.GetRunId(), "  # module.x.aws_s3_bucket.this will be updated in-place\nPlan: 0 to add, 1 to change, 0 to destroy.\n"); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.Complete(d.GetRunId(), "failure"); err != nil {
		t.Fatal(err)
	}
	got := e.sync(id)
	d = got.GetLastDriftCheck()
	if d.GetResult() != pb.DriftResult_DRIFT_RESULT_DRIFTED || d.GetConclusion() != "failure" || d.GetOutput().GetCounts().GetChange() != 1 ||
		got.GetStatus() != pb.Status_STATUS_APPLIED {
		t.Fatalf("after the drift run: %v, status %s", d, got.GetStatus())
	}
	evs, err := e.admin.ListEvents(ctx, connect.NewRequest(&pb.ListEventsRequest{Id: id}))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ev := range evs.Msg.GetEvents() {
		names = append(names, ev.GetEvent())
	}
	if !slices.Contains(names, "drift_check_started") || !slices.Contains(names, "drift_detected") {
		t.Fatalf("events %v", names)
	}
}

// TestRPC_CancelClosesThePRArchivesAndEndsWatch: Cancel answers the
// archived request with its cancellation, the pull request is closed,
// a Watch ends with the archived request; a repeat answers the same; a
// merged request is FAILED_PRECONDITION; an overlong reason is
// INVALID_ARGUMENT naming the field.
func TestRPC_CancelClosesThePRArchivesAndEndsWatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, newMemstore(), envOptions{})
	ctx := ctxT(t)
	created := e.create("payments-dev-cancel")
	id := created.GetId()
	w := e.watch(ctx, id)

	_, err := e.admin.Cancel(ctx, connect.NewRequest(&pb.CancelRequest{Id: id, Reason: strings.Repeat("x", 1001)}))
	if c := codeOf(t, err); c != connect.CodeInvalidArgument || badRequest(t, err)["reason"] == "" {
		t.Fatalf("overlong reason: %v", err)
	}
	res, err := e.admin.Cancel(ctx, connect.NewRequest(&pb.CancelRequest{Id: id, Reason: "duplicate of another"}))
	if err != nil {
		t.Fatal(err)
	}
	r := res.Msg.GetRequest()
	if !r.GetArchived() || r.GetCancellation().GetReason() != "duplicate of another" || r.GetCancellation().GetActor() != "admin" ||
		r.GetPullRequest().GetOpen() || r.GetLock() != nil || r.GetNextPoll().AsDuration() != 0 {
		t.Fatalf("Cancel answer: %v", r)
	}
	if pr, err := e.fake.PR("acme", "infra", int(created.GetPullRequest().GetNumber())); err != nil || pr.State != "closed" || pr.Merged {
		t.Fatalf("GitHub PR = %+v, %v", pr, err)
	}
	var last *pb.WatchResponse
	for m := range w.msgs {
		last = m
	}
	if err := <-w.done; err != nil && !errors.Is(err, ctx.Err()) {
		t.Fatalf("watch ended with %v", err)
	}
	if !last.GetRequest().GetArchived() || last.GetRequest().GetCancellation() == nil {
		t.Fatalf("last Watch message: %v", last.GetRequest())
	}
	again, err := e.admin.Cancel(ctx, connect.NewRequest(&pb.CancelRequest{Id: id}))
	if err != nil || again.Msg.GetRequest().GetVersion() != r.GetVersion() {
		t.Fatalf("second Cancel = %v, %v", again, err)
	}

	merged := e.applied("payments-dev-merged")
	_, err = e.admin.Cancel(ctx, connect.NewRequest(&pb.CancelRequest{Id: merged}))
	if c := codeOf(t, err); c != connect.CodeFailedPrecondition {
		t.Fatalf("Cancel of an applied request: %s", c)
	}
}
