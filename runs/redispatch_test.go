package runs_test

import (
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/runs"
)

// TestRedispatch_OnlyStrandedAttemptsNeverAppends_INV_CORE_3: a
// re-dispatch moves the dispatch generation of an attempt without run id
// or conclusion, keeps its nonce and number, and never appends an attempt
// or moves CurrentAttempt.
func TestRedispatch_OnlyStrandedAttemptsNeverAppends_INV_CORE_3(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	later := t0.Add(5 * time.Minute)
	base := runs.Dispatch(runs.State{}, runs.Apply, runs.DispatchMeta{Nonce: "n1", HeadSHA: "abc"}, t0)
	attached, _ := runs.AttachRunID(base, runs.Apply, 1, 42, "")
	concluded, _ := runs.FailDispatch(base, runs.Apply, 1)
	cases := []struct {
		name    string
		s       runs.State
		attempt int
		now     time.Time
		want    bool
	}{
		{"stranded", base, 1, later, true},
		{"same instant is the same generation", base, 1, t0, false},
		{"has a run", attached, 1, later, false},
		{"concluded", concluded, 1, later, false},
		{"no such attempt", base, 2, later, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, changed := runs.Redispatch(c.s, runs.Apply, c.attempt, c.now)
			if changed != c.want {
				t.Fatalf("changed = %v, want %v", changed, c.want)
			}
			before, after := c.s.Op(runs.Apply), got.Op(runs.Apply)
			if len(after.Attempts) != len(before.Attempts) || after.CurrentAttempt != before.CurrentAttempt {
				t.Fatalf("attempts %d→%d, current %d→%d", len(before.Attempts), len(after.Attempts), before.CurrentAttempt, after.CurrentAttempt)
			}
			a := after.Attempts[0]
			switch {
			case changed && (!a.DispatchedAt.Equal(c.now) || a.Nonce != "n1" || a.Attempt != 1 || a.HeadSHA != "abc"):
				t.Fatalf("re-dispatched attempt %+v", a)
			case !changed && a != before.Attempts[0]:
				t.Fatalf("unchanged state modified: %+v", a)
			}
			if c.s.Apply.Attempts[0].DispatchedAt != t0 {
				t.Fatal("the input state was modified")
			}
		})
	}
}
