package tfpilot_test

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
)

// completePlanAsWorkflow completes the request's current plan run with the
// log workflows/plan.yml writes: the plan, the commit it checked out
// (plan_sha when the dispatch pinned one, else the run's head) and the
// saved plan's digest; then syncs, which reads the output.
func completePlanAsWorkflow(t *testing.T, e *env, id, digest string) runs.Attempt {
	t.Helper()
	plan := currentAttempt(t, e, id, runs.Plan)
	run, err := e.fake.Run(plan.RunID)
	if err != nil {
		t.Fatal(err)
	}
	checkedOut := run.HeadSHA
	if pin := run.Inputs[tfpilot.InputPlanSHA]; pin != "" {
		checkedOut = pin
	}
	log := "Plan: 1 to add, 0 to change, 0 to destroy.\ntfpilot-planned-commit: " + checkedOut + "\ntfpilot-plan-digest: " + digest + "\n"
	if err := e.fake.SetJobLogs(plan.RunID, log); err != nil {
		t.Fatal(err)
	}
	e.finish(id, runs.Plan, "success")
	return currentAttempt(t, e, id, runs.Plan)
}

// eventData returns the data of request id's events named name.
func eventData(t *testing.T, e *env, id, name string) []map[string]any {
	t.Helper()
	evs, err := e.store.ListEvents(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, ev := range evs {
		if ev.Event == name {
			out = append(out, ev.Data)
		}
	}
	return out
}

// TestApply_MergeCommitWithAnotherTreeIsPlannedAtItAndApprovedAgain: the
// base moved after the plan and the pull request was merged in GitHub
// (no rebuild by tfpilot), so the merge commit holds files the saved plan
// never saw. Once the merge is learnt, tfpilot plans the merge commit
// itself (pinned: plan_sha on the base branch), records why with both
// trees, and Apply refuses until that plan succeeded, reported the merge
// commit as what it planned, and was approved by a grant naming it; the
// apply then carries the new plan's run and digest, never the old one's.
func TestApply_MergeCommitWithAnotherTreeIsPlannedAtItAndApprovedAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	first := completePlanAsWorkflow(t, e, r.ID, digestA)
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	if _, err := e.fake.As("bob").Push("acme", "infra", "main", "someone else's change", map[string]string{"envs/dev/other.tf": "# other\n"}); err != nil {
		t.Fatal(err)
	}
	merge, err := e.fake.As("abe").Merge("acme", "infra", r.PR.Number)
	if err != nil {
		t.Fatal(err)
	}
	e.sync(r.ID)

	replan := currentAttempt(t, e, r.ID, runs.Plan)
	if replan.Attempt != 2 || replan.PinnedSHA != merge || replan.DispatchedSHA != merge || replan.Ref != "main" {
		t.Fatalf("plan attempt %+v, want attempt 2 pinned to merge commit %s on main", replan, merge)
	}
	run, err := e.fake.Run(replan.RunID)
	if err != nil || run.Inputs[tfpilot.InputPlanSHA] != merge || run.HeadBranch != "main" {
		t.Fatalf("re-plan run %+v (%v), want plan.yml on main with plan_sha %s", run, err, merge)
	}
	why := eventData(t, e, r.ID, "replan_after_merge")
	if len(why) != 1 || why[0]["mergedSha"] != merge || why[0]["plannedSha"] != first.HeadSHA ||
		why[0]["mergedTree"] == why[0]["plannedTree"] || why[0]["mergedTree"] == "" || why[0]["plannedTree"] == "" {
		t.Fatalf("replan_after_merge events %v, want one naming both commits and their two trees", why)
	}
	if got := e.status(r.ID); got != lifecycle.Planning {
		t.Fatalf("status %s while the merge commit is being planned, want planning", got)
	}
	if _, err := e.pilot.Apply(e.ctx, approver, r.ID); !errors.Is(err, tfpilot.ErrPrecondition) {
		t.Fatalf("Apply while the merge commit is planned = %v, want a precondition failure", err)
	}

	second := completePlanAsWorkflow(t, e, r.ID, digestB)
	if second.Output == nil || second.Output.PlannedCommit != merge {
		t.Fatalf("re-plan output %+v, want planned commit %s", second.Output, merge)
	}
	if got := e.status(r.ID); got != lifecycle.PlanReady {
		t.Fatalf("status %s once the merge commit's plan is ready, want plan_ready (it needs an approval)", got)
	}
	_, err = e.pilot.Apply(e.ctx, approver, r.ID)
	if !errors.Is(err, tfpilot.ErrPrecondition) || !strings.Contains(err.Error(), "merge commit") {
		t.Fatalf("Apply with only the old plan's approval = %v, want a precondition failure naming the merge commit's plan", err)
	}
	if n := len(e.runsOf("apply.yml")); n != 0 {
		t.Fatalf("%d apply runs before the merge commit's plan was approved", n)
	}
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	if got := e.status(r.ID); got != lifecycle.Merged {
		t.Fatalf("status %s once the merge commit's plan is approved, want merged (ready to apply)", got)
	}
	mustOK(t, e, e.pilot.Apply, approver, r.ID)
	applies := e.runsOf("apply.yml")
	if len(applies) != 1 || applies[0].Inputs[tfpilot.InputPlanDigest] != digestB ||
		applies[0].Inputs[tfpilot.InputPlanRunID] != strconv.FormatInt(second.RunID, 10) {
		t.Fatalf("apply runs %+v, want one applying the merge commit's plan %d (%s)", applies, second.RunID, digestB)
	}
	if n := len(e.runsOf("plan.yml")); n != 2 {
		t.Fatalf("%d plan runs, want 2: one merge commit is planned once", n)
	}
}

// TestApply_MergeTreeDecidesWhetherTheSavedPlanIsApplied: a merge
// commit whose tree is the planned commit's (the base did not move, or
// moved by a commit that changed no file) is applied with the saved plan
// as approved, no re-plan; one whose tree differs is not applied until
// its own plan is approved.
func TestApply_MergeTreeDecidesWhetherTheSavedPlanIsApplied(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		moveBase   map[string]string // pushed to main between plan and merge; nil: none
		wantReplan bool
	}{
		{"base unmoved", nil, false},
		{"base moved without changing a file", map[string]string{"README.md": "infra\n"}, false},
		{"base moved with another file", map[string]string{"envs/dev/other.tf": "# other\n"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := e.create("reports")
			plan := completePlanAsWorkflow(t, e, r.ID, digestA)
			mustOK(t, e, e.pilot.Approve, approver, r.ID)
			if tc.moveBase != nil {
				if _, err := e.fake.As("bob").Push("acme", "infra", "main", "base moves", tc.moveBase); err != nil {
					t.Fatal(err)
				}
			}
			mustOK(t, e, e.pilot.Merge, approver, r.ID)
			_, err := e.pilot.Apply(e.ctx, approver, r.ID)
			replanned := currentAttempt(t, e, r.ID, runs.Plan).Attempt != plan.Attempt
			if replanned != tc.wantReplan || (err == nil) == tc.wantReplan {
				t.Fatalf("Apply = %v, re-planned %v; want re-planned %v", err, replanned, tc.wantReplan)
			}
			if tc.wantReplan {
				if n := len(e.runsOf("apply.yml")); n != 0 {
					t.Fatalf("%d apply runs for a merge commit nobody planned", n)
				}
				return
			}
			applies := e.runsOf("apply.yml")
			if len(applies) != 1 || applies[0].Inputs[tfpilot.InputPlanDigest] != digestA ||
				applies[0].Inputs[tfpilot.InputPlanRunID] != strconv.FormatInt(plan.RunID, 10) {
				t.Fatalf("apply runs %+v, want one applying the approved plan %d (%s)", applies, plan.RunID, digestA)
			}
			if got := eventData(t, e, r.ID, "replan_after_merge"); len(got) != 0 {
				t.Fatalf("replan_after_merge %v for a merge commit with the planned tree", got)
			}
		})
	}
}

// TestReplan_ConcurrentMergesEachPlanTheirOwnMergeCommit: two requests on
// one base, both merged after the base moved. Each merge commit is planned
// by a plan pinned to it, although both plans run on the base branch
// whose head is by then the later merge (workflow_dispatch takes a
// branch, not a commit): the run's head_sha is not what was planned, and
// each plan is accepted because its log reports its own merge commit.
// Each request then applies its own plan.
func TestReplan_ConcurrentMergesEachPlanTheirOwnMergeCommit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *tfpilot.Config, _ *tfpilot.Store) {
		c.Targets = tfpilot.StaticTargets{
			"payments/dev": {Owner: "acme", Repo: "infra", EnvPath: "envs/dev"},
			"payments/qa":  {Owner: "acme", Repo: "infra", EnvPath: "envs/qa"},
		}
	})
	var reqs []*tfpilot.Request
	for _, envName := range []string{"dev", "qa"} {
		r, err := e.pilot.Create(e.ctx, dev, tfpilot.CreateInput{Project: "payments", Environment: envName, Module: "s3_bucket",
			Config: map[string]any{"bucket_name": "reports-" + envName}})
		if err != nil {
			t.Fatal(err)
		}
		completePlanAsWorkflow(t, e, r.ID, digestA)
		mustOK(t, e, e.pilot.Approve, approver, r.ID)
		reqs = append(reqs, r.Request)
	}
	if _, err := e.fake.As("bob").Push("acme", "infra", "main", "someone else's change", map[string]string{"envs/shared/other.tf": "# other\n"}); err != nil {
		t.Fatal(err)
	}
	merges := map[string]string{}
	for _, r := range reqs { // both merged before either is re-planned
		m, err := e.fake.As("abe").Merge("acme", "infra", r.PR.Number)
		if err != nil {
			t.Fatal(err)
		}
		merges[r.ID] = m
	}
	baseHead, err := e.fake.Branch("acme", "infra", "main")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		e.sync(r.ID)
	}
	digests := map[string]string{reqs[0].ID: digestA, reqs[1].ID: digestB}
	for _, r := range reqs {
		replan := completePlanAsWorkflow(t, e, r.ID, digests[r.ID])
		if replan.PinnedSHA != merges[r.ID] || replan.HeadSHA != baseHead || runs.PlannedCommit(replan) != merges[r.ID] {
			t.Fatalf("%s: plan %+v; want pinned to and planning its merge commit %s while its run's head is the base head %s",
				r.ID, replan, merges[r.ID], baseHead)
		}
		if got := e.status(r.ID); got != lifecycle.PlanReady {
			t.Fatalf("%s: status %s, want plan_ready", r.ID, got)
		}
		mustOK(t, e, e.pilot.Approve, approver, r.ID)
		mustOK(t, e, e.pilot.Apply, approver, r.ID)
		var apply githubtest.Run
		for _, run := range e.runsOf("apply.yml") {
			if run.Inputs["request_id"] == r.ID {
				apply = run
			}
		}
		if apply.Inputs[tfpilot.InputPlanRunID] != strconv.FormatInt(replan.RunID, 10) || apply.Inputs[tfpilot.InputPlanDigest] != digests[r.ID] {
			t.Fatalf("%s: apply inputs %v, want its own merge commit's plan %d (%s)", r.ID, apply.Inputs, replan.RunID, digests[r.ID])
		}
		e.finish(r.ID, runs.Apply, "success")
	}
}

// TestReplan_APlanThatPlannedAnotherCommitIsRefused: a plan pinned to the
// merge commit whose log reports another commit (a workflow that ignores
// plan_sha) is not a plan of the merge commit: it is recorded as a head
// mismatch and cannot be approved or applied.
func TestReplan_APlanThatPlannedAnotherCommitIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	completePlanAsWorkflow(t, e, r.ID, digestA)
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	if _, err := e.fake.As("bob").Push("acme", "infra", "main", "someone else's change", map[string]string{"envs/dev/other.tf": "# other\n"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.As("abe").Merge("acme", "infra", r.PR.Number); err != nil {
		t.Fatal(err)
	}
	e.sync(r.ID)
	replan := currentAttempt(t, e, r.ID, runs.Plan)
	// The run checked out its branch's head instead of plan_sha.
	if err := e.fake.SetJobLogs(replan.RunID, "Plan: 0 to add, 0 to change, 0 to destroy.\ntfpilot-planned-commit: "+
		strings.Repeat("0", 40)+"\ntfpilot-plan-digest: "+digestB+"\n"); err != nil {
		t.Fatal(err)
	}
	e.finish(r.ID, runs.Plan, "success")
	if got := eventData(t, e, r.ID, "plan_run_head_mismatch"); len(got) != 1 || got[0]["pinnedSha"] != replan.PinnedSHA {
		t.Fatalf("plan_run_head_mismatch events %v, want one naming the pinned commit", got)
	}
	for _, op := range []struct {
		name string
		fn   func(ctxT, tfpilot.Caller, string) (tfpilot.View, error)
	}{{"Approve", e.pilot.Approve}, {"Apply", e.pilot.Apply}} {
		if _, err := op.fn(e.ctx, approver, r.ID); !errors.Is(err, tfpilot.ErrPrecondition) || !strings.Contains(err.Error(), "planned") {
			t.Fatalf("%s = %v, want a precondition failure: the plan is of another commit", op.name, err)
		}
	}
}

// mergedOntoAMovedBase returns a planned (digestA) and approved request
// whose pull request was then merged in GitHub after the base moved, and
// the merge commit.
func mergedOntoAMovedBase(t *testing.T, e *env) (*tfpilot.Request, string) {
	t.Helper()
	r := e.create("reports")
	completePlanAsWorkflow(t, e, r.ID, digestA)
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	if _, err := e.fake.As("bob").Push("acme", "infra", "main", "someone else's change", map[string]string{"envs/dev/other.tf": "# other\n"}); err != nil {
		t.Fatal(err)
	}
	merge, err := e.fake.As("abe").Merge("acme", "infra", r.PR.Number)
	if err != nil {
		t.Fatal(err)
	}
	return r, merge
}

// TestReplan_MergeSeenByTheWebhookIsPlannedAtOnce: the merged
// pull_request delivery alone (no Sync, no Apply) starts the plan of a
// merge commit whose tree differs from the planned one.
func TestReplan_MergeSeenByTheWebhookIsPlannedAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hooked(t, e)
	r, merge := mergedOntoAMovedBase(t, e)
	e.flush()
	replan := currentAttempt(t, e, r.ID, runs.Plan)
	if replan.Attempt != 2 || replan.PinnedSHA != merge || replan.RunID == 0 {
		t.Fatalf("plan attempt %+v, want attempt 2 pinned to merge commit %s, with its run", replan, merge)
	}
	if got := e.status(r.ID); got != lifecycle.Planning {
		t.Fatalf("status %s, want planning", got)
	}
}

// TestReplan_OnePlanPerMergeCommitAcrossProcesses: two processes on one
// store learn the same merge at once, through Sync (Apply, called at the
// same time, is refused until Sync recorded the merge, then compares the
// trees itself): the merge commit is planned once (one attempt, one run,
// one replan_after_merge) and no apply starts.
func TestReplan_OnePlanPerMergeCommitAcrossProcesses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r, merge := mergedOntoAMovedBase(t, e)
	procs := []*tfpilot.Pilot{e.pilot, e.process(t, e.store)}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p := procs[i%2]
			if i%4 < 2 {
				_, _ = p.Sync(e.ctx, dev, r.ID)
			} else {
				_, _ = p.Apply(e.ctx, approver, r.ID)
			}
		}(i)
	}
	wg.Wait()
	doc := e.doc(r.ID)
	if n := len(doc.Runs.Plan.Attempts); n != 2 {
		t.Fatalf("%d plan attempts, want 2: the merge commit is planned once", n)
	}
	if replan := currentAttempt(t, e, r.ID, runs.Plan); replan.PinnedSHA != merge {
		t.Fatalf("current plan %+v, want pinned to %s", replan, merge)
	}
	if n := len(e.runsOf("plan.yml")); n != 2 {
		t.Fatalf("%d plan runs, want 2", n)
	}
	if n := len(eventData(t, e, r.ID, "replan_after_merge")); n != 1 {
		t.Fatalf("%d replan_after_merge events, want 1", n)
	}
	if n := len(e.runsOf("apply.yml")); n != 0 {
		t.Fatalf("%d apply runs for a merge commit nobody approved", n)
	}
}

// TestReplan_AFailedPlanOfTheMergeCommitCanBePlannedAgain: after the
// merge, Plan is refused, except for the plan of a merge commit that was
// re-planned: when that plan failed, Plan runs it again, pinned to the
// same merge commit, and its success, once approved, is applied.
func TestReplan_AFailedPlanOfTheMergeCommitCanBePlannedAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r, merge := mergedOntoAMovedBase(t, e)
	e.sync(r.ID)
	e.finish(r.ID, runs.Plan, "failure")
	if got := e.status(r.ID); got != lifecycle.Failed {
		t.Fatalf("status %s after the merge commit's plan failed, want failed", got)
	}
	mustOK(t, e, e.pilot.Plan, dev, r.ID)
	again := currentAttempt(t, e, r.ID, runs.Plan)
	if again.Attempt != 3 || again.PinnedSHA != merge || again.Ref != "main" {
		t.Fatalf("plan attempt %+v, want attempt 3 pinned to merge commit %s on main", again, merge)
	}
	done := completePlanAsWorkflow(t, e, r.ID, digestB)
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	mustOK(t, e, e.pilot.Apply, approver, r.ID)
	if applies := e.runsOf("apply.yml"); len(applies) != 1 || applies[0].Inputs[tfpilot.InputPlanRunID] != strconv.FormatInt(done.RunID, 10) {
		t.Fatalf("apply runs %+v, want one applying plan run %d", applies, done.RunID)
	}
	if _, err := e.pilot.Plan(e.ctx, dev, r.ID); !errors.Is(err, tfpilot.ErrPrecondition) {
		t.Fatalf("Plan once applying = %v, want a precondition failure", err)
	}
}
