package tfpilot_test

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/tfoutput"
	"github.com/tfpilot/tfpilot/webhook"
)

// applied drives a new request to applied.
func (e *env) applied(bucket string) *tfpilot.Request {
	e.t.Helper()
	r := e.applying(bucket)
	e.finish(r.ID, runs.Apply, "success")
	e.want(r.ID, lifecycle.Applied)
	return r
}

const driftLog = `2026-06-01T09:00:00.0000000Z   # module.s3_bucket_x.aws_s3_bucket.this will be updated in-place
2026-06-01T09:00:00.0000000Z Plan: 0 to add, 1 to change, 0 to destroy.
2026-06-01T09:00:01.0000000Z ##[error]drift detected in module.s3_bucket_x
`

const driftErrorLog = `2026-06-01T09:00:00.0000000Z ╷
2026-06-01T09:00:00.0000000Z │ Error: No valid credential sources found
2026-06-01T09:00:00.0000000Z ╵
`

// startDrift starts a drift check of id and returns its run.
func (e *env) startDrift(id string) githubtest.Run {
	e.t.Helper()
	r, err := e.pilot.StartDriftCheck(e.ctx, dev, id)
	if err != nil {
		e.t.Fatalf("StartDriftCheck: %v", err)
	}
	if r.Drift == nil || r.Drift.Result != tfpilot.DriftPending || r.Drift.RunID == 0 {
		e.t.Fatalf("drift check after start: %+v", r.Drift)
	}
	run, err := e.fake.Run(r.Drift.RunID)
	if err != nil {
		e.t.Fatal(err)
	}
	return run
}

// TestDrift_CheckDispatchesDeclaredInputsAndRecordsEachResult: a drift
// check dispatches drift-plan.yml on the base branch with exactly the
// inputs the template declares (request_id, tfpilot_nonce); the run's
// conclusion, read by Sync, becomes the request's last drift check and
// the original's events (drift_check_started, drift_cleared,
// drift_detected); a Terraform error is no drift verdict; the status
// stays applied throughout.
func TestDrift_CheckDispatchesDeclaredInputsAndRecordsEachResult(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.applied("reports")
	steps := []struct {
		conclusion, log string
		want            tfpilot.DriftResult
		event           string
		state           tfoutput.State
	}{
		{"success", "No changes. Your infrastructure matches the configuration.\n", tfpilot.DriftNone, tfpilot.EventDriftCleared, tfoutput.StateNoChanges},
		{"failure", driftLog, tfpilot.DriftDetected, tfpilot.EventDriftDetected, tfoutput.StatePlanned},
		{"failure", driftErrorLog, tfpilot.DriftError, tfpilot.EventDriftCheckFailed, tfoutput.StateFailed},
		{"cancelled", "", tfpilot.DriftError, tfpilot.EventDriftCheckFailed, tfoutput.StateNoLog},
	}
	for i, s := range steps {
		run := e.startDrift(r.ID)
		if run.WorkflowFile != "drift-plan.yml" || run.HeadBranch != "main" || run.Event != "workflow_dispatch" {
			t.Fatalf("step %d: run %+v", i, run)
		}
		if keys := slices.Sorted(maps.Keys(run.Inputs)); !slices.Equal(keys, []string{"request_id", "tfpilot_nonce"}) || run.Inputs["request_id"] != r.ID {
			t.Fatalf("step %d: inputs %v", i, run.Inputs)
		}
		e.want(r.ID, lifecycle.Applied)
		if err := e.fake.SetJobLogs(run.ID, s.log); err != nil {
			t.Fatal(err)
		}
		if err := e.fake.Complete(run.ID, s.conclusion); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		d := e.sync(r.ID).Drift
		if d == nil || d.RunID != run.ID || d.Result != s.want || d.Conclusion != s.conclusion || d.Output == nil || d.Output.State != s.state || d.CompletedAt.IsZero() {
			t.Fatalf("step %d (%s): drift check %+v (output %+v)", i, s.conclusion, d, d.Output)
		}
		names := e.eventNames(r.ID)
		if names[len(names)-1] != s.event || !slices.Contains(names, tfpilot.EventDriftCheckStarted) {
			t.Fatalf("step %d: events end %v, want %s", i, names[max(0, len(names)-4):], s.event)
		}
		e.want(r.ID, lifecycle.Applied)
	}
	if n := len(e.runsOf("drift-plan.yml")); n != len(steps) {
		t.Fatalf("%d drift runs, want %d", n, len(steps))
	}
}

// TestDrift_PendingCheckIsNotStartedTwice: while a check is pending, a
// second start (a scheduler's next tick) returns the request unchanged
// and dispatches nothing.
func TestDrift_PendingCheckIsNotStartedTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.applied("reports")
	run := e.startDrift(r.ID)
	before := e.doc(r.ID)
	again, err := e.pilot.StartDriftCheck(e.ctx, approver, r.ID)
	if err != nil || again.Version != before.Version || again.Drift.RunID != run.ID {
		t.Fatalf("second start = %+v, %v", again.Drift, err)
	}
	if n := len(e.runsOf("drift-plan.yml")); n != 1 {
		t.Fatalf("%d drift runs, want 1", n)
	}
}

// TestDrift_OnlyAppliedRequestsByAuthorizedCallers: a drift check of a
// request that is not applied is a failed precondition, by a viewer
// permission denied; neither dispatches anything.
func TestDrift_OnlyAppliedRequestsByAuthorizedCallers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	planned := e.create("planned")
	e.finish(planned.ID, runs.Plan, "success")
	if _, err := e.pilot.StartDriftCheck(e.ctx, dev, planned.ID); !errors.Is(err, tfpilot.ErrPrecondition) {
		t.Fatalf("drift check of a plan_ready request = %v, want ErrPrecondition", err)
	}
	applied := e.applied("applied")
	if _, err := e.pilot.StartDriftCheck(e.ctx, viewer, applied.ID); !errors.Is(err, tfpilot.ErrPermissionDenied) {
		t.Fatalf("drift check by a viewer = %v, want ErrPermissionDenied", err)
	}
	if n := len(e.runsOf("drift-plan.yml")); n != 0 {
		t.Fatalf("%d drift runs, want 0", n)
	}
	page, err := e.pilot.DriftEligible(e.ctx, viewer.Principal, tfpilot.ListQuery{})
	if err != nil || len(page.Requests) != 1 || page.Requests[0].ID != applied.ID {
		t.Fatalf("DriftEligible = %+v, %v", page, err)
	}
}

// TestDrift_WebhookRecordsResultWithoutSync: a drift run's webhooks alone
// record its result, event and output; a drift run of an older check, or
// one tfpilot did not dispatch, changes nothing.
func TestDrift_WebhookRecordsResultWithoutSync(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hooked(t, e)
	r := e.applied("reports")
	e.flush()
	run := e.startDrift(r.ID)
	if err := e.fake.SetJobLogs(run.ID, driftLog); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.SetConclusion(run.ID, "failure"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := e.fake.Advance(run.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.flush()
	d := e.doc(r.ID).Drift
	if d == nil || d.Result != tfpilot.DriftDetected || d.Output == nil || d.Output.Counts == nil || d.Output.Counts.Change != 1 {
		t.Fatalf("drift check after webhooks: %+v", d)
	}
	if names := e.eventNames(r.ID); !slices.Contains(names, tfpilot.EventDriftDetected) {
		t.Fatalf("events %v lack drift_detected", names)
	}
	e.want(r.ID, lifecycle.Applied)
}

// TestDrift_LostDispatchIsGivenUpAfterGrace: a check whose dispatch
// GitHub answered with errors (and never started a run) stays pending
// until the dispatch grace passes; then Sync records it as an error, and
// a new check can start.
func TestDrift_LostDispatchIsGivenUpAfterGrace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.applied("reports")
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointDispatch, Kind: githubtest.FaultServerError, Times: 4})
	if _, err := e.pilot.StartDriftCheck(e.ctx, dev, r.ID); !errors.Is(err, tfpilot.ErrUnavailable) {
		t.Fatalf("start with GitHub down = %v, want ErrUnavailable", err)
	}
	if d := e.sync(r.ID).Drift; d == nil || d.Result != tfpilot.DriftPending {
		t.Fatalf("within the grace: %+v", d)
	}
	e.clock.Advance(10 * time.Minute)
	if d := e.sync(r.ID).Drift; d == nil || d.Result != tfpilot.DriftError {
		t.Fatalf("after the grace: %+v", d)
	}
	e.startDrift(r.ID)
}

// TestDrift_AmbiguousDispatchStartsOneRun: GitHub starts the drift run
// but the answer is lost; the check stays the same check, Sync finds its
// run by the nonce, and no second drift run is ever dispatched.
func TestDrift_AmbiguousDispatchStartsOneRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.applied("reports")
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointDispatch, Kind: githubtest.FaultAmbiguous})
	if _, err := e.pilot.StartDriftCheck(e.ctx, dev, r.ID); err != nil && !errors.Is(err, tfpilot.ErrUnavailable) {
		t.Fatalf("start with the answer lost = %v", err)
	}
	if _, err := e.pilot.StartDriftCheck(e.ctx, dev, r.ID); err != nil {
		t.Fatalf("second start: %v", err)
	}
	e.clock.Advance(10 * time.Minute)
	d := e.sync(r.ID).Drift
	runsNow := e.runsOf("drift-plan.yml")
	if len(runsNow) != 1 || d == nil || d.RunID != runsNow[0].ID || d.Result != tfpilot.DriftPending || runsNow[0].Inputs["tfpilot_nonce"] != d.Nonce {
		t.Fatalf("drift check %+v; %d drift runs", d, len(runsNow))
	}
}

// TestDrift_SinkIgnoresRunsOfOtherChecks: the webhook sink records a
// drift run only on the check that dispatched it (its nonce): a late
// delivery of an older check's run, or a drift run tfpilot did not
// dispatch, changes nothing.
func TestDrift_SinkIgnoresRunsOfOtherChecks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.applied("reports")
	first := e.startDrift(r.ID)
	if err := e.fake.Complete(first.ID, "success"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	e.sync(r.ID)
	e.startDrift(r.ID)
	before := e.doc(r.ID)
	sink := tfpilot.NewWebhookSink(e.store, nil)
	for _, ev := range []webhook.WorkflowRunEvent{
		{RunID: first.ID, RunName: first.DisplayTitle}, // the older check's run
		{RunID: 99999, RunName: runs.RunName(r.ID, "not-a-nonce-of-ours")},
	} {
		ev.Kind, ev.Action, ev.DeliveryID = webhook.KindDrift, "completed", "d-"+ev.RunName
		ev.Facts = runs.RunFacts{ID: ev.RunID, Status: runs.StatusCompleted, Conclusion: "failure"}
		if _, err := sink.HandleWorkflowRun(e.ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if after := e.doc(r.ID); after.Version != before.Version || after.Drift.Result != tfpilot.DriftPending {
		t.Fatalf("a foreign drift run changed the check: %+v", after.Drift)
	}
}
