package githubx_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

func dispatchReq(nonce string) githubx.DispatchRequest {
	return githubx.DispatchRequest{Workflow: "plan.yml", Ref: "main", Nonce: nonce,
		Inputs: map[string]string{"request_id": "req-1"}}
}

func TestDispatch_ReturnsRunIDFromRunDetails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	res, err := e.c.Dispatch(ctx(t), repo, dispatchReq("n-1"))
	if err != nil {
		t.Fatal(err)
	}
	runs := e.fake.Runs("acme", "infra")
	if len(runs) != 1 || res.RunID != runs[0].ID || res.HTMLURL == "" || res.Recovered {
		t.Fatalf("result %+v, runs %+v", res, runs)
	}
	if runs[0].Inputs["tfpilot_nonce"] != "n-1" || runs[0].Inputs["request_id"] != "req-1" || runs[0].DisplayTitle != "tfpilot req-1 n-1" {
		t.Fatalf("run inputs %v title %q", runs[0].Inputs, runs[0].DisplayTitle)
	}
	// Details made a lookup unnecessary.
	if n := e.fake.CallCount(githubtest.EndpointWorkflowRuns); n != 0 {
		t.Fatalf("listed runs %d times", n)
	}
}

func TestDispatch_LegacyServerFindsRunByNonce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{LegacyDispatch: true}, githubx.Options{})
	// An older run of the same workflow must not be mistaken for ours.
	if _, err := e.c.Dispatch(ctx(t), repo, dispatchReq("other")); err != nil {
		t.Fatal(err)
	}
	res, err := e.c.Dispatch(ctx(t), repo, dispatchReq("n-2"))
	if err != nil {
		t.Fatal(err)
	}
	run, err := e.fake.Run(res.RunID)
	if err != nil || run.Inputs["tfpilot_nonce"] != "n-2" {
		t.Fatalf("found run %+v, %v", run, err)
	}
}

func TestDispatch_AmbiguousFailureNeverDuplicatesRun(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault githubtest.Fault
	}{
		{"500 after applying", githubtest.Fault{Kind: githubtest.FaultAmbiguous}},
		{"connection dropped after applying", githubtest.Fault{Kind: githubtest.FaultAmbiguous, Drop: true}},
	}
	for _, tc := range cases {
		for _, legacy := range []bool{false, true} {
			name := tc.name
			if legacy {
				name += ", legacy 204 server"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, githubtest.Options{LegacyDispatch: legacy}, githubx.Options{})
				fault := tc.fault
				fault.Endpoint = githubtest.EndpointDispatch
				e.fake.InjectFault(fault)
				res, err := e.c.Dispatch(ctx(t), repo, dispatchReq("n-3"))
				if err != nil {
					t.Fatal(err)
				}
				runs := e.fake.Runs("acme", "infra")
				if len(runs) != 1 {
					t.Fatalf("%d runs after an ambiguous dispatch, want 1", len(runs))
				}
				if res.RunID != runs[0].ID || !res.Recovered {
					t.Fatalf("result %+v, run %d", res, runs[0].ID)
				}
				if n := e.fake.CallCount(githubtest.EndpointDispatch); n != 1 {
					t.Fatalf("dispatched %d times, want 1", n)
				}
			})
		}
	}
}

func TestDispatch_RetriesOnlyWhenNoRunStarted(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		fault   githubtest.Fault
		lookups int // nonce checks before the retry
	}{
		// Looked for until the list-lag window (20 s) has passed: at 0, 1,
		// 3, 7, 15 and 20 s after the failed try.
		{"502", githubtest.Fault{Kind: githubtest.FaultServerError}, 6},
		{"connection reset", githubtest.Fault{Kind: githubtest.FaultConnectionReset}, 6},
		// A rate-limited request was not applied: retried after the wait.
		{"429 with Retry-After", githubtest.Fault{Kind: githubtest.FaultTooManyRequests}, 0},
		{"secondary limit", githubtest.Fault{Kind: githubtest.FaultSecondaryRateLimit}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, githubtest.Options{}, githubx.Options{})
			tc.fault.Endpoint = githubtest.EndpointDispatch
			e.fake.InjectFault(tc.fault)
			res, err := e.c.Dispatch(ctx(t), repo, dispatchReq("n-4"))
			if err != nil {
				t.Fatal(err)
			}
			runs := e.fake.Runs("acme", "infra")
			if len(runs) != 1 || runs[0].ID != res.RunID || res.Recovered {
				t.Fatalf("runs %+v, result %+v", runs, res)
			}
			if n := e.fake.CallCount(githubtest.EndpointDispatch); n != 2 {
				t.Fatalf("dispatched %d times, want 2", n)
			}
			if n := e.fake.CallCount(githubtest.EndpointWorkflowRuns); n != tc.lookups {
				t.Fatalf("looked for the run %d times before retrying, want %d", n, tc.lookups)
			}
		})
	}
}

func TestDispatch_GivesUpWhenGitHubStaysDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{MaxRetries: 2})
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointDispatch, Kind: githubtest.FaultServerError, Times: 10})
	_, err := e.c.Dispatch(ctx(t), repo, dispatchReq("n-5"))
	if !errors.Is(err, githubx.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if n := e.fake.CallCount(githubtest.EndpointDispatch); n != 3 {
		t.Fatalf("dispatched %d times, want 3", n)
	}
}

func TestDispatch_RejectsMissingNonceAndUnknownWorkflow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	if _, err := e.c.Dispatch(ctx(t), repo, dispatchReq("")); !errors.Is(err, githubx.ErrInvalid) {
		t.Fatalf("no nonce: %v", err)
	}
	r := dispatchReq("n")
	r.Workflow = "nope.yml"
	if _, err := e.c.Dispatch(ctx(t), repo, r); !errors.Is(err, githubx.ErrNotFound) {
		t.Fatalf("unknown workflow: %v", err)
	}
	if len(e.fake.Runs("acme", "infra")) != 0 {
		t.Fatal("a run was created")
	}
}

func TestRuns_FindGetAndClassify(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	kinds := map[string]githubx.WorkflowKind{"plan.yml": githubx.WorkflowPlan, "apply.yml": githubx.WorkflowApply,
		"destroy.yml": githubx.WorkflowDestroy, "cleanup.yml": githubx.WorkflowCleanup, "drift-plan.yml": githubx.WorkflowDrift}
	for file, kind := range kinds {
		res, err := e.c.Dispatch(ctx(t), repo, githubx.DispatchRequest{Workflow: file, Ref: "main",
			Inputs: map[string]string{"request_id": "req-1"}, Nonce: "nonce-" + file})
		if err != nil {
			t.Fatal(err)
		}
		found, err := e.c.FindRun(ctx(t), repo, file, "nonce-"+file)
		if err != nil || found.ID != res.RunID || found.Kind != kind || found.Status != "queued" {
			t.Fatalf("%s: FindRun = %+v, %v", file, found, err)
		}
	}
	if _, err := e.c.FindRun(ctx(t), repo, "plan.yml", "absent"); !errors.Is(err, githubx.ErrNotFound) {
		t.Fatalf("FindRun absent: %v", err)
	}
	plan, _ := e.c.FindRun(ctx(t), repo, "plan.yml", "nonce-plan.yml")
	if err := e.fake.Complete(plan.ID, "failure"); err != nil {
		t.Fatal(err)
	}
	run, err := e.c.GetRun(ctx(t), repo, plan.ID, githubx.BypassCache())
	if err != nil || run.Status != "completed" || run.Conclusion != "failure" || run.CompletedAt.IsZero() || run.HeadBranch != "main" {
		t.Fatalf("GetRun = %+v, %v", run, err)
	}
	if _, err := e.c.GetRun(ctx(t), repo, 999999); !errors.Is(err, githubx.ErrNotFound) {
		t.Fatalf("GetRun absent: %v", err)
	}
}

func TestJobs_ListAndReadLogsSizeCapped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	res, err := e.c.Dispatch(ctx(t), repo, dispatchReq("n-6"))
	if err != nil {
		t.Fatal(err)
	}
	log := strings.Repeat("x", 100) + "Plan: 1 to add, 0 to change, 0 to destroy."
	if err := e.fake.SetJobLogs(res.RunID, log); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.Complete(res.RunID, "success"); err != nil {
		t.Fatal(err)
	}
	jobs, err := e.c.ListJobs(ctx(t), repo, res.RunID)
	if err != nil || len(jobs) != 1 || jobs[0].Conclusion != "success" || jobs[0].RunID != res.RunID {
		t.Fatalf("jobs %+v, %v", jobs, err)
	}
	cases := []struct {
		name      string
		opts      githubx.LogOptions
		want      string
		truncated bool
	}{
		{"whole", githubx.LogOptions{}, log, false},
		{"head", githubx.LogOptions{MaxBytes: 10}, log[:10], true},
		{"tail", githubx.LogOptions{MaxBytes: 42, Tail: true}, log[len(log)-42:], true},
		{"exact fit", githubx.LogOptions{MaxBytes: int64(len(log))}, log, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.c.JobLogs(ctx(t), repo, jobs[0].ID, tc.opts)
			if err != nil || string(got.Text) != tc.want || got.Truncated != tc.truncated {
				t.Fatalf("JobLogs = %q (truncated %v), %v; want %q (%v)", got.Text, got.Truncated, err, tc.want, tc.truncated)
			}
		})
	}
	if _, err := e.c.JobLogs(ctx(t), repo, 424242, githubx.LogOptions{}); !errors.Is(err, githubx.ErrNotFound) {
		t.Fatalf("JobLogs absent: %v", err)
	}
}

// Without the run-name convention a 204-only server leaves the run id
// unknown: Dispatch reports success with RunID 0 rather than guessing
// (another request's run could be taken for ours).
func TestDispatch_WithoutRunNameConventionDoesNotGuessTheRun(t *testing.T) {
	t.Parallel()
	clock := githubtest.NewManualClock(t0)
	f := githubtest.New(githubtest.Options{Clock: clock, LegacyDispatch: true})
	t.Cleanup(f.Close)
	if _, err := f.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra",
		Workflows: []githubtest.Workflow{{File: "plan.yml", Name: "Plan", RunName: "Terraform plan"}}}); err != nil {
		t.Fatal(err)
	}
	c, err := githubx.New(githubx.Options{Token: "t", BaseURL: f.URL(), AllowInsecureHTTP: true, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Dispatch(ctx(t), repo, dispatchReq("n-7"))
	if err != nil || res.RunID != 0 {
		t.Fatalf("Dispatch = %+v, %v; want RunID 0 and no error", res, err)
	}
	if runs := f.Runs("acme", "infra"); len(runs) != 1 || runs[0].DisplayTitle != "Terraform plan" {
		t.Fatalf("runs %+v", runs)
	}
	if n, _ := clock.Slept(); n != 4 {
		t.Fatalf("looked %d+1 times, want 5 looks with 4 waits", n)
	}
}

func TestDispatch_DoesNotRedispatchWhenTheNonceCheckFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{MaxRetries: 2})
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointDispatch, Kind: githubtest.FaultAmbiguous})
	// Every look for the run fails too (more faults than the read retries).
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointWorkflowRuns, Kind: githubtest.FaultServerError, Times: 10})
	_, err := e.c.Dispatch(ctx(t), repo, dispatchReq("n-8"))
	if !errors.Is(err, githubx.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if n := e.fake.CallCount(githubtest.EndpointDispatch); n != 1 {
		t.Fatalf("dispatched %d times without knowing whether a run started", n)
	}
	if runs := e.fake.Runs("acme", "infra"); len(runs) != 1 {
		t.Fatalf("%d runs", len(runs))
	}
}
