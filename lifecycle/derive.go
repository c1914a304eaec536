package lifecycle

import (
	"slices"
	"time"

	"github.com/tfpilot/tfpilot/runs"
)

// DefaultStaleDestroyAfter is how long a destroy with a known run id may
// stay in flight before it counts as failed.
const DefaultStaleDestroyAfter = 15 * time.Minute

// Facts are the parts of a request that its status derives from.
type Facts struct {
	// Runs is the request's run state.
	Runs runs.State
	// PROpen and PRMerged are the pull request's state.
	PROpen   bool
	PRMerged bool
	// MergedSHA is the merge commit, set when tfpilot merged the PR.
	MergedSHA string
	// Approved reports whether the request has the approval it needs.
	Approved bool
	// PlanApproved reports whether an approval names the current plan
	// (its saved plan digest and, for a plan pinned to a commit, that
	// commit). It matters for a merged request whose current plan is
	// pinned to its merge commit (re-planned because the merge commit
	// holds another tree than the plan saw): that plan needs its own
	// approval before the request is ready to apply.
	PlanApproved bool
}

// Rules are the tunable parts of derivation. The zero value uses the
// defaults.
type Rules struct {
	// StaleDestroyAfter is how long an in-flight destroy with a known run
	// id may run before it derives as failed. Zero means
	// [DefaultStaleDestroyAfter].
	StaleDestroyAfter time.Duration
}

// Derive returns the status of a request with facts f at time now, using
// the default [Rules].
func Derive(f Facts, now time.Time) Status { return Rules{}.Derive(f, now) }

// staleAfter is r's stale-destroy window.
func (r Rules) staleAfter() time.Duration {
	if r.StaleDestroyAfter <= 0 {
		return DefaultStaleDestroyAfter
	}
	return r.StaleDestroyAfter
}

// Derive returns the status of a request with facts f at time now. It
// reads only current attempts (INV-CORE-4) and is pure.
//
// A current apply or destroy attempt without a conclusion is in flight
// whatever its status says ([runs.Active]): applying, destroying. A
// destroy in flight is failed once stale: its run id is known, its
// dispatch time is known, and more than StaleDestroyAfter has passed
// since. A plan is planning only while GitHub reports it queued or
// running ([runs.Running]), or while the pull request is open. A merged
// request whose current plan is pinned to its merge commit (a re-plan of
// a merge that holds more than was planned) is planning, then plan_ready
// until that plan is approved ([Facts.PlanApproved]), then merged.
func (r Rules) Derive(f Facts, now time.Time) Status {
	st := IndexStatus(f)
	if st == Destroying && r.Stale(f, now) {
		return Failed
	}
	return st
}

// Stale reports whether f's current destroy attempt is in flight and
// stale at now: it has a run id and a known dispatch time more than
// r.StaleDestroyAfter before now. A destroy whose dispatch time is not
// known (zero) is never stale.
func (r Rules) Stale(f Facts, now time.Time) bool {
	d, ok := runs.Current(f.Runs, runs.Destroy)
	return ok && runs.Active(d) && d.RunID != 0 && !d.DispatchedAt.IsZero() && now.Sub(d.DispatchedAt) > r.staleAfter()
}

// IndexStatus returns the status of a request with facts f without the
// one rule that depends on the clock and on [Rules]: an in-flight destroy
// is [Destroying] however old it is. It is what a tfpilot Store keeps
// beside a request to filter lists by, and it changes only when the facts
// do.
// [Rules.Derive] differs from it only by turning a stale destroy
// [Failed]; [IndexStatuses] says which stored statuses to read for a
// status filter.
func IndexStatus(f Facts) Status {
	if d, ok := runs.Current(f.Runs, runs.Destroy); ok {
		switch {
		case runs.Failed(d):
			return Failed
		case d.Conclusion == runs.ConclusionSuccess:
			return Destroyed
		case runs.Active(d):
			return Destroying
		}
	}
	apply, hasApply := runs.Current(f.Runs, runs.Apply)
	plan, hasPlan := runs.Current(f.Runs, runs.Plan)
	switch {
	case hasApply && runs.Failed(apply):
		return Failed
	case hasPlan && runs.Failed(plan):
		return Failed
	case hasApply && runs.Active(apply):
		return Applying
	case hasApply && apply.Conclusion == runs.ConclusionSuccess:
		return Applied
	case !hasApply && hasPlan && f.MergedSHA != "" && plan.PinnedSHA == f.MergedSHA && !f.PlanApproved:
		// Merged, and re-planned at the merge commit: that plan is
		// running, or waits for its approval, before any apply.
		if plan.Conclusion == runs.ConclusionSuccess {
			return PlanReady
		}
		return Planning
	case f.PRMerged || f.MergedSHA != "":
		return Merged
	case f.Approved:
		return Approved
	case hasPlan && plan.Conclusion == runs.ConclusionSuccess:
		return PlanReady
	case hasPlan && runs.Running(plan), f.PROpen:
		return Planning
	}
	return RequestCreated
}

// IndexStatuses returns the stored statuses ([IndexStatus]) of the
// requests that may derive as one of want under some [Rules] at some
// time: want itself, plus [Destroying] when want holds [Failed] (a stale
// destroy) and [Failed] when want holds [Destroying] (a status stored by
// an older version that derived staleness at write time). A list filter
// reads these and re-derives each request at read time.
func IndexStatuses(want []Status) []Status {
	out := make([]Status, 0, len(want)+1)
	add := func(s Status) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, s := range want {
		add(s)
		switch s {
		case Failed:
			add(Destroying)
		case Destroying:
			add(Failed)
		}
	}
	return out
}
