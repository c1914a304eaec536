package lifecycle_test

import (
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
)

func ExampleDerive() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var s runs.State
	s = runs.Dispatch(s, runs.Plan, runs.DispatchMeta{}, now)
	f := lifecycle.Facts{Runs: s, PROpen: true}
	fmt.Println(lifecycle.Derive(f, now))

	f.Runs, _ = runs.AttachRunID(f.Runs, runs.Plan, 1, 77, "")
	f.Runs, _ = runs.PatchByRunID(f.Runs, runs.Plan, 77, runs.RunFacts{Status: "completed", Conclusion: "success", UpdatedAt: now})
	fmt.Println(lifecycle.Derive(f, now))

	f.Approved = true
	fmt.Println(lifecycle.Derive(f, now))
	// Output:
	// planning
	// plan_ready
	// approved
}

func ExamplePollPolicy_Interval() {
	p := lifecycle.PollPolicy{Active: 5 * time.Second}
	fmt.Println(p.Interval(lifecycle.Applying, lifecycle.PollView{}))
	fmt.Println(p.Interval(lifecycle.Approved, lifecycle.PollView{}))
	fmt.Println(p.Interval(lifecycle.Applied, lifecycle.PollView{}))
	// Output:
	// 5s
	// 30s
	// 0s
}
