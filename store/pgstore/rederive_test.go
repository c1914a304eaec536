package pgstore_test

import (
	"slices"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// TestRederive_StatusColumnFollowsTheFacts: a row whose status column an
// earlier version derived otherwise (here: an apply GitHub reported
// completed without a conclusion, which that version stored as merged;
// issue 13) is found by the status its facts derive after Rederive, which
// changes only the rows that need it.
func TestRederive_StatusColumnFollowsTheFacts(t *testing.T) {
	t.Parallel()
	s := openStore(t, testenv.PostgresDSN(t), time.Now)
	ctx := t.Context()
	r := &store.Request{ID: "r1", Project: "p", Environment: "dev", Module: "m", PR: &store.PullRequest{Number: 1, Merged: true}}
	r.Runs.Apply = runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{{Attempt: 1, RunID: 5, Status: runs.StatusCompleted}}}
	if _, err := s.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRequest(ctx, &store.Request{ID: "r2", Project: "p", Environment: "dev", Module: "m"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `UPDATE tfpilot_requests SET status = 'merged' WHERE id = 'r1'`); err != nil {
		t.Fatal(err)
	}
	list := func(st lifecycle.Status) []string {
		t.Helper()
		p, err := s.ListRequests(ctx, store.ListQuery{Statuses: []lifecycle.Status{st}})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range p.Requests {
			ids = append(ids, r.ID)
		}
		return ids
	}
	if got := list(lifecycle.Applying); len(got) != 0 {
		t.Fatalf("suite bug: applying lists %v before Rederive", got)
	}
	if n, err := s.Rederive(ctx); n != 1 || err != nil {
		t.Fatalf("Rederive = %d, %v; want 1 row changed", n, err)
	}
	if got := list(lifecycle.Applying); !slices.Equal(got, []string{"r1"}) {
		t.Fatalf("applying lists %v after Rederive", got)
	}
	if n, err := s.Rederive(ctx); n != 0 || err != nil {
		t.Fatalf("second Rederive = %d, %v; want nothing to change", n, err)
	}
}
