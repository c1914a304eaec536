package server

import (
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tfpilot/tfpilot"
	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/tfoutput"
	"time"
)

// statusToProto maps a lifecycle status to its enum value: "applied" is
// STATUS_APPLIED.
func statusToProto(s lifecycle.Status) pb.Status {
	return pb.Status(pb.Status_value["STATUS_"+strings.ToUpper(string(s))])
}

// statusFromProto is the inverse of statusToProto; it reports false for
// STATUS_UNSPECIFIED and unknown values.
func statusFromProto(s pb.Status) (lifecycle.Status, bool) {
	name, ok := pb.Status_name[int32(s)]
	if !ok || s == pb.Status_STATUS_UNSPECIFIED {
		return "", false
	}
	st := lifecycle.Status(strings.ToLower(strings.TrimPrefix(name, "STATUS_")))
	return st, st.Valid()
}

func runKindToProto(k runs.Kind) pb.RunKind {
	switch k {
	case runs.Plan:
		return pb.RunKind_RUN_KIND_PLAN
	case runs.Apply:
		return pb.RunKind_RUN_KIND_APPLY
	case runs.Destroy:
		return pb.RunKind_RUN_KIND_DESTROY
	}
	return pb.RunKind_RUN_KIND_UNSPECIFIED
}

func timeToProto(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// jsonStruct converts a JSON-shaped map to a Struct through its JSON
// encoding, so that any value the store decoded (or the engine built)
// converts. A nil or empty map is nil.
func jsonStruct(m map[string]any) (*structpb.Struct, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var plain map[string]any
	if err := json.Unmarshal(b, &plain); err != nil {
		return nil, err
	}
	return structpb.NewStruct(plain)
}

func prToProto(pr *tfpilot.PullRequest) *pb.PullRequest {
	if pr == nil {
		return nil
	}
	return &pb.PullRequest{Number: int32(pr.Number), Url: pr.URL, Open: pr.Open, Merged: pr.Merged, HeadSha: pr.HeadSHA}
}

// viewToProto converts the engine's view of a request.
func viewToProto(v tfpilot.View) (*pb.Request, error) {
	r := v.Request
	cfg, err := jsonStruct(r.Config)
	if err != nil {
		return nil, fmt.Errorf("convert config of %q: %w", r.ID, err)
	}
	out := &pb.Request{
		Id: r.ID, Project: r.Project, Environment: r.Environment, Module: r.Module,
		Config: cfg, Status: statusToProto(v.Status), Version: r.Version,
		ReceivedAt: timeToProto(r.ReceivedAt), UpdatedAt: timeToProto(r.UpdatedAt),
		BranchName: r.BranchName, CommitSha: r.CommitSHA, MergedSha: r.MergedSHA,
		PullRequest: prToProto(r.PR), CleanupPullRequest: prToProto(r.CleanupPR),
		NextPoll: durationpb.New(v.NextPoll), Archived: v.Archived,
	}
	if r.TargetOwner != "" || r.TargetRepo != "" {
		out.Target = &pb.Target{Owner: r.TargetOwner, Repo: r.TargetRepo, Base: r.TargetBase,
			EnvPath: r.TargetEnvPath, Files: append([]string(nil), r.TargetFiles...)}
	}
	if r.Approval != nil {
		out.Approval = &pb.Approval{Approved: r.Approval.Approved, Approvers: append([]string(nil), r.Approval.Approvers...)}
	}
	if r.Lock != nil && !v.Archived {
		// An archived request shows no lock: the one it carries is the
		// archiving Sync's, held while it archived, and nothing can
		// act on an archived request anyway.
		//
		// A lock left by a dead holder (v.LockExpired) is shown as it is:
		// its expires_at lies in the past, which says it blocks nothing
		// and is taken over by the next operation (and cleared by Sync).
		out.Lock = &pb.Lock{Operation: r.Lock.Operation, AcquiredAt: timeToProto(r.Lock.AcquiredAt), ExpiresAt: timeToProto(r.Lock.ExpiresAt)}
	}
	for _, k := range runs.Kinds() {
		op := r.Runs.Op(k)
		for _, a := range op.Attempts {
			out.Runs = append(out.Runs, &pb.RunAttempt{
				Kind: runKindToProto(k), Attempt: int32(a.Attempt), Current: a.Attempt == op.CurrentAttempt,
				RunId: a.RunID, Url: a.URL, Status: a.Status, Conclusion: a.Conclusion,
				DispatchedAt: timeToProto(a.DispatchedAt), CompletedAt: timeToProto(a.CompletedAt),
				HeadSha: a.HeadSHA, Ref: a.Ref, Actor: a.Actor, Output: outputToProto(a.Output), PinnedSha: a.PinnedSHA,
			})
		}
	}
	if d := r.Drift; d != nil {
		out.LastDriftCheck = &pb.DriftCheck{Result: driftResultToProto(d.Result), RunId: d.RunID, Url: d.URL, Actor: d.Actor,
			StartedAt: timeToProto(d.StartedAt), CompletedAt: timeToProto(d.CompletedAt), Conclusion: d.Conclusion,
			Output: outputToProto(d.Output)}
	}
	if c := r.Cancelled; c != nil {
		out.Cancellation = &pb.Cancellation{Actor: c.Actor, Reason: c.Reason, CancelledAt: timeToProto(c.At)}
	}
	return out, nil
}

// outputToProto converts a run's Terraform summary; nil stays nil.
func outputToProto(s *tfoutput.Summary) *pb.RunOutput {
	if s == nil {
		return nil
	}
	out := &pb.RunOutput{State: outputStateToProto(s.State), Headline: s.Headline, OmittedChanges: int32(s.OmittedChanges),
		Errors: append([]string(nil), s.Errors...), PlanDigest: s.PlanDigest, Truncated: s.Truncated, PlannedCommit: s.PlannedCommit}
	if c := s.Counts; c != nil {
		out.Counts = &pb.ResourceCounts{Imported: int32(c.Import), Add: int32(c.Add), Change: int32(c.Change), Destroy: int32(c.Destroy)}
	}
	for _, ch := range s.Changes {
		out.Changes = append(out.Changes, &pb.ResourceChange{Address: ch.Address, Action: ch.Action})
	}
	return out
}

// outputStateToProto maps "no_changes" to OUTPUT_STATE_NO_CHANGES.
func outputStateToProto(s tfoutput.State) pb.OutputState {
	return pb.OutputState(pb.OutputState_value["OUTPUT_STATE_"+strings.ToUpper(string(s))])
}

func driftResultToProto(r tfpilot.DriftResult) pb.DriftResult {
	switch r {
	case tfpilot.DriftPending:
		return pb.DriftResult_DRIFT_RESULT_PENDING
	case tfpilot.DriftNone:
		return pb.DriftResult_DRIFT_RESULT_NO_DRIFT
	case tfpilot.DriftDetected:
		return pb.DriftResult_DRIFT_RESULT_DRIFTED
	case tfpilot.DriftError:
		return pb.DriftResult_DRIFT_RESULT_ERROR
	}
	return pb.DriftResult_DRIFT_RESULT_UNSPECIFIED
}

// trimForList drops the bulky parts of r's run outputs (change lines and
// errors), which a List answer leaves out; Get and Watch carry them.
func trimForList(r *pb.Request) {
	trim := func(o *pb.RunOutput) {
		if o != nil {
			o.Changes, o.Errors = nil, nil
		}
	}
	for _, a := range r.GetRuns() {
		trim(a.GetOutput())
	}
	trim(r.GetLastDriftCheck().GetOutput())
}

func eventToProto(e tfpilot.Event) (*pb.Event, error) {
	data, err := jsonStruct(e.Data)
	if err != nil {
		return nil, fmt.Errorf("convert event %q data: %w", e.ID, err)
	}
	return &pb.Event{Id: e.ID, RequestId: e.RequestID, Event: e.Event, Timestamp: timeToProto(e.Timestamp),
		Actor: e.Actor, Source: e.Source, Data: data}, nil
}

func eventsToProto(es []tfpilot.Event) ([]*pb.Event, error) {
	out := make([]*pb.Event, 0, len(es))
	for _, e := range es {
		pe, err := eventToProto(e)
		if err != nil {
			return nil, err
		}
		out = append(out, pe)
	}
	return out, nil
}

func insightsToProto(in tfpilot.Insights) *pb.Insights {
	out := &pb.Insights{
		Total:                   int32(in.Total),
		FailuresLast_24H:        int32(in.FailuresLast24h),
		FailuresLast_7D:         int32(in.FailuresLast7d),
		AppliesLast_24H:         int32(in.AppliesLast24h),
		AppliesLast_7D:          int32(in.AppliesLast7d),
		DestroysLast_24H:        int32(in.DestroysLast24h),
		DestroysLast_7D:         int32(in.DestroysLast7d),
		AvgApplySecondsLast_7D:  in.AvgApplySecondsLast7d,
		P95ApplySecondsLast_7D:  in.P95ApplySecondsLast7d,
		ApplySuccessRateLast_7D: in.ApplySuccessRateLast7d,
		PlanSuccessRateLast_7D:  in.PlanSuccessRateLast7d,
		GeneratedAt:             timeToProto(in.GeneratedAt),
	}
	for _, s := range lifecycle.Statuses() {
		if n := in.StatusCounts[s]; n > 0 {
			out.StatusCounts = append(out.StatusCounts, &pb.StatusCount{Status: statusToProto(s), Count: int32(n)})
		}
	}
	return out
}
