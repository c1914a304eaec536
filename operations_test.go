package tfpilot_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
)

func TestPilot_FullLifecycleDrivenBySync(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	e.want(r.ID, lifecycle.Planning)

	// The block landed between markers on the request's branch, next to
	// the block that was already there, and the PR is open.
	file, err := e.fake.File("acme", "infra", r.BranchName, "envs/dev/tfpilot.tf")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(file, baseFile) || !strings.Contains(file, "# tfpilot:begin/"+r.ID) || !strings.Contains(file, `bucket_name = "reports"`) {
		t.Fatalf("file on branch:\n%s", file)
	}
	if r.PR == nil || !r.PR.Open || r.PR.HeadSHA != r.CommitSHA {
		t.Fatalf("PR = %+v, commit %s", r.PR, r.CommitSHA)
	}
	if id, err := e.store.LookupPR(e.ctx, tfpilot.PRRef{Owner: "acme", Repo: "infra", Number: r.PR.Number}); err != nil || id != r.ID {
		t.Fatalf("PR index = %q, %v", id, err)
	}

	e.finish(r.ID, runs.Plan, "success")
	e.want(r.ID, lifecycle.PlanReady)
	if _, err := e.pilot.Approve(e.ctx, approver, r.ID); err != nil {
		t.Fatal(err)
	}
	e.want(r.ID, lifecycle.Approved)
	m, err := e.pilot.Merge(e.ctx, approver, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.want(r.ID, lifecycle.Merged)
	if onMain, _ := e.fake.File("acme", "infra", "main", "envs/dev/tfpilot.tf"); !strings.Contains(onMain, `bucket_name = "reports"`) || m.MergedSHA == "" {
		t.Fatalf("merge did not reach main (mergedSha %q)", m.MergedSHA)
	}
	a, err := e.pilot.Apply(e.ctx, approver, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.want(r.ID, lifecycle.Applying)
	if cur, _ := runs.Current(a.Runs, runs.Apply); cur.HeadSHA != m.MergedSHA || cur.Ref != "main" || cur.RunID == 0 {
		t.Fatalf("apply attempt %+v", cur)
	}
	e.finish(r.ID, runs.Apply, "success")
	e.want(r.ID, lifecycle.Applied)

	if _, err := e.pilot.Destroy(e.ctx, dev, r.ID); err != nil {
		t.Fatal(err)
	}
	e.want(r.ID, lifecycle.Destroying)
	final := e.finish(r.ID, runs.Destroy, "success")
	v, err := e.pilot.Get(e.ctx, dev.Principal, r.ID)
	if err != nil || v.Status != lifecycle.Destroyed || !v.Archived || v.NextPoll != 0 {
		t.Fatalf("after destroy: %+v, %v", v, err)
	}
	if final.CleanupPR == nil {
		t.Fatal("no cleanup PR recorded")
	}
	cleanup, err := e.fake.File("acme", "infra", r.BranchName+"-cleanup", "envs/dev/tfpilot.tf")
	if err != nil || cleanup != baseFile {
		t.Fatalf("cleanup branch file (err %v):\n%s\nwant the base file back byte for byte", err, cleanup)
	}
	if _, err := e.store.GetRequest(e.ctx, r.ID); !errors.Is(err, tfpilot.ErrNotFound) {
		t.Fatalf("live request still present: %v", err)
	}
	want := []string{"request_created", "block_committed", "pr_opened", "plan_dispatched", "plan_completed", "request_approved",
		"pr_merged", "apply_dispatched", "apply_completed", "destroy_dispatched", "destroy_completed", "cleanup_pr_opened", "request_archived"}
	if got := eventNames(t, e.store, r.ID); !slices.Equal(got, want) {
		t.Fatalf("events\n got %v\nwant %v", got, want)
	}
	for _, f := range []string{"plan.yml", "apply.yml", "destroy.yml"} {
		if n := len(e.runsOf(f)); n != 1 {
			t.Errorf("%s ran %d times, want once", f, n)
		}
	}
}

func TestPilot_FailedPlanThenReplanMakesAttempt2Current(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	e.finish(r.ID, runs.Plan, "failure")
	e.want(r.ID, lifecycle.Failed)
	if _, err := e.pilot.Approve(e.ctx, approver, r.ID); !errors.Is(err, tfpilot.ErrPrecondition) || !strings.Contains(err.Error(), "not successful") {
		t.Fatalf("approve of a failed plan: %v", err)
	}
	r2, err := e.pilot.Plan(e.ctx, dev, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Runs.Plan.CurrentAttempt != 2 || len(r2.Runs.Plan.Attempts) != 2 {
		t.Fatalf("plan op after re-plan: %+v", r2.Runs.Plan)
	}
	e.want(r.ID, lifecycle.Planning)
	e.finish(r.ID, runs.Plan, "success")
	e.want(r.ID, lifecycle.PlanReady)
}

func TestPilot_FailedApply(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	e.finish(r.ID, runs.Plan, "success")
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	mustOK(t, e, e.pilot.Merge, approver, r.ID)
	mustOK(t, e, e.pilot.Apply, approver, r.ID)
	e.finish(r.ID, runs.Apply, "cancelled")
	e.want(r.ID, lifecycle.Failed)
}

func TestPilot_StaleDestroyBecomesFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	e.finish(r.ID, runs.Plan, "success")
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	mustOK(t, e, e.pilot.Merge, approver, r.ID)
	mustOK(t, e, e.pilot.Apply, approver, r.ID)
	e.finish(r.ID, runs.Apply, "success")
	mustOK(t, e, e.pilot.Destroy, dev, r.ID)
	e.clock.Advance(15 * time.Minute)
	e.want(r.ID, lifecycle.Destroying)
	e.clock.Advance(2 * time.Second)
	e.want(r.ID, lifecycle.Failed)
}

func mustOK(t *testing.T, e *env, op func(ctx2 ctxT, c tfpilot.Caller, id string) (tfpilot.View, error), c tfpilot.Caller, id string) {
	t.Helper()
	if _, err := op(e.ctx, c, id); err != nil {
		t.Fatal(err)
	}
}

func TestPilot_GatesSayWhatIsMissing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	tests := []struct {
		name string
		op   func(ctx ctxT, c tfpilot.Caller, id string) (tfpilot.View, error)
		c    tfpilot.Caller
		want string
	}{
		{"approve while planning", e.pilot.Approve, approver, "still running"},
		{"merge unapproved", e.pilot.Merge, approver, "not approved"},
		{"apply unmerged", e.pilot.Apply, approver, "not merged"},
		{"destroy unapplied", e.pilot.Destroy, dev, "not applied"},
		{"re-plan while planning", e.pilot.Plan, dev, "still running"},
	}
	for _, tt := range tests {
		_, err := tt.op(e.ctx, tt.c, r.ID)
		var g *tfpilot.GateError
		if !errors.As(err, &g) || !errors.Is(err, tfpilot.ErrPrecondition) || !strings.Contains(g.Reason, tt.want) {
			t.Errorf("%s: err = %v, want a gate error saying %q", tt.name, err, tt.want)
		}
	}
	// A refused operation leaves no lock behind.
	got, _ := e.store.GetRequest(e.ctx, r.ID)
	if got.Lock != nil {
		t.Fatalf("lock left after gate errors: %+v", got.Lock)
	}
}

func TestPilot_AuthorizationAndValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.pilot.Create(e.ctx, viewer, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
		Config: map[string]any{"bucket_name": "x-reports"}})
	if !errors.Is(err, tfpilot.ErrPermissionDenied) {
		t.Fatalf("viewer create: %v", err)
	}
	_, err = e.pilot.Create(e.ctx, dev, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
		Config: map[string]any{"bucket_name": `x" } resource "null_resource" "pwn" {`, "colour": "red"}})
	var ve *tfpilot.ValidationError
	if !errors.As(err, &ve) || len(ve.Violations) != 2 {
		t.Fatalf("invalid config: %v", err)
	}
	for _, in := range []tfpilot.CreateInput{
		{Project: "payments", Environment: "dev", Module: "rds", Config: map[string]any{}},
		{Project: "payments", Environment: "prod", Module: "s3_bucket", Config: map[string]any{"bucket_name": "abc"}},
		{Project: "../etc", Environment: "dev", Module: "s3_bucket", Config: map[string]any{"bucket_name": "abc"}},
	} {
		if _, err := e.pilot.Create(e.ctx, dev, in); !errors.Is(err, tfpilot.ErrInvalid) {
			t.Errorf("Create(%+v) = %v, want ErrInvalid", in, err)
		}
	}
	r := e.create("reports")
	if _, err := e.pilot.Approve(e.ctx, dev, r.ID); !errors.Is(err, tfpilot.ErrPermissionDenied) {
		t.Fatalf("developer approve: %v", err)
	}
	if n := len(e.fake.Runs("acme", "infra")); n != 1 {
		t.Fatalf("%d runs after one successful create, want 1", n)
	}
}

func TestPilot_IdempotencyKeyReplaysFirstAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := dev
	c.IdempotencyKey = "k-1"
	in := tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket", Config: map[string]any{"bucket_name": "reports"}}
	first, err := e.pilot.Create(e.ctx, c, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.pilot.Create(e.ctx, c, in)
	if err != nil || again.ID != first.ID || again.Version != first.Version {
		t.Fatalf("replay = %+v, %v; want the first answer %s v%d", again, err, first.ID, first.Version)
	}
	in.Config = map[string]any{"bucket_name": "other"}
	if _, err := e.pilot.Create(e.ctx, c, in); !errors.Is(err, tfpilot.ErrIdempotencyKeyReused) {
		t.Fatalf("different body, same key: %v", err)
	}
	if n := len(e.runsOf("plan.yml")); n != 1 {
		t.Fatalf("%d plan runs, want 1", n)
	}
	// Mutations too: a repeated Plan with the same key does not dispatch.
	e.finish(first.ID, runs.Plan, "failure")
	c.IdempotencyKey = "replan-1"
	p1, err := e.pilot.Plan(e.ctx, c, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := e.pilot.Plan(e.ctx, c, first.ID)
	if err != nil || p2.Runs.Plan.CurrentAttempt != p1.Runs.Plan.CurrentAttempt {
		t.Fatalf("replayed plan = %+v, %v", p2, err)
	}
	if n := len(e.runsOf("plan.yml")); n != 2 {
		t.Fatalf("%d plan runs, want 2", n)
	}
}

// TestPilot_ConcurrentApplyDispatchesOnce: 50 concurrent Apply calls on
// one request make exactly one dispatch; the others get a lock or gate
// error, and no write is lost — on memstore (with a millisecond of store
// latency so the calls overlap) and on PostgreSQL.
func TestPilot_ConcurrentApplyDispatchesOnce(t *testing.T) {
	t.Parallel()
	for _, be := range overlapBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			concurrentApply(t, newEnv(t, be.opt(t)))
		})
	}
}

func concurrentApply(t *testing.T, e *env) {
	r := e.create("reports")
	e.finish(r.ID, runs.Plan, "success")
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	mustOK(t, e, e.pilot.Merge, approver, r.ID)
	before, _ := e.store.GetRequest(e.ctx, r.ID)

	const n = 50
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = e.pilot.Apply(e.ctx, approver, r.ID)
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, tfpilot.ErrLocked), errors.Is(err, tfpilot.ErrPrecondition):
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d applies succeeded, want exactly 1", ok)
	}
	if got := len(e.runsOf("apply.yml")); got != 1 {
		t.Fatalf("%d apply runs, want 1", got)
	}
	after, _ := e.store.GetRequest(e.ctx, r.ID)
	if len(after.Runs.Apply.Attempts) != 1 || after.Lock != nil || after.Runs.Apply.Attempts[0].RunID == 0 {
		t.Fatalf("apply op %+v, lock %+v", after.Runs.Apply, after.Lock)
	}
	if after.PR.Number != before.PR.Number || !after.Approval.Approved || after.MergedSHA != before.MergedSHA {
		t.Fatal("a concurrent write lost earlier facts")
	}
}
