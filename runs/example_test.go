package runs_test

import (
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot/runs"
)

// A plan is dispatched, GitHub reports its run id, and webhook facts
// arrive out of order: the patch is monotonic, so the late in_progress
// event does not undo the completion.
func Example() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var s runs.State
	s = runs.Dispatch(s, runs.Plan, runs.DispatchMeta{Actor: "alice", Nonce: "n-1"}, now)
	s, _ = runs.AttachRunID(s, runs.Plan, 1, 9001, "https://github.com/acme/infra/actions/runs/9001")

	completed := runs.RunFacts{Status: "completed", Conclusion: "success", UpdatedAt: now.Add(3 * time.Minute)}
	s, changed := runs.PatchByRunID(s, runs.Plan, 9001, completed)
	fmt.Println("completed changed:", changed)
	s, changed = runs.PatchByRunID(s, runs.Plan, 9001, runs.RunFacts{Status: "in_progress"})
	fmt.Println("late in_progress changed:", changed)

	cur, _ := runs.Current(s, runs.Plan)
	fmt.Println(cur.Attempt, cur.Status, cur.Conclusion, cur.CompletedAt.Sub(cur.DispatchedAt))
	fmt.Println("needs reconcile:", runs.NeedsReconcile(cur))
	// Output:
	// completed changed: true
	// late in_progress changed: false
	// 1 completed success 3m0s
	// needs reconcile: false
}
