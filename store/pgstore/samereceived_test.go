package pgstore_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/store"
)

// TestUpdateRequest_ReceivedAtRuleIsSameReceivedAtAtMicroseconds ties
// the ReceivedAt rule pgstore applies inside its compare-and-swap
// statement to its one definition, store.SameReceivedAt at a
// microsecond: for stored and sent values at the edges of rounding (and
// random ones), the update is accepted exactly when the rule says so,
// and refused as ErrInvalid otherwise.
func TestUpdateRequest_ReceivedAtRuleIsSameReceivedAtAtMicroseconds(t *testing.T) {
	t.Parallel()
	s := openStore(t, testenv.PostgresDSN(t), time.Now)
	ctx := t.Context()
	base := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	cest := time.FixedZone("CEST", 2*60*60)
	type pair struct{ stored, sent time.Time }
	var pairs []pair
	for _, ns := range []int{0, 1, 499, 500, 501, 1500, 123455500, 123456500, 123456789, 123456499, 123456501, 999999499, 999999501, 999999999} {
		stored := base.Add(time.Duration(ns))
		for _, d := range []time.Duration{0, 1, -1, 400, -400, 500, -500, 600, -600, time.Microsecond, -time.Microsecond, time.Millisecond} {
			pairs = append(pairs, pair{stored, stored.Add(d)}, pair{stored, stored.Add(d).In(cest)})
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		stored := base.Add(time.Duration(rng.Int64N(int64(time.Hour))))
		pairs = append(pairs, pair{stored, stored.Add(time.Duration(rng.Int64N(4000) - 2000))})
	}
	for i, p := range pairs {
		r := &store.Request{ID: fmt.Sprintf("r%d", i), Project: "payments", Environment: "dev", Module: "s3-bucket", ReceivedAt: p.stored}
		created, err := s.CreateRequest(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		next := created.Clone()
		next.ReceivedAt = p.sent
		next.BranchName = "b"
		_, err = s.UpdateRequest(ctx, next)
		want := store.SameReceivedAt(p.sent, p.stored, time.Microsecond)
		if (err == nil) != want || err != nil && !errors.Is(err, store.ErrInvalid) {
			t.Errorf("stored %s, sent %s: UpdateRequest = %v; SameReceivedAt at a microsecond = %v",
				p.stored.Format(time.RFC3339Nano), p.sent.Format(time.RFC3339Nano), err, want)
		}
	}
}
