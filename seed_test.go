package tfpilot_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store/memstore"
	"github.com/tfpilot/tfpilot/webhook"
)

// These tests pin the engine to the original TfPilot's documents (seeds
// 000 and 002) and to issue 13.

// setCurrent rewrites the current attempt of kind on request id in the
// store, as a stored document (or a lost webhook) can leave it.
func (e *env) setCurrent(id string, kind runs.Kind, fn func(a *runs.Attempt)) {
	e.t.Helper()
	if _, err := tfpilot.Mutate(e.ctx, e.store, id, func(r *tfpilot.Request) error {
		op := r.Runs.Op(kind)
		for i := range op.Attempts {
			if op.Attempts[i].Attempt == op.CurrentAttempt {
				fn(&op.Attempts[i])
			}
		}
		switch kind {
		case runs.Apply:
			r.Runs.Apply = op
		case runs.Destroy:
			r.Runs.Destroy = op
		case runs.Plan:
			r.Runs.Plan = op
		}
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
}

// applying drives a new request to merged and dispatches its apply.
func (e *env) applying(bucket string) *tfpilot.Request {
	e.t.Helper()
	r := e.create(bucket)
	e.finish(r.ID, runs.Plan, "success")
	if _, err := e.pilot.Approve(e.ctx, approver, r.ID); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.pilot.Merge(e.ctx, approver, r.ID); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.pilot.Apply(e.ctx, approver, r.ID); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// TestGates_AttemptWithoutConclusionIsInFlight: an apply or destroy
// attempt GitHub reported completed, but whose conclusion is unknown, is
// in flight (issue 13; DESIGN "an attempt without a conclusion is in
// flight"; seed 002 §3 priority order, apply running → applying): Get
// says applying or destroying, and no gate lets a second apply or destroy
// start over it.
func TestGates_AttemptWithoutConclusionIsInFlight(t *testing.T) {
	t.Parallel()
	completedNoConclusion := func(a *runs.Attempt) { a.Status, a.Conclusion = runs.StatusCompleted, "" }
	tests := []struct {
		name   string
		setup  func(e *env) string
		status lifecycle.Status
		ops    map[string]func(*env, string) error
	}{
		{
			name: "apply completed without conclusion",
			setup: func(e *env) string {
				r := e.applying("inflight-apply")
				e.setCurrent(r.ID, runs.Apply, completedNoConclusion)
				return r.ID
			},
			status: lifecycle.Applying,
			ops: map[string]func(*env, string) error{
				"apply":   func(e *env, id string) error { _, err := e.pilot.Apply(e.ctx, approver, id); return err },
				"destroy": func(e *env, id string) error { _, err := e.pilot.Destroy(e.ctx, dev, id); return err },
			},
		},
		{
			name: "destroy completed without conclusion",
			setup: func(e *env) string {
				r := e.applying("inflight-destroy")
				e.finish(r.ID, runs.Apply, "success")
				if _, err := e.pilot.Destroy(e.ctx, dev, r.ID); err != nil {
					e.t.Fatal(err)
				}
				e.setCurrent(r.ID, runs.Destroy, completedNoConclusion)
				return r.ID
			},
			status: lifecycle.Destroying,
			ops: map[string]func(*env, string) error{
				"apply":   func(e *env, id string) error { _, err := e.pilot.Apply(e.ctx, approver, id); return err },
				"destroy": func(e *env, id string) error { _, err := e.pilot.Destroy(e.ctx, dev, id); return err },
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			id := tt.setup(e)
			e.want(id, tt.status)
			before := len(e.fake.Runs("acme", "infra"))
			for name, op := range tt.ops {
				if err := op(e, id); !errors.Is(err, tfpilot.ErrPrecondition) {
					t.Errorf("%s over an attempt without conclusion: err %v, want a gate", name, err)
				}
			}
			if after := len(e.fake.Runs("acme", "infra")); after != before {
				t.Fatalf("%d runs dispatched over an attempt in flight", after-before)
			}
			e.want(id, tt.status)
		})
	}
}

// TestPlanOK_RunOfAnotherCommitIsNotAPlanOfThisOne: the attempt records
// GitHub's head_sha for its run (issue 13), a run of another commit than
// the one dispatched is surfaced as a lifecycle event, and approval
// refuses it: a plan of another commit is not a plan of this one (seed
// 002 §5: runs are validated by head SHA to avoid attaching the wrong
// run). The person's push itself does not reach a plan: tfpilot owns the
// branch and rebuilds it on its base with only its own block (issue 14).
func TestPlanOK_RunOfAnotherCommitIsNotAPlanOfThisOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("moving-head")
	e.finish(r.ID, runs.Plan, "success")
	// Someone pushes to the request branch; the next plan is dispatched
	// for tfpilot's commit but GitHub runs the branch head.
	pushed, err := e.fake.As("mallory").Push("acme", "infra", r.BranchName, "drive-by", map[string]string{"envs/dev/extra.tf": "# extra\n"})
	if err != nil {
		t.Fatal(err)
	}
	planned, err := e.pilot.Plan(e.ctx, dev, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := planned.Runs.Plan.CurrentAttempt
	got := e.finish(r.ID, runs.Plan, "success")
	var plan runs.Attempt
	for _, a := range got.Runs.Plan.Attempts {
		if a.Attempt == n {
			plan = a
		}
	}
	if plan.HeadSHA != pushed || plan.DispatchedSHA != r.CommitSHA || !runs.HeadMismatch(plan) {
		t.Fatalf("plan attempt %d head %q dispatched %q; want the run's head %q and the dispatched %q", n, plan.HeadSHA, plan.DispatchedSHA, pushed, r.CommitSHA)
	}
	evs, err := e.store.ListEvents(e.ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(evs, func(ev tfpilot.Event) bool {
		return ev.Event == "plan_run_head_mismatch" && ev.Data["headSha"] == pushed && ev.Data["dispatchedSha"] == r.CommitSHA
	}) {
		t.Fatalf("no plan_run_head_mismatch event in %+v", evs)
	}
	// Sync rebuilt the branch without the foreign commit's content and
	// planned the rebuilt commit: the push never reaches an approval.
	if got.CommitSHA == r.CommitSHA || got.CommitSHA == pushed {
		t.Fatalf("commit %s after a foreign push; want the branch rebuilt on its base", got.CommitSHA)
	}
	if cur, _ := runs.Current(got.Runs, runs.Plan); cur.Attempt == n || runs.DispatchedFor(cur) != got.CommitSHA {
		t.Fatalf("current plan %+v; want a new attempt for the rebuilt commit %s", cur, got.CommitSHA)
	}
	// The gate itself: a successful plan whose run was of another commit
	// than the one dispatched (and the one under review) is refused.
	e.finish(r.ID, runs.Plan, "success")
	e.setCurrent(r.ID, runs.Plan, func(a *runs.Attempt) { a.HeadSHA = pushed })
	_, err = e.pilot.Approve(e.ctx, approver, r.ID)
	if !errors.Is(err, tfpilot.ErrPrecondition) || !strings.Contains(err.Error(), "another commit") {
		t.Fatalf("Approve of a plan of another commit: %v; want a gate naming the other commit", err)
	}
	// Sync does not dispatch again for a head it cannot plan: the attempt
	// was for the current commit.
	m := len(e.runsOf(planYML))
	e.sync(r.ID)
	if k := len(e.runsOf(planYML)); k != m {
		t.Fatalf("sync dispatched %d more plans", k-m)
	}
}

// TestWebhookSink_RunOfAnotherCommitIsAnEvent: a workflow_run delivery
// whose head_sha differs from the commit the attempt was dispatched for
// records GitHub's head_sha on the attempt and a plan_run_head_mismatch
// event (issue 13).
func TestWebhookSink_RunOfAnotherCommitIsAnEvent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := memstore.New(nil)
	r := &tfpilot.Request{ID: "req-mismatch", Project: "p", Environment: "dev", Module: "m", TargetOwner: "acme", TargetRepo: "infra"}
	r.Runs = runs.Dispatch(r.Runs, runs.Plan, runs.DispatchMeta{HeadSHA: "aaaa", Nonce: "n1"}, t0)
	r.Runs, _ = runs.AttachRunID(r.Runs, runs.Plan, 1, 77, "")
	if _, err := store.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := store.IndexRun(ctx, runs.Plan, 77, r.ID); err != nil {
		t.Fatal(err)
	}
	sink := tfpilot.NewWebhookSink(store, nil)
	for _, sha := range []string{"bbbb", "bbbb"} { // a redelivery records nothing twice
		if _, err := sink.HandleWorkflowRun(ctx, webhook.WorkflowRunEvent{DeliveryID: "d-" + sha, Kind: webhook.KindPlan, RunID: 77, HeadSHA: sha,
			Repo: webhook.Repo{Owner: "acme", Name: "infra"}, Facts: runs.RunFacts{ID: 77, Status: runs.StatusInProgress, HeadSHA: sha}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := store.GetRequest(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := runs.Current(got.Runs, runs.Plan); a.HeadSHA != "bbbb" || a.DispatchedSHA != "aaaa" {
		t.Fatalf("attempt after the delivery: %+v", a)
	}
	evs, _ := store.ListEvents(ctx, r.ID)
	n := 0
	for _, ev := range evs {
		if ev.Event == "plan_run_head_mismatch" && ev.Data["headSha"] == "bbbb" && ev.Data["dispatchedSha"] == "aaaa" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d plan_run_head_mismatch events, want 1: %+v", n, evs)
	}
}
