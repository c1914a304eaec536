package tfpilot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store/memstore"
)

func TestComputeInsights_CountsWindowsRatesAndPercentiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	s := memstore.New(&memstore.Options{Now: func() time.Time { return now }})
	attempt := func(n int, conclusion string, dispatched, took time.Duration) runs.Attempt {
		d := now.Add(-dispatched)
		return runs.Attempt{Attempt: n, RunID: int64(n), Status: runs.StatusCompleted, Conclusion: conclusion, DispatchedAt: d, CompletedAt: d.Add(took)}
	}
	op := func(as ...runs.Attempt) runs.Op { return runs.Op{CurrentAttempt: len(as), Attempts: as} }
	// 20 applied requests, applies taking 1..20 minutes, completed within
	// the last day; plan attempt 1 failed for half of them.
	for i := 1; i <= 20; i++ {
		plan := op(attempt(1, "success", 3*time.Hour, time.Minute))
		if i%2 == 0 {
			plan = op(attempt(1, "failure", 4*time.Hour, time.Minute), attempt(2, "success", 3*time.Hour, time.Minute))
		}
		r := &tfpilot.Request{ID: fmt.Sprintf("a%02d", i), Project: "p", Environment: "dev", Module: "m", MergedSHA: "x",
			Runs: runs.State{Plan: plan, Apply: op(attempt(1, "success", 2*time.Hour, time.Duration(i)*time.Minute))}}
		if _, err := s.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// One request whose apply failed three days ago, one destroyed 2 h ago,
	// and one with an apply that completed 10 days ago (outside every window).
	extra := []*tfpilot.Request{
		{ID: "f", Project: "p", Environment: "dev", Module: "m", Runs: runs.State{Apply: op(attempt(1, "failure", 72*time.Hour, time.Minute))}},
		{ID: "d", Project: "p", Environment: "dev", Module: "m", Runs: runs.State{
			Apply: op(attempt(1, "success", 30*time.Hour, time.Minute)), Destroy: op(attempt(1, "success", 2*time.Hour, time.Minute))}},
		{ID: "old", Project: "p", Environment: "dev", Module: "m", Runs: runs.State{Apply: op(attempt(1, "success", 240*time.Hour, time.Minute))}},
	}
	for _, r := range extra {
		if _, err := s.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	in, err := tfpilot.ComputeInsights(ctx, s, now)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"total", float64(in.Total), 23},
		{"applied", float64(in.StatusCounts[lifecycle.Applied]), 21},
		{"failed", float64(in.StatusCounts[lifecycle.Failed]), 1},
		{"destroyed", float64(in.StatusCounts[lifecycle.Destroyed]), 1},
		{"failures 24h (10 failed plans)", float64(in.FailuresLast24h), 10},
		{"failures 7d (+ failed apply)", float64(in.FailuresLast7d), 11},
		{"applies 24h", float64(in.AppliesLast24h), 20},
		{"applies 7d (+ destroyed one's apply)", float64(in.AppliesLast7d), 21},
		{"destroys 24h", float64(in.DestroysLast24h), 1},
		{"destroys 7d", float64(in.DestroysLast7d), 1},
		// 21 applies of 1..20 min and 1 min: mean (210+1)/21 min.
		{"avg apply seconds", in.AvgApplySecondsLast7d, 211.0 / 21 * 60},
		// nearest rank 95% of 21 sorted = the 20th = 19 min.
		{"p95 apply seconds", in.P95ApplySecondsLast7d, 19 * 60},
		{"apply success rate", in.ApplySuccessRateLast7d, 21.0 / 22},
		{"plan success rate", in.PlanSuccessRateLast7d, 20.0 / 30},
	}
	for _, c := range checks {
		if diff := c.got - c.want; diff > 1e-9 || diff < -1e-9 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestComputeInsights_EmptyStoreHasNoRates(t *testing.T) {
	t.Parallel()
	in, err := tfpilot.ComputeInsights(context.Background(), memstore.New(nil), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if in.Total != 0 || in.ApplySuccessRateLast7d != -1 || in.PlanSuccessRateLast7d != -1 || in.P95ApplySecondsLast7d != 0 {
		t.Fatalf("%+v", in)
	}
}
