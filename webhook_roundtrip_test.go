package tfpilot_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store/pgstore"
	"github.com/tfpilot/tfpilot/webhook/webhooktest"
)

// newCountingPGStore is newPGStore whose connections count the
// statements they send.
func newCountingPGStore(t *testing.T) (*pgstore.Store, *testenv.RoundTrips) {
	t.Helper()
	db, c := testenv.CountingPostgresDB(t)
	store := pgstore.NewFromSQL(db, nil)
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return store, c
}

// TestWebhook_PgDeliveryTakesAtMostThreeRoundTrips counts the round
// trips (statements, and statements prepared on the way) a
// state-changing delivery costs through pgstore: the claim, the run
// index lookup with the read, and one write of the request, its event
// and the delivery's completion. The delivery's effects are checked too:
// the attempt completed, the event recorded once, the delivery
// completed with the sink's outcome, and nothing left in the outbox.
func TestWebhook_PgDeliveryTakesAtMostThreeRoundTrips(t *testing.T) {
	store, count := newCountingPGStore(t)
	ctx := context.Background()
	h := newHook(t, store)
	seed := func(n int64) string {
		id := fmt.Sprint("rt-", n)
		r := &tfpilot.Request{ID: id, Project: "payments", Environment: "dev", Module: "s3_bucket",
			TargetOwner: testOwner, TargetRepo: testRepo}
		r.Runs = runs.Dispatch(r.Runs, runs.Plan, runs.DispatchMeta{}, t0)
		r.Runs, _ = runs.AttachRunID(r.Runs, runs.Plan, 1, runIDBase+n, "")
		if _, err := store.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := store.IndexRun(ctx, runs.Plan, runIDBase+n, id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	deliver := func(n int64) string {
		body := run{action: "completed", path: planYML, id: runIDBase + n, title: "Plan", branch: "main", sha: "abc"}.body(t)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, webhooktest.Request(hookSecret, "workflow_run", fmt.Sprint("rt-delivery-", n), body))
		if rec.Code != http.StatusOK {
			t.Fatalf("delivery %d: %d %q", n, rec.Code, rec.Body.String())
		}
		return strings.TrimSpace(rec.Body.String())
	}
	// The first delivery warms the connection's statement cache.
	seed(0)
	deliver(0)

	id := seed(1)
	before := count.Load()
	outcome := deliver(1)
	trips := count.Load() - before
	if trips > 3 {
		t.Errorf("a state-changing delivery took %d round trips, want at most 3", trips)
	}
	t.Logf("round trips per delivery: %d (%s)", trips, outcome)

	r, err := store.GetRequest(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := runs.Current(r.Runs, runs.Plan); a.Conclusion != "success" {
		t.Errorf("plan attempt after the delivery: %+v, want concluded success", a)
	}
	if len(r.Outbox) != 0 {
		t.Errorf("outbox after the delivery: %v, want empty", r.Outbox)
	}
	evs, err := store.ListEvents(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Event != "plan_completed" {
		t.Errorf("events: %+v, want one plan_completed", evs)
	}
	d, err := store.GetDelivery(ctx, "rt-delivery-1")
	if err != nil {
		t.Fatal(err)
	}
	if d.CompletedAt.IsZero() || d.Outcome != outcome {
		t.Errorf("delivery: %+v, want completed with outcome %q", d, outcome)
	}
}
