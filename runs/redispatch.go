package runs

import (
	"slices"
	"time"
)

// Redispatch returns s with attempt number attempt of kind k recorded as
// dispatched again at now, for the dispatch path to write (with a
// compare-and-swap, under the request's lock) before it repeats a
// workflow_dispatch whose first call started no run. Only an attempt with
// no run id and no conclusion is re-dispatched; it keeps its number and
// its nonce, so a late run of the first call and the run of the second
// both carry the nonce, and the second one found is a duplicate, never the
// attempt's run. The new DispatchedAt is the attempt's dispatch
// generation: a process that decided from an older read sees it moved and
// does not dispatch again. It never appends an attempt or moves
// CurrentAttempt (INV-CORE-3). It reports whether s changed.
func Redispatch(s State, k Kind, attempt int, now time.Time) (State, bool) {
	op := s.Op(k)
	idx := slices.IndexFunc(op.Attempts, func(a Attempt) bool { return a.Attempt == attempt })
	if idx < 0 {
		return s, false
	}
	a := op.Attempts[idx]
	if a.RunID != 0 || a.Conclusion != "" || a.DispatchedAt.Equal(now) {
		return s, false
	}
	a.DispatchedAt = now
	return s.withOp(k, replaceAttempt(op, idx, a)), true
}
