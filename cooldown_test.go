package tfpilot_test

import (
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

// TestPilot_ReconcileCooldownIsSharedAcrossProcesses: a run one process
// put in its reconcile cooldown is left alone by another process on the
// same store until the cooldown ends (INV-REC-1 across replicas).
func TestPilot_ReconcileCooldownIsSharedAcrossProcesses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p2 := e.process(t, e.store) // a second replica: its own GitHub client and engine, the same store
	r := e.create("reports")
	gets := func() int { return e.fake.CallCount(githubtest.EndpointGetRun) }
	e.sync(r.ID) // replica 1: the queued run is fetched, unchanged: cooldown
	after1 := gets()
	if after1 == 0 {
		t.Fatal("Sync did not fetch the run that needs reconcile")
	}
	e.clock.Advance(30 * time.Second)
	if _, err := p2.Sync(e.ctx, dev, r.ID); err != nil {
		t.Fatalf("replica 2 Sync: %v", err)
	}
	if gets() != after1 {
		t.Fatalf("replica 2 fetched the run during replica 1's cooldown (%d → %d calls)", after1, gets())
	}
	e.clock.Advance(31 * time.Second)
	if _, err := p2.Sync(e.ctx, dev, r.ID); err != nil {
		t.Fatalf("replica 2 Sync: %v", err)
	}
	if gets() != after1+1 {
		t.Fatalf("replica 2 after the cooldown made %d run fetches, want 1", gets()-after1)
	}
}
