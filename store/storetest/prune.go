package storetest

import (
	"encoding/json"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

// pruneTests check [store.Pruner]. They are skipped for a store that
// does not implement it.
var pruneTests = []test{
	{"Prune/DropsIdempotencyRecordsExpiredByTheHorizon", testPruneIdempotency},
	{"Prune/DropsDeliveriesCompletedByTheHorizonNeverClaimsInProgress", testPruneDeliveries},
	{"Prune/DropsBackoffsEndedByTheHorizon", testPruneBackoffs},
}

func (e *env) pruner() store.Pruner {
	e.Helper()
	p, ok := e.s.(store.Pruner)
	if !ok {
		e.Skipf("%T does not implement store.Pruner", e.s)
	}
	return p
}

func (e *env) prune(p store.Pruner, horizon time.Time, want store.PruneResult) {
	e.Helper()
	got, err := p.Prune(e.ctx, horizon)
	if err != nil {
		e.Fatalf("Prune(%v): %v", horizon, err)
	}
	if got != want {
		e.Errorf("Prune(%v) = %+v, want %+v", horizon, got, want)
	}
}

func testPruneIdempotency(e *env) {
	p := e.pruner()
	t0 := e.clock.Now()
	for _, r := range []struct {
		key     string
		expires time.Time
	}{{"old", t0.Add(time.Hour)}, {"edge", t0.Add(2 * time.Hour)}, {"live", t0.Add(2*time.Hour + time.Microsecond)}} {
		rec := store.IdempotencyRecord{Operation: "create", Key: r.key, Fingerprint: "f", RequestID: "r-" + r.key,
			Response: json.RawMessage(`{"ok":true}`), ExpiresAt: r.expires}
		if err := e.s.PutIdempotency(e.ctx, rec); err != nil {
			e.Fatalf("PutIdempotency(%q): %v", r.key, err)
		}
	}
	horizon := t0.Add(2 * time.Hour)
	e.prune(p, horizon, store.PruneResult{Idempotency: 2})
	e.prune(p, horizon, store.PruneResult{}) // nothing left to prune
	if rec, err := e.s.GetIdempotency(e.ctx, "create", "live"); err != nil || rec.RequestID != "r-live" {
		e.Errorf("GetIdempotency of the record expiring after the horizon = %+v, %v", rec, err)
	}
	e.prune(p, horizon.Add(time.Microsecond), store.PruneResult{Idempotency: 1})
}

func testPruneDeliveries(e *env) {
	p := e.pruner()
	t0 := e.clock.Now()
	for _, id := range []string{"done-early", "done-at-horizon", "open"} {
		if _, err := e.s.ClaimDelivery(e.ctx, id, "pull_request"); err != nil {
			e.Fatalf("ClaimDelivery(%q): %v", id, err)
		}
	}
	if err := e.s.CompleteDelivery(e.ctx, "done-early", e.claimOf("done-early"), "ok"); err != nil {
		e.Fatalf("CompleteDelivery: %v", err)
	}
	horizon := e.clock.Advance(time.Hour)
	if err := e.s.CompleteDelivery(e.ctx, "done-at-horizon", e.claimOf("done-at-horizon"), "ok"); err != nil {
		e.Fatalf("CompleteDelivery: %v", err)
	}
	e.clock.Advance(time.Microsecond)
	if _, err := e.s.ClaimDelivery(e.ctx, "done-late", "push"); err != nil {
		e.Fatalf("ClaimDelivery: %v", err)
	}
	if err := e.s.CompleteDelivery(e.ctx, "done-late", e.claimOf("done-late"), "ok"); err != nil {
		e.Fatalf("CompleteDelivery: %v", err)
	}
	e.prune(p, horizon, store.PruneResult{Deliveries: 2})
	for _, id := range []string{"done-early", "done-at-horizon"} {
		_, err := e.s.GetDelivery(e.ctx, id)
		e.wantErr("GetDelivery of a pruned delivery", err, store.ErrNotFound, id)
	}
	if d, err := e.s.GetDelivery(e.ctx, "open"); err != nil || !d.ClaimedAt.Equal(t0) || !d.CompletedAt.IsZero() {
		e.Errorf("GetDelivery of the claim in progress = %+v, %v; want it kept", d, err)
	}
	if d, err := e.s.GetDelivery(e.ctx, "done-late"); err != nil || d.Outcome != "ok" {
		e.Errorf("GetDelivery of the delivery completed after the horizon = %+v, %v; want it kept", d, err)
	}
	// However old, a claim in progress stays.
	e.prune(p, horizon.Add(1000*time.Hour), store.PruneResult{Deliveries: 1})
	if _, err := e.s.GetDelivery(e.ctx, "open"); err != nil {
		e.Errorf("GetDelivery of the claim in progress after a far prune: %v", err)
	}
}

func testPruneBackoffs(e *env) {
	p := e.pruner()
	t0 := e.clock.Now()
	for _, b := range []store.RateLimitBackoff{
		{Scope: "global", Until: t0.Add(time.Minute), Reason: "secondary"},
		{Scope: "acme/infra", Until: t0.Add(time.Hour), Reason: "primary"},
	} {
		if err := e.s.SetRateLimitBackoff(e.ctx, b); err != nil {
			e.Fatalf("SetRateLimitBackoff(%q): %v", b.Scope, err)
		}
	}
	e.prune(p, t0.Add(time.Minute), store.PruneResult{Backoffs: 1})
	_, err := e.s.GetRateLimitBackoff(e.ctx, "global")
	e.wantErr("GetRateLimitBackoff of a pruned backoff", err, store.ErrNotFound, "global")
	if b, err := e.s.GetRateLimitBackoff(e.ctx, "acme/infra"); err != nil || b.Reason != "primary" {
		e.Errorf("GetRateLimitBackoff of the live backoff = %+v, %v", b, err)
	}
}
