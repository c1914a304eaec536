package pgstore_test

import (
	"fmt"
	"testing"

	"github.com/tfpilot/tfpilot/internal/testenv"
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
