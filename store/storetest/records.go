package storetest

import (
	"encoding/json"
	"reflect"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

var recordTests = []test{
	{"Idempotency/RecordRoundTrips", testIdempotencyRoundTrip},
	{"Idempotency/ExpiredRecordIsAbsentAndReplaceable", testIdempotencyWindow},
	{"Idempotency/ConcurrentPutsExactlyOneWins", testIdempotencyRace},
	{"RateLimit/SetReplacesScope", testRateLimit},
	{"Cost/PutKeepsTheOtherDocument", testCost},
}

func sameJSON(t interface {
	Helper()
	Fatalf(string, ...any)
}, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func testIdempotencyRoundTrip(e *env) {
	in := store.IdempotencyRecord{
		Operation: "create", Key: "k1", Fingerprint: "sha256:ab", RequestID: "r1",
		Response:  json.RawMessage(`{"id":"r1","version":1}`),
		ExpiresAt: e.clock.Now().Add(time.Hour),
	}
	if err := e.s.PutIdempotency(e.ctx, in); err != nil {
		e.Fatalf("PutIdempotency: %v", err)
	}
	got, err := e.s.GetIdempotency(e.ctx, "create", "k1")
	if err != nil {
		e.Fatalf("GetIdempotency: %v", err)
	}
	if got.Operation != in.Operation || got.Key != in.Key || got.Fingerprint != in.Fingerprint || got.RequestID != in.RequestID ||
		!got.ExpiresAt.Equal(in.ExpiresAt) || !got.CreatedAt.Equal(e.clock.Now()) || !sameJSON(e, got.Response, in.Response) {
		e.Errorf("GetIdempotency = %+v (response %s), want %+v with CreatedAt %v", got, got.Response, in, e.clock.Now())
	}
	for _, k := range [][2]string{{"create", "k2"}, {"apply", "k1"}} {
		_, err := e.s.GetIdempotency(e.ctx, k[0], k[1])
		e.wantErr("GetIdempotency of another operation or key", err, store.ErrNotFound, k[1])
	}
	given := in
	given.Key = "k3"
	given.CreatedAt = e.clock.Now().Add(-time.Minute)
	if err := e.s.PutIdempotency(e.ctx, given); err != nil {
		e.Fatalf("PutIdempotency: %v", err)
	}
	if got, err := e.s.GetIdempotency(e.ctx, "create", "k3"); err != nil || !got.CreatedAt.Equal(given.CreatedAt) {
		e.Errorf("a given CreatedAt became %v (%v), want %v", got.CreatedAt, err, given.CreatedAt)
	}
}

func testIdempotencyWindow(e *env) {
	start := e.clock.Now()
	rec := store.IdempotencyRecord{Operation: "apply", Key: "k1", RequestID: "r1", Response: json.RawMessage(`1`), ExpiresAt: start.Add(time.Hour)}
	if err := e.s.PutIdempotency(e.ctx, rec); err != nil {
		e.Fatalf("PutIdempotency: %v", err)
	}
	e.clock.Advance(time.Hour - time.Millisecond)
	if _, err := e.s.GetIdempotency(e.ctx, "apply", "k1"); err != nil {
		e.Errorf("GetIdempotency inside the window: %v", err)
	}
	second := rec
	second.RequestID = "r2"
	second.ExpiresAt = start.Add(3 * time.Hour)
	err := e.s.PutIdempotency(e.ctx, second)
	e.wantErr("PutIdempotency over a live record", err, store.ErrAlreadyExists, "k1")

	e.clock.Advance(2 * time.Millisecond)
	_, err = e.s.GetIdempotency(e.ctx, "apply", "k1")
	e.wantErr("GetIdempotency after the window", err, store.ErrNotFound, "k1")
	if err := e.s.PutIdempotency(e.ctx, second); err != nil {
		e.Fatalf("PutIdempotency over an expired record: %v", err)
	}
	got, err := e.s.GetIdempotency(e.ctx, "apply", "k1")
	if err != nil || got.RequestID != "r2" || !got.CreatedAt.Equal(e.clock.Now()) {
		e.Errorf("GetIdempotency of the replacement = %+v, %v; want request r2 created %v", got, err, e.clock.Now())
	}
}

func testIdempotencyRace(e *env) {
	exp := e.clock.Now().Add(time.Hour)
	errs := race(concurrency, func(i int) error {
		return e.s.PutIdempotency(e.ctx, store.IdempotencyRecord{Operation: "create", Key: "k", RequestID: pad(i), Response: json.RawMessage(`{}`), ExpiresAt: exp})
	})
	won := e.winners(errs, store.ErrAlreadyExists)
	if len(won) != 1 {
		e.Fatalf("%d of %d concurrent puts won, want exactly 1", len(won), concurrency)
	}
	if got, err := e.s.GetIdempotency(e.ctx, "create", "k"); err != nil || got.RequestID != pad(won[0]) {
		e.Errorf("GetIdempotency = %+v, %v; want the winner's record %s", got, err, pad(won[0]))
	}
}

func testRateLimit(e *env) {
	_, err := e.s.GetRateLimitBackoff(e.ctx, "global")
	e.wantErr("GetRateLimitBackoff of an unset scope", err, store.ErrNotFound, "global")
	until := e.clock.Now().Add(time.Minute)
	for _, b := range []store.RateLimitBackoff{
		{Scope: "global", Until: until, Reason: "secondary rate limit"},
		{Scope: "global", Until: until.Add(time.Hour), Reason: "primary rate limit"},
		{Scope: "acme/infra", Until: until, Reason: "abuse"},
	} {
		if err := e.s.SetRateLimitBackoff(e.ctx, b); err != nil {
			e.Fatalf("SetRateLimitBackoff(%+v): %v", b, err)
		}
	}
	for _, want := range []store.RateLimitBackoff{
		{Scope: "global", Until: until.Add(time.Hour), Reason: "primary rate limit"},
		{Scope: "acme/infra", Until: until, Reason: "abuse"},
	} {
		got, err := e.s.GetRateLimitBackoff(e.ctx, want.Scope)
		if err != nil || got.Scope != want.Scope || !got.Until.Equal(want.Until) || got.Reason != want.Reason {
			e.Errorf("GetRateLimitBackoff(%q) = %+v, %v; want %+v", want.Scope, got, err, want)
		}
	}
}

func testCost(e *env) {
	_, err := e.s.GetCost(e.ctx, "r1")
	e.wantErr("GetCost without documents", err, store.ErrNotFound, "r1")
	estimate := json.RawMessage(`{"totalMonthlyCost":"12.5","projects":[{"name":"dev"}]}`)
	diff := json.RawMessage(`{"diffTotalMonthlyCost":"3"}`)
	if err := e.s.PutCost(e.ctx, store.Cost{RequestID: "r1", Estimate: estimate}); err != nil {
		e.Fatalf("PutCost(estimate): %v", err)
	}
	got, err := e.s.GetCost(e.ctx, "r1")
	if err != nil || got.RequestID != "r1" || !sameJSON(e, got.Estimate, estimate) || len(got.Diff) != 0 {
		e.Fatalf("GetCost after the estimate = %+v, %v", got, err)
	}
	if err := e.s.PutCost(e.ctx, store.Cost{RequestID: "r1", Diff: diff}); err != nil {
		e.Fatalf("PutCost(diff): %v", err)
	}
	got, err = e.s.GetCost(e.ctx, "r1")
	if err != nil || !sameJSON(e, got.Estimate, estimate) || !sameJSON(e, got.Diff, diff) {
		e.Errorf("GetCost after both = estimate %s diff %s, %v; want both documents", got.Estimate, got.Diff, err)
	}
	_, err = e.s.GetCost(e.ctx, "r2")
	e.wantErr("GetCost of another request", err, store.ErrNotFound, "r2")
}
