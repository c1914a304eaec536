package storetest

import (
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

var deliveryTests = []test{
	{"Deliveries/ConcurrentClaimsExactlyOneWins", testClaimRace},
	{"Deliveries/CompleteRecordsOutcomeAndKeepsClaim", testDeliveryComplete},
	{"Deliveries/ReleaseLetsRedeliveryClaim", testDeliveryRelease},
	{"Deliveries/StaleClaimIsReclaimedAfterTTL", testStaleClaimReclaimed},
	{"Deliveries/ClaimYoungerThanTTLHolds", testFreshClaimHolds},
	{"Deliveries/CompletedDeliveryIsNeverReclaimed", testCompletedNeverReclaimed},
	{"Deliveries/ConcurrentReclaimsOfStaleClaimExactlyOneWins", testReclaimRace},
	{"Deliveries/ClaimReturnsItsFencingValue", testClaimFence},
	{"Deliveries/HandlerThatOutlivedItsClaimCannotCompleteOrReleaseTheNext", testStaleHandlerFenced},
}

// testClaimFence: ClaimDelivery returns the claim's fencing value, the
// ClaimedAt that GetDelivery reports.
func testClaimFence(e *env) {
	claim, err := e.s.ClaimDelivery(e.ctx, "d-1", "push")
	if err != nil {
		e.Fatalf("ClaimDelivery: %v", err)
	}
	if got := e.claimOf("d-1"); !claim.Equal(got) || !claim.Equal(e.clock.Now()) {
		e.Errorf("ClaimDelivery returned %v; GetDelivery has %v; want both %v", claim, got, e.clock.Now())
	}
}

// testStaleHandlerFenced: a handler whose claim went stale and was
// replaced presents its old claim: its completion and its release are
// refused and leave the successor's claim as it was.
func testStaleHandlerFenced(e *env) {
	old, err := e.s.ClaimDelivery(e.ctx, "d-1", "workflow_run")
	if err != nil {
		e.Fatalf("ClaimDelivery: %v", err)
	}
	e.clock.Advance(store.DeliveryClaimTTL + time.Second)
	cur, err := e.s.ClaimDelivery(e.ctx, "d-1", "workflow_run")
	if err != nil {
		e.Fatalf("ClaimDelivery of the stale claim: %v", err)
	}
	if !cur.After(old) {
		e.Fatalf("the successor's fencing value %v is not after the stale one %v", cur, old)
	}
	e.clock.Advance(time.Second)
	err = e.s.CompleteDelivery(e.ctx, "d-1", old, "late outcome")
	e.wantErr("CompleteDelivery with the replaced claim", err, store.ErrConflict, "d-1")
	err = e.s.ReleaseDelivery(e.ctx, "d-1", old)
	e.wantErr("ReleaseDelivery with the replaced claim", err, store.ErrConflict, "d-1")
	d, err := e.s.GetDelivery(e.ctx, "d-1")
	if err != nil || !d.ClaimedAt.Equal(cur) || !d.CompletedAt.IsZero() || d.Outcome != "" {
		e.Fatalf("GetDelivery after the stale handler's attempts = %+v, %v; want the successor's claim in progress", d, err)
	}
	done := e.clock.Now()
	if err := e.s.CompleteDelivery(e.ctx, "d-1", cur, "patched r1"); err != nil {
		e.Fatalf("CompleteDelivery by the successor: %v", err)
	}
	if d, err := e.s.GetDelivery(e.ctx, "d-1"); err != nil || d.Outcome != "patched r1" || !d.CompletedAt.Equal(done) {
		e.Errorf("GetDelivery after the successor completed = %+v, %v", d, err)
	}
}

func testClaimRace(e *env) {
	errs := race(concurrency, func(int) error {
		_, err := e.s.ClaimDelivery(e.ctx, "d-1", "workflow_run")
		return err
	})
	if won := e.winners(errs, store.ErrAlreadyExists); len(won) != 1 {
		e.Fatalf("%d of %d concurrent claims won, want exactly 1", len(won), concurrency)
	}
	d, err := e.s.GetDelivery(e.ctx, "d-1")
	if err != nil || d.ID != "d-1" || d.Event != "workflow_run" || !d.ClaimedAt.Equal(e.clock.Now()) || !d.CompletedAt.IsZero() {
		e.Errorf("GetDelivery after the claim = %+v, %v; want claimed at %v, not completed", d, err, e.clock.Now())
	}
}

func testDeliveryComplete(e *env) {
	claimed := e.clock.Now()
	if _, err := e.s.ClaimDelivery(e.ctx, "d-1", "pull_request"); err != nil {
		e.Fatalf("ClaimDelivery: %v", err)
	}
	done := e.clock.Advance(time.Second)
	if err := e.s.CompleteDelivery(e.ctx, "d-1", e.claimOf("d-1"), "patched r1"); err != nil {
		e.Fatalf("CompleteDelivery: %v", err)
	}
	d, err := e.s.GetDelivery(e.ctx, "d-1")
	if err != nil || d.Outcome != "patched r1" || !d.ClaimedAt.Equal(claimed) || !d.CompletedAt.Equal(done) || d.Event != "pull_request" {
		e.Errorf("GetDelivery after completion = %+v, %v; want outcome, claimed %v, completed %v", d, err, claimed, done)
	}
	_, err = e.s.ClaimDelivery(e.ctx, "d-1", "pull_request")
	e.wantErr("ClaimDelivery of a completed delivery", err, store.ErrAlreadyExists, "d-1")
	err = e.s.ReleaseDelivery(e.ctx, "d-1", e.claimOf("d-1"))
	e.wantErr("ReleaseDelivery of a completed delivery", err, store.ErrConflict, "d-1")
	if d, err := e.s.GetDelivery(e.ctx, "d-1"); err != nil || d.Outcome != "patched r1" {
		e.Errorf("GetDelivery after a refused release = %+v, %v", d, err)
	}
	err = e.s.CompleteDelivery(e.ctx, "never", time.Time{}, "x")
	e.wantErr("CompleteDelivery of an unclaimed delivery", err, store.ErrNotFound, "never")
	_, err = e.s.GetDelivery(e.ctx, "never")
	e.wantErr("GetDelivery of an unclaimed delivery", err, store.ErrNotFound, "never")
}

func testDeliveryRelease(e *env) {
	if err := e.s.ReleaseDelivery(e.ctx, "absent", time.Time{}); err != nil {
		e.Errorf("ReleaseDelivery of an absent claim = %v, want nil (a no-op)", err)
	}
	if _, err := e.s.ClaimDelivery(e.ctx, "d-1", "workflow_run"); err != nil {
		e.Fatalf("ClaimDelivery: %v", err)
	}
	_, err := e.s.ClaimDelivery(e.ctx, "d-1", "workflow_run")
	e.wantErr("ClaimDelivery of a held claim", err, store.ErrAlreadyExists, "d-1")
	if err := e.s.ReleaseDelivery(e.ctx, "d-1", e.claimOf("d-1")); err != nil {
		e.Fatalf("ReleaseDelivery of a held claim: %v", err)
	}
	_, err = e.s.GetDelivery(e.ctx, "d-1")
	e.wantErr("GetDelivery of a released claim", err, store.ErrNotFound, "d-1")
	again := e.clock.Advance(time.Minute)
	if _, err := e.s.ClaimDelivery(e.ctx, "d-1", "workflow_run"); err != nil {
		e.Fatalf("ClaimDelivery after release: %v", err)
	}
	if d, err := e.s.GetDelivery(e.ctx, "d-1"); err != nil || !d.ClaimedAt.Equal(again) {
		e.Errorf("GetDelivery of the new claim = %+v, %v; want claimed at %v", d, err, again)
	}
}

// testStaleClaimReclaimed: a claim left in progress (its handler died)
// is taken over by the first claim at or after DeliveryClaimTTL, which
// records its own time and event, and is then a claim like any other.
func testStaleClaimReclaimed(e *env) {
	if _, err := e.s.ClaimDelivery(e.ctx, "d-1", "workflow_run"); err != nil {
		e.Fatalf("ClaimDelivery: %v", err)
	}
	again := e.clock.Advance(store.DeliveryClaimTTL + time.Second)
	if _, err := e.s.ClaimDelivery(e.ctx, "d-1", "pull_request"); err != nil {
		e.Fatalf("ClaimDelivery of a claim stale for %v: %v; want it reclaimed", store.DeliveryClaimTTL+time.Second, err)
	}
	d, err := e.s.GetDelivery(e.ctx, "d-1")
	if err != nil || d.ID != "d-1" || d.Event != "pull_request" || !d.ClaimedAt.Equal(again) || !d.CompletedAt.IsZero() || d.Outcome != "" {
		e.Errorf("GetDelivery after the reclaim = %+v, %v; want event pull_request, claimed at %v, not completed", d, err, again)
	}
	_, err = e.s.ClaimDelivery(e.ctx, "d-1", "pull_request")
	e.wantErr("ClaimDelivery of a freshly reclaimed delivery", err, store.ErrAlreadyExists, "d-1")
	done := e.clock.Advance(time.Second)
	if err := e.s.CompleteDelivery(e.ctx, "d-1", e.claimOf("d-1"), "patched r1"); err != nil {
		e.Fatalf("CompleteDelivery of the reclaimed delivery: %v", err)
	}
	if d, err := e.s.GetDelivery(e.ctx, "d-1"); err != nil || d.Outcome != "patched r1" || !d.ClaimedAt.Equal(again) || !d.CompletedAt.Equal(done) {
		e.Errorf("GetDelivery after completing the reclaim = %+v, %v; want outcome, claimed %v, completed %v", d, err, again, done)
	}
}

// testFreshClaimHolds: a claim younger than DeliveryClaimTTL is held; it
// turns stale exactly at the TTL. (The suite's clock moves in whole
// microseconds, which every backend keeps.)
func testFreshClaimHolds(e *env) {
	claimed := e.clock.Now()
	if _, err := e.s.ClaimDelivery(e.ctx, "d-1", "workflow_run"); err != nil {
		e.Fatalf("ClaimDelivery: %v", err)
	}
	e.clock.Advance(store.DeliveryClaimTTL - time.Microsecond)
	_, err := e.s.ClaimDelivery(e.ctx, "d-1", "pull_request")
	e.wantErr("ClaimDelivery of a claim 1µs younger than the TTL", err, store.ErrAlreadyExists, "d-1")
	if d, err := e.s.GetDelivery(e.ctx, "d-1"); err != nil || d.Event != "workflow_run" || !d.ClaimedAt.Equal(claimed) {
		e.Errorf("GetDelivery after a refused claim = %+v, %v; want the first claim (workflow_run at %v)", d, err, claimed)
	}
	at := e.clock.Advance(time.Microsecond)
	if _, err := e.s.ClaimDelivery(e.ctx, "d-1", "pull_request"); err != nil {
		e.Fatalf("ClaimDelivery of a claim exactly DeliveryClaimTTL old: %v; want it reclaimed", err)
	}
	if d, err := e.s.GetDelivery(e.ctx, "d-1"); err != nil || d.Event != "pull_request" || !d.ClaimedAt.Equal(at) {
		e.Errorf("GetDelivery after the reclaim = %+v, %v; want pull_request claimed at %v", d, err, at)
	}
}

// testCompletedNeverReclaimed: age frees an in-progress claim, never a
// completed delivery. d-2, claimed alongside but never completed, shows
// the clock has moved far enough to free a claim.
func testCompletedNeverReclaimed(e *env) {
	claimed := e.clock.Now()
	for _, id := range []string{"d-1", "d-2"} {
		if _, err := e.s.ClaimDelivery(e.ctx, id, "workflow_run"); err != nil {
			e.Fatalf("ClaimDelivery(%q): %v", id, err)
		}
	}
	done := e.clock.Advance(time.Second)
	if err := e.s.CompleteDelivery(e.ctx, "d-1", e.claimOf("d-1"), "patched r1"); err != nil {
		e.Fatalf("CompleteDelivery: %v", err)
	}
	e.clock.Advance(100 * store.DeliveryClaimTTL)
	_, err := e.s.ClaimDelivery(e.ctx, "d-1", "workflow_run")
	e.wantErr("ClaimDelivery of a delivery completed long ago", err, store.ErrAlreadyExists, "d-1")
	d, err := e.s.GetDelivery(e.ctx, "d-1")
	if err != nil || d.Outcome != "patched r1" || !d.ClaimedAt.Equal(claimed) || !d.CompletedAt.Equal(done) {
		e.Errorf("GetDelivery after a refused reclaim = %+v, %v; want outcome, claimed %v, completed %v", d, err, claimed, done)
	}
	if _, err := e.s.ClaimDelivery(e.ctx, "d-2", "workflow_run"); err != nil {
		e.Errorf("ClaimDelivery of d-2, in progress as long: %v; want it reclaimed", err)
	}
}

// testReclaimRace: of concurrent claims of one stale claim exactly one
// wins, and the stored delivery is the winner's.
func testReclaimRace(e *env) {
	if _, err := e.s.ClaimDelivery(e.ctx, "d-1", "stale"); err != nil {
		e.Fatalf("ClaimDelivery: %v", err)
	}
	again := e.clock.Advance(store.DeliveryClaimTTL + time.Minute)
	event := func(i int) string { return fmt.Sprintf("event-%d", i) }
	errs := race(concurrency, func(i int) error {
		_, err := e.s.ClaimDelivery(e.ctx, "d-1", event(i))
		return err
	})
	won := e.winners(errs, store.ErrAlreadyExists)
	if len(won) != 1 {
		e.Fatalf("%d of %d concurrent reclaims of a stale claim won, want exactly 1", len(won), concurrency)
	}
	d, err := e.s.GetDelivery(e.ctx, "d-1")
	if err != nil || d.Event != event(won[0]) || !d.ClaimedAt.Equal(again) || !d.CompletedAt.IsZero() {
		e.Errorf("GetDelivery after the race = %+v, %v; want the winner's claim (%s at %v)", d, err, event(won[0]), again)
	}
}

// claimOf returns the fencing value of delivery id's stored claim.
func (e *env) claimOf(id string) time.Time {
	e.Helper()
	d, err := e.s.GetDelivery(e.ctx, id)
	if err != nil {
		e.Fatalf("GetDelivery(%q): %v", id, err)
	}
	return d.ClaimedAt
}
