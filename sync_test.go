package tfpilot_test

import (
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/lock"
)

// TestPilot_SyncReconcileCooldown_INV_REC_1: a reconcile fetch (cache
// bypassed) that changes nothing puts the run in a cooldown; Sync fetches
// it again only after the cooldown (60 s by default).
func TestPilot_SyncReconcileCooldown_INV_REC_1(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	gets := func() int { return e.fake.CallCount(githubtest.EndpointGetRun) }
	e.sync(r.ID) // the queued plan run needs reconcile: fetched, unchanged
	after1 := gets()
	if after1 == 0 {
		t.Fatal("Sync did not fetch the run that needs reconcile")
	}
	e.clock.Advance(30 * time.Second)
	e.sync(r.ID)
	if gets() != after1 {
		t.Fatalf("Sync fetched the run during its cooldown (%d → %d calls)", after1, gets())
	}
	e.clock.Advance(31 * time.Second)
	e.sync(r.ID)
	if gets() != after1+1 {
		t.Fatalf("Sync after the cooldown made %d run fetches, want 1", gets()-after1)
	}
	// A fetch that changes the attempt sets no cooldown: the next sync
	// looks again at once (the run is still not complete).
	if _, err := e.fake.Advance(e.currentRun(r.ID, "plan")); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(61 * time.Second)
	e.sync(r.ID)
	n := gets()
	e.sync(r.ID)
	if gets() != n+1 {
		t.Fatal("a reconcile that changed the attempt put the run in cooldown")
	}
}

// TestPilot_SyncClearsExpiredLock: an expired lock is no lock, and Sync
// removes it from the document.
func TestPilot_SyncClearsExpiredLock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	if _, err := tfpilot.Mutate(e.ctx, e.store, r.ID, func(r *tfpilot.Request) error {
		r.Lock = &lock.Lock{Holder: "crashed/apply/x", Operation: "apply", AcquiredAt: e.clock.Now(), ExpiresAt: e.clock.Now().Add(time.Minute)}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := e.sync(r.ID); got.Lock == nil {
		t.Fatal("Sync cleared an active lock")
	}
	e.clock.Advance(61 * time.Second)
	if got := e.sync(r.ID); got.Lock != nil {
		t.Fatalf("Sync left the expired lock %+v", got.Lock)
	}
}

// TestPilot_SyncStampsUpdatedAtOnlyWhenFactsChange: a Sync that learns
// something moves updatedAt (and the version); one that learns nothing
// writes nothing.
func TestPilot_SyncStampsUpdatedAtOnlyWhenFactsChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	e.clock.Advance(time.Minute)
	before := e.sync(r.ID) // the queued run: nothing new
	e.clock.Advance(2 * time.Minute)
	same := e.sync(r.ID)
	if same.Version != before.Version || !same.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("a Sync that learned nothing wrote: v%d→v%d, %s→%s", before.Version, same.Version, before.UpdatedAt, same.UpdatedAt)
	}
	if err := e.fake.Complete(e.currentRun(r.ID, "plan"), "success"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute)
	after := e.sync(r.ID)
	if after.Version == before.Version || !after.UpdatedAt.Equal(e.clock.Now()) {
		t.Fatalf("a Sync that learned the plan's result: v%d→v%d, updatedAt %s (now %s)", before.Version, after.Version, after.UpdatedAt, e.clock.Now())
	}
}
