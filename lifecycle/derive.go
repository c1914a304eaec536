package lifecycle

import (
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

// Derive returns the status of a request with facts f at time now. It
// reads only current attempts (INV-CORE-4) and is pure.
func (r Rules) Derive(f Facts, now time.Time) Status {
	stale := r.StaleDestroyAfter
	if stale <= 0 {
		stale = DefaultStaleDestroyAfter
	}
	if d, ok := runs.Current(f.Runs, runs.Destroy); ok {
		switch {
		case runs.Failed(d):
			return Failed
		case d.Conclusion == runs.ConclusionSuccess:
			return Destroyed
		case runs.Active(d):
			if d.RunID != 0 && now.Sub(d.DispatchedAt) > stale {
				return Failed
			}
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
	case f.PRMerged || f.MergedSHA != "":
		return Merged
	case f.Approved:
		return Approved
	case hasPlan && plan.Conclusion == runs.ConclusionSuccess:
		return PlanReady
	case hasPlan && runs.Active(plan), f.PROpen:
		return Planning
	}
	return RequestCreated
}
