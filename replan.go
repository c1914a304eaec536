package tfpilot

import (
	"context"
	"errors"
	"fmt"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/runs"
)

// A merge commit that holds more than was planned is planned again.
//
// Apply applies the saved plan that was approved (see approval.go). That
// plan is of the pull request's head; the merge commit is what the base
// holds afterwards. When the base moved between the plan and the merge
// (the pull request was merged in GitHub without tfpilot rebuilding the
// branch on its base, see rebase.go), the merge commit's tree holds files
// the plan never saw, and applying the saved plan would apply something
// other than what was merged. So, once a request is merged and before it
// is applied, tfpilot compares the tree of the merge commit with the tree
// of the commit its current plan planned ([githubx.Client.CommitTree]):
//
//   - the same tree: the saved plan is a plan of what was merged, and Apply
//     applies it as approved;
//   - another tree: tfpilot dispatches a plan pinned to the merge commit
//     (on the base branch, with the plan_sha input naming the merge
//     commit: workflow_dispatch takes a branch, not a commit, and the base
//     keeps moving) and records "replan_after_merge" with both commits and
//     both trees. That plan needs its own approval: a grant that names the
//     pinned commit and the new plan's digest ([ApprovalGrant.PlannedSHA]).
//     Until then the request derives as planning, then plan_ready, and
//     Apply refuses.
//
// A plan pinned to a commit is accepted only once its log reported the
// commit it checked out ("tfpilot-planned-commit: <sha>", stored as
// output.plannedCommit) and that commit is the pin ([runs.PlannedCommit],
// [runs.HeadMismatch]); the run's own head_sha is the base branch's head,
// which says nothing about what it planned.
//
// The comparison runs where a merge is learnt: after Merge, in Sync, on a
// merged pull_request delivery, and in Apply itself before any apply is
// dispatched, so a merge seen by nothing else is still checked. The
// re-plan is decided and recorded under the request's lock on a re-read
// (one plan per merge commit across processes), and dispatched by the
// crash-safe protocol (a lost dispatch is found or repeated by Sync, with
// the same inputs).

// mergeCheckDue returns the current plan of r when r's merge commit must
// be compared with it: r is merged with a known merge commit, nothing was
// applied or destroyed yet, and the current plan is of another commit
// than the merge commit and not already a plan pinned to it.
func mergeCheckDue(r *Request) (runs.Attempt, bool) {
	if !merged(r) || r.MergedSHA == "" {
		return runs.Attempt{}, false
	}
	if _, ok := runs.Current(r.Runs, runs.Apply); ok {
		return runs.Attempt{}, false
	}
	if _, ok := runs.Current(r.Runs, runs.Destroy); ok {
		return runs.Attempt{}, false
	}
	plan, ok := runs.Current(r.Runs, runs.Plan)
	if !ok || plan.PinnedSHA == r.MergedSHA {
		return runs.Attempt{}, false
	}
	planned := runs.PlannedCommit(plan)
	if planned == "" || planned == r.MergedSHA {
		return runs.Attempt{}, false
	}
	return plan, true
}

// replannedAtMerge reports whether r's current plan is the plan pinned to
// its merge commit and nothing was applied yet: that plan is what the
// next approval approves and Apply applies.
func replannedAtMerge(r *Request) bool {
	plan, ok := runs.Current(r.Runs, runs.Plan)
	if !ok || !merged(r) || r.MergedSHA == "" || plan.PinnedSHA != r.MergedSHA {
		return false
	}
	_, applied := runs.Current(r.Runs, runs.Apply)
	return !applied
}

// mergeTrees is the outcome of comparing a merge commit with the commit
// its plan planned.
type mergeTrees struct {
	plannedSHA, plannedTree string
	mergedTree              string
}

func (m mergeTrees) differ() bool { return m.plannedTree != m.mergedTree }

// compareMergeTrees reads the trees of r's merge commit and of the commit
// plan planned. Commits are immutable: the answer is the same in every
// process and at any time.
func (p *Pilot) compareMergeTrees(ctx context.Context, r *Request, plan runs.Attempt) (mergeTrees, error) {
	m := mergeTrees{plannedSHA: runs.PlannedCommit(plan)}
	var err error
	if m.plannedTree, err = p.gh.CommitTree(ctx, repoOf(r), m.plannedSHA); err != nil {
		return m, fmt.Errorf("tfpilot: tree of planned commit %s of %q: %w", short(m.plannedSHA), r.ID, err)
	}
	if m.mergedTree, err = p.gh.CommitTree(ctx, repoOf(r), r.MergedSHA); err != nil {
		return m, fmt.Errorf("tfpilot: tree of merge commit %s of %q: %w", short(r.MergedSHA), r.ID, err)
	}
	return m, nil
}

// replanAfterMerge compares r's merge commit with its current plan and,
// when their trees differ, records and dispatches a plan pinned to the
// merge commit, under the lock h holds. It reports whether it did. The
// decision is taken again on the locked write's own read (the same plan
// attempt is still current, nothing applied, no re-plan recorded), so a
// concurrent Merge, Sync, webhook or Apply re-plans a merge commit once.
func (p *Pilot) replanAfterMerge(ctx context.Context, r *Request, h string, who Principal) (*Request, bool, error) {
	plan, due := mergeCheckDue(r)
	if !due {
		return r, false, nil
	}
	trees, err := p.compareMergeTrees(ctx, r, plan)
	if err != nil || !trees.differ() {
		return r, false, err
	}
	nonce := newToken(20)
	var attempt int
	out, err := p.mutateHeld(ctx, r.ID, h, func(r *Request) error {
		cur, due := mergeCheckDue(r)
		if !due || cur.Attempt != plan.Attempt {
			return errStale
		}
		r.Runs = runs.Dispatch(r.Runs, runs.Plan, runs.DispatchMeta{
			HeadSHA: r.MergedSHA, Ref: r.TargetBase, Actor: who.Login, Nonce: nonce, Pinned: true}, p.now())
		attempt = r.Runs.Op(runs.Plan).CurrentAttempt
		p.stage(r, "replan_after_merge", who, map[string]any{
			"mergedSha": r.MergedSHA, "mergedTree": trees.mergedTree,
			"plannedSha": trees.plannedSHA, "plannedTree": trees.plannedTree,
			"supersedes": plan.Attempt, "attempt": attempt})
		p.stage(r, "plan_dispatched", who, map[string]any{
			"attempt": attempt, "ref": r.TargetBase, "headSha": r.MergedSHA, "planSha": r.MergedSHA})
		return nil
	})
	switch {
	case errors.Is(err, errStale):
		fresh, gerr := p.store.GetRequest(ctx, r.ID)
		return fresh, false, gerr
	case err != nil:
		return nil, false, err
	}
	p.log.InfoContext(ctx, "tfpilot: the merge commit holds another tree than the plan; planning the merge commit",
		"request", r.ID, "merged", r.MergedSHA, "planned", trees.plannedSHA, "attempt", attempt)
	out, err = p.startRun(ctx, out, h, runs.Plan, attempt)
	return out, true, err
}

// planMergeAgain dispatches another plan pinned to r's merge commit, for
// Plan after the plan of the merge commit failed (or a workflow without
// plan_sha refused it, until the current plan.yml is installed). h holds
// r's lock; Plan's gates checked that r is re-planned at its merge commit
// and that no plan is running.
func (p *Pilot) planMergeAgain(ctx context.Context, r *Request, h string, who Principal) (*Request, error) {
	nonce := newToken(20)
	var attempt int
	out, err := p.mutateHeld(ctx, r.ID, h, func(r *Request) error {
		if !replannedAtMerge(r) {
			return gate(ActionPlan, "the request is no longer re-planned at its merge commit")
		}
		r.Runs = runs.Dispatch(r.Runs, runs.Plan, runs.DispatchMeta{
			HeadSHA: r.MergedSHA, Ref: r.TargetBase, Actor: who.Login, Nonce: nonce, Pinned: true}, p.now())
		attempt = r.Runs.Op(runs.Plan).CurrentAttempt
		p.stage(r, "plan_dispatched", who, map[string]any{
			"attempt": attempt, "ref": r.TargetBase, "headSha": r.MergedSHA, "planSha": r.MergedSHA})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p.startRun(ctx, out, h, runs.Plan, attempt)
}

// followMerge is the step of Sync (and of a merged pull_request delivery)
// that re-plans a merge commit whose tree differs from the planned one.
// The trees are compared without the lock; only a re-plan takes it (and
// is skipped while another operation holds it: that operation, or the
// next Sync, does it).
func (p *Pilot) followMerge(ctx context.Context, c Caller, r *Request) (*Request, error) {
	plan, due := mergeCheckDue(r)
	if !due || r.Lock.Active(p.now()) {
		return r, nil
	}
	trees, err := p.compareMergeTrees(ctx, r, plan)
	if err != nil || !trees.differ() {
		return r, err
	}
	h := holder(Principal{Login: "sync"}, ActionSync)
	locked, err := p.acquire(ctx, r.ID, ActionSync, h, nil)
	if errors.Is(err, ErrLocked) {
		return r, nil // someone else is working on it
	}
	if err != nil {
		return nil, err
	}
	_, _, err = p.replanAfterMerge(ctx, locked, h, Principal{Login: c.Principal.Login})
	p.release(ctx, r.ID, h)
	if err != nil {
		return nil, err
	}
	return p.store.GetRequest(ctx, r.ID)
}

// pinnedPlanOK checks a successful plan pinned to a commit: its log
// reported the commit it planned, and that commit is the pin.
func pinnedPlanOK(op Action, plan runs.Attempt) error {
	planned := runs.PlannedCommit(plan)
	switch {
	case planned == "":
		return gate(op, "plan attempt %d was asked to plan %s and has not reported the commit it planned (tfpilot-planned-commit in its log; install the current workflows/plan.yml)",
			plan.Attempt, short(plan.PinnedSHA))
	case planned != plan.PinnedSHA:
		return gate(op, "plan attempt %d was asked to plan %s but its run planned %s: a plan of another commit is not a plan of this one",
			plan.Attempt, short(plan.PinnedSHA), short(planned))
	}
	return nil
}

// planInputs are the inputs a plan attempt a sends beyond the request id
// and the nonce: the commit it is pinned to, if any. They are derived from
// the stored attempt, so a dispatch repeated by Sync sends the same.
func planInputs(a runs.Attempt) map[string]string {
	if a.PinnedSHA == "" {
		return nil
	}
	return map[string]string{githubx.InputPlanSHA: a.PinnedSHA}
}
