package tfpilot_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/tfoutput"
)

func currentAttempt(t *testing.T, e *env, id string, k runs.Kind) runs.Attempt {
	t.Helper()
	r, err := e.store.GetRequest(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := runs.Current(r.Runs, k)
	if !ok {
		t.Fatalf("no %s attempt", k)
	}
	return a
}

// TestOutput_PlanAndApplySummariesAreStoredOnTheAttempt: when a plan or
// apply run completes, Sync reads its job log and stores Terraform's
// summary on the attempt, where the request's JSON carries it ("output")
// for an approver to see.
func TestOutput_PlanAndApplySummariesAreStoredOnTheAttempt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	planLog, err := os.ReadFile("tfoutput/testdata/plan_create.log")
	if err != nil {
		t.Fatal(err)
	}
	plan := currentAttempt(t, e, r.ID, runs.Plan)
	if err := e.fake.SetJobLogs(plan.RunID, string(planLog)); err != nil {
		t.Fatal(err)
	}
	if a := currentAttempt(t, e, r.ID, runs.Plan); a.Output != nil {
		t.Fatalf("output before the run completed: %+v", a.Output)
	}
	e.finish(r.ID, runs.Plan, "success")
	out := currentAttempt(t, e, r.ID, runs.Plan).Output
	if out == nil || out.State != tfoutput.StatePlanned || out.Counts.Add != 2 || len(out.Changes) != 2 ||
		out.Headline != "Plan: 2 to add, 0 to change, 0 to destroy." || !strings.HasPrefix(out.PlanDigest, "sha256:3f6c2a1e") {
		t.Fatalf("plan output %+v", out)
	}
	got, err := e.store.GetRequest(e.ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"output":{"state":"planned","headline":"Plan: 2 to add, 0 to change, 0 to destroy."`) {
		t.Fatalf("request JSON lacks the plan output: %s", b)
	}
	// Read once: a later Sync does not read the logs again.
	calls := e.fake.CallCount(githubtest.EndpointJobLogs)
	e.sync(r.ID)
	if n := e.fake.CallCount(githubtest.EndpointJobLogs); n != calls {
		t.Fatalf("job logs read again (%d → %d calls)", calls, n)
	}

	if err := e.fake.As("abe").Approve("acme", "infra", r.PR.Number); err != nil {
		t.Fatal(err)
	}
	e.sync(r.ID)
	mustOK(t, e, e.pilot.Merge, approver, r.ID)
	mustOK(t, e, e.pilot.Apply, approver, r.ID)
	applyLog, err := os.ReadFile("tfoutput/testdata/apply_failed.log")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.fake.SetJobLogs(currentAttempt(t, e, r.ID, runs.Apply).RunID, string(applyLog)); err != nil {
		t.Fatal(err)
	}
	e.finish(r.ID, runs.Apply, "failure")
	ao := currentAttempt(t, e, r.ID, runs.Apply).Output
	if ao == nil || ao.State != tfoutput.StateFailed || len(ao.Errors) != 1 || !strings.Contains(ao.Errors[0], "BucketAlreadyExists") {
		t.Fatalf("apply output %+v", ao)
	}
}

// TestOutput_AbsentOrForeignLogsAreAStateNotAnError: a run whose jobs
// print no Terraform output gets StateNotTerraform; a run GitHub no longer
// has gets StateNoLog; a transient failure reading logs fails nothing and
// the next Sync stores the output.
func TestOutput_AbsentOrForeignLogsAreAStateNotAnError(t *testing.T) {
	t.Parallel()
	t.Run("not terraform", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		r := e.create("reports")
		e.finish(r.ID, runs.Plan, "success") // the fake's default job log
		if out := currentAttempt(t, e, r.ID, runs.Plan).Output; out == nil || out.State != tfoutput.StateNotTerraform {
			t.Fatalf("output %+v", out)
		}
	})
	t.Run("transient failure, then read", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		r := e.create("reports")
		a := currentAttempt(t, e, r.ID, runs.Plan)
		if err := e.fake.Complete(a.RunID, "success"); err != nil {
			t.Fatal(err)
		}
		// More 502s than githubx retries: the read fails this time.
		e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointListJobs, Kind: githubtest.FaultServerError, Status: 502, Times: 10})
		if _, err := e.pilot.Sync(e.ctx, dev, r.ID); err != nil {
			t.Fatalf("Sync failed on an unreadable log: %v", err)
		}
		if out := currentAttempt(t, e, r.ID, runs.Plan); out.Output != nil || out.Status != runs.StatusCompleted {
			t.Fatalf("attempt %+v", out)
		}
		for e.fake.PendingFaults() > 0 { // use up the rest
			_, _ = e.gh.ListJobs(e.ctx, githubx.Repo{Owner: "acme", Name: "infra"}, a.RunID)
		}
		e.sync(r.ID)
		if out := currentAttempt(t, e, r.ID, runs.Plan).Output; out == nil || out.State != tfoutput.StateNotTerraform {
			t.Fatalf("output after recovery %+v", out)
		}
	})
}

// TestOutput_WebhookDrivenPlanShowsItsOutputWithoutSync: in a deployment
// driven by webhooks, a request whose plan completed is plan_ready and no
// reconciler syncs it; the completed delivery itself reads the output.
func TestOutput_WebhookDrivenPlanShowsItsOutputWithoutSync(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hooked(t, e)
	r := e.create("reports")
	e.flush()
	planLog, err := os.ReadFile("tfoutput/testdata/plan_no_changes.log")
	if err != nil {
		t.Fatal(err)
	}
	run := e.currentRun(r.ID, runs.Plan)
	if err := e.fake.SetJobLogs(run, string(planLog)); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.Complete(run, "success"); err != nil {
		t.Fatal(err)
	}
	e.flush()
	if out := currentAttempt(t, e, r.ID, runs.Plan).Output; out == nil || out.State != tfoutput.StateNoChanges {
		t.Fatalf("output %+v", out)
	}
}
