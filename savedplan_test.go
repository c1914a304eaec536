package tfpilot_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/runs"
)

// planWithDigest completes the request's current plan run with a log in
// which the plan workflow reports the saved plan's digest, and syncs (which
// reads the output onto the attempt).
func planWithDigest(t *testing.T, e *env, id, digest string) runs.Attempt {
	t.Helper()
	plan := currentAttempt(t, e, id, runs.Plan)
	log := "Plan: 1 to add, 0 to change, 0 to destroy.\ntfpilot-plan-digest: " + digest + "\n"
	if err := e.fake.SetJobLogs(plan.RunID, log); err != nil {
		t.Fatal(err)
	}
	e.finish(id, runs.Plan, "success")
	a := currentAttempt(t, e, id, runs.Plan)
	if a.Output == nil || a.Output.PlanDigest != digest {
		t.Fatalf("plan output %+v, want digest %s", a.Output, digest)
	}
	return a
}

const (
	digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	digestB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// TestApply_DispatchCarriesTheApprovedPlansRunAndDigest: the approval
// names the digest of the saved plan its approver saw, and the apply
// dispatch passes that plan's run id and digest to the apply workflow,
// which applies that file and nothing else.
func TestApply_DispatchCarriesTheApprovedPlansRunAndDigest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	plan := planWithDigest(t, e, r.ID, digestA)
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	got := e.doc(r.ID)
	if len(got.Approval.Grants) != 1 || got.Approval.Grants[0].PlanDigest != digestA {
		t.Fatalf("grants %+v, want one naming %s", got.Approval.Grants, digestA)
	}
	mustOK(t, e, e.pilot.Merge, approver, r.ID)
	mustOK(t, e, e.pilot.Apply, approver, r.ID)
	applies := e.runsOf("apply.yml")
	if len(applies) != 1 {
		t.Fatalf("%d apply runs, want 1", len(applies))
	}
	in := applies[0].Inputs
	if in[tfpilot.InputPlanRunID] != strconv.FormatInt(plan.RunID, 10) || in[tfpilot.InputPlanDigest] != digestA {
		t.Fatalf("apply inputs %v, want plan_run_id %d and plan_digest %s", in, plan.RunID, digestA)
	}
}

// TestApply_ApprovalOfAnotherPlanDigestDoesNotCount: an approval given for
// one saved plan does not let a later plan of the same commit be merged or
// applied; merged anyway (in GitHub's UI), Apply refuses and starts no run.
func TestApply_ApprovalOfAnotherPlanDigestDoesNotCount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	planWithDigest(t, e, r.ID, digestA)
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	mustOK(t, e, e.pilot.Plan, dev, r.ID) // a new plan of the same head
	planWithDigest(t, e, r.ID, digestB)
	if _, err := e.pilot.Merge(e.ctx, approver, r.ID); !errors.Is(err, tfpilot.ErrPrecondition) {
		t.Fatalf("Merge = %v, want a precondition failure (the approval is for another plan)", err)
	}
	if _, err := e.fake.As("abe").Merge("acme", "infra", r.PR.Number); err != nil {
		t.Fatal(err)
	}
	e.sync(r.ID)
	_, err := e.pilot.Apply(e.ctx, approver, r.ID)
	if !errors.Is(err, tfpilot.ErrPrecondition) || !strings.Contains(err.Error(), "no approval names the plan") {
		t.Fatalf("Apply = %v, want a precondition failure naming the plan's digest", err)
	}
	if n := len(e.runsOf("apply.yml")); n != 0 {
		t.Fatalf("%d apply runs started for a plan nobody approved", n)
	}
}

// TestApproval_GitHubReviewNamesThePlanItSaw: a GitHub review approves the
// saved plan current when tfpilot recorded it; after a new plan of the
// same head it no longer lets the request merge, and a new review of the
// new plan does.
func TestApproval_GitHubReviewNamesThePlanItSaw(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	planWithDigest(t, e, r.ID, digestA)
	if err := e.fake.As("abe").Approve("acme", "infra", r.PR.Number); err != nil {
		t.Fatal(err)
	}
	e.sync(r.ID)
	if g := e.doc(r.ID).Approval.Grants; len(g) != 1 || g[0].PlanDigest != digestA || g[0].Source != tfpilot.ApprovalSourceReview {
		t.Fatalf("grants %+v, want abe's review naming %s", g, digestA)
	}
	mustOK(t, e, e.pilot.Plan, dev, r.ID)
	planWithDigest(t, e, r.ID, digestB)
	if _, err := e.pilot.Merge(e.ctx, approver, r.ID); !errors.Is(err, tfpilot.ErrPrecondition) {
		t.Fatalf("Merge = %v, want a precondition failure (the review approved another plan)", err)
	}
	if err := e.fake.As("abe").Approve("acme", "infra", r.PR.Number); err != nil {
		t.Fatal(err)
	}
	e.sync(r.ID)
	mustOK(t, e, e.pilot.Merge, approver, r.ID)
}
