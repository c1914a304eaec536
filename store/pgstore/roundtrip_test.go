package pgstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/pgstore"
)

// TestHotCalls_OneRoundTripEachWhateverTheValues checks that the calls
// a webhook delivery and an API read make once per request or delivery
// cost one round trip each, also for ids the connection has not seen:
// their SQL text must not carry the values (a text per value is
// prepared in a round trip of its own, and fills pgx's statement cache,
// whose evictions deallocate and churn the server's memory).
func TestHotCalls_OneRoundTripEachWhateverTheValues(t *testing.T) {
	db, c := testenv.CountingPostgresDB(t)
	db.SetMaxOpenConns(1) // one connection: one statement cache
	s := pgstore.NewFromSQL(db, nil)
	ctx := t.Context()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.CreateRequest(ctx, &store.Request{ID: fmt.Sprint("rt-", i), Project: "p", Environment: "dev", Module: "m"}); err != nil {
			t.Fatal(err)
		}
	}
	claims := make([]time.Time, 3)
	for i := range claims {
		claim, err := s.ClaimDelivery(ctx, fmt.Sprint("done-", i), "workflow_run")
		if err != nil {
			t.Fatal(err)
		}
		claims[i] = claim
	}
	pr := func(i int) store.PRRef { return store.PRRef{Owner: "o", Repo: "r", Number: 100 + i} }
	calls := []struct {
		name string
		call func(i int) error
	}{
		{"ClaimDelivery", func(i int) error {
			_, err := s.ClaimDelivery(ctx, fmt.Sprint("delivery-", i), "workflow_run")
			return err
		}},
		{"GetRequest", func(i int) error {
			_, err := s.GetRequest(ctx, fmt.Sprint("rt-", i))
			return err
		}},
		// The outbox path and the API's writes: an event, the indexes, a
		// delivery's completion.
		{"AppendEvent", func(i int) error {
			_, err := s.AppendEvent(ctx, store.Event{RequestID: fmt.Sprint("rt-", i), ID: fmt.Sprint("ev-", i), Event: "plan_dispatched"})
			return err
		}},
		{"IndexRun", func(i int) error { return s.IndexRun(ctx, runs.Plan, int64(100+i), fmt.Sprint("rt-", i)) }},
		{"LookupRun", func(i int) error {
			_, err := s.LookupRun(ctx, runs.Plan, int64(100+i))
			return err
		}},
		{"IndexPR", func(i int) error { return s.IndexPR(ctx, pr(i), fmt.Sprint("rt-", i)) }},
		{"LookupPR", func(i int) error {
			_, err := s.LookupPR(ctx, pr(i))
			return err
		}},
		{"CompleteDelivery", func(i int) error {
			return s.CompleteDelivery(ctx, fmt.Sprint("done-", i), claims[i], "applied")
		}},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(0); err != nil { // warms the statement cache
				t.Fatal(err)
			}
			for i := 1; i < 3; i++ {
				before := c.Load()
				if err := tc.call(i); err != nil {
					t.Fatal(err)
				}
				if trips := c.Load() - before; trips != 1 {
					t.Errorf("%s with a value not seen before: %d round trips, want 1", tc.name, trips)
				}
			}
		})
	}
}
