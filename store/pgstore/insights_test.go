package pgstore_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// TestInsights_UnknownDoneUntilIsReadNotSkipped: a row whose done_until
// is not known (written before migration 0005, or by an import) still
// counts its completions, and Rederive fills the column in.
func TestInsights_UnknownDoneUntilIsReadNotSkipped(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s := openStore(t, testenv.PostgresDSN(t), func() time.Time { return now })
	ctx := t.Context()
	r := &store.Request{ID: "r1", Project: "p", Environment: "dev", Module: "m", MergedSHA: "abc"}
	r.Runs.Apply = runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{{Attempt: 1, RunID: 5, Status: runs.StatusCompleted,
		Conclusion: runs.ConclusionSuccess, DispatchedAt: now.Add(-2 * time.Hour), CompletedAt: now.Add(-time.Hour)}}}
	if _, err := s.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `UPDATE tfpilot_requests SET done_until = NULL`); err != nil {
		t.Fatal(err)
	}
	in, err := store.ComputeInsights(ctx, s, now)
	if err != nil {
		t.Fatal(err)
	}
	if in.AppliesLast24h != 1 || in.AvgApplySecondsLast7d != 3600 {
		t.Errorf("with done_until unknown: %d applies in 24 h, average %v s; want 1 and 3600", in.AppliesLast24h, in.AvgApplySecondsLast7d)
	}
	if _, err := s.Rederive(ctx); err != nil {
		t.Fatal(err)
	}
	var done time.Time
	if err := s.DB().QueryRowContext(ctx, `SELECT done_until FROM tfpilot_requests WHERE id = 'r1'`).Scan(&done); err != nil {
		t.Fatalf("done_until after Rederive: %v", err)
	}
	if !done.Equal(now.Add(-time.Hour)) {
		t.Errorf("done_until after Rederive = %v, want %v", done, now.Add(-time.Hour))
	}
	again, err := store.ComputeInsights(ctx, s, now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, again) {
		t.Errorf("insights changed with done_until filled in:\nbefore %+v\nafter  %+v", in, again)
	}
}
