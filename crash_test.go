package tfpilot_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
)

// converged checks the crash-recovery property: every request in the
// store reached want, every attempt that should have a run has exactly
// one, and every run on the fake is attached to an attempt (no orphan, no
// duplicate dispatch).
func converged(t *testing.T, e *env, id string, want lifecycle.Status) {
	t.Helper()
	r, err := e.store.GetRequest(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.status(id); got != want {
		t.Fatalf("status %s, want %s (runs %+v, lock %+v)", got, want, r.Runs, r.Lock)
	}
	attached := map[int64]bool{}
	for _, k := range runs.Kinds() {
		for _, a := range r.Runs.Op(k).Attempts {
			if a.RunID == 0 {
				t.Fatalf("%s attempt %d has no run after sync", k, a.Attempt)
			}
			if attached[a.RunID] {
				t.Fatalf("run %d attached twice", a.RunID)
			}
			attached[a.RunID] = true
			if owner, err := e.store.LookupRun(e.ctx, k, a.RunID); err != nil || owner != id {
				t.Fatalf("run index of %s run %d = %q, %v", k, a.RunID, owner, err)
			}
		}
	}
	for _, run := range e.fake.Runs("acme", "infra") {
		if !attached[run.ID] {
			t.Fatalf("orphan run %d (%s, %q): dispatched but attached to no attempt", run.ID, run.WorkflowFile, run.DisplayTitle)
		}
	}
	if r.PR == nil || r.CommitSHA == "" || r.Lock != nil {
		t.Fatalf("PR %+v, commit %q, lock %+v", r.PR, r.CommitSHA, r.Lock)
	}
	if owner, err := e.store.LookupPR(e.ctx, tfpilot.PRRef{Owner: "acme", Repo: "infra", Number: r.PR.Number}); err != nil || owner != id {
		t.Fatalf("PR index = %q, %v", owner, err)
	}
}

// recover lets the crashed operation's lock and dispatch grace expire,
// then syncs until nothing changes (at most three times).
func recoverBySync(t *testing.T, e *env, id string) {
	t.Helper()
	e.clock.Advance(3 * time.Minute)
	for range 3 {
		before, _ := e.store.GetRequest(e.ctx, id)
		if _, err := e.pilot.Sync(e.ctx, dev, id); err != nil {
			t.Fatalf("Sync: %v", err)
		}
		after, _ := e.store.GetRequest(e.ctx, id)
		if before.Version == after.Version {
			return
		}
	}
}

// countWrites runs setup then op on an armed nthWriteFailingStore that never
// fails, and returns how many writes op made.
func countWrites(t *testing.T, setup func(e *env) string, op func(e *env, id string) error) int64 {
	var fs *nthWriteFailingStore
	e := newEnv(t, withNthWriteFailing(&fs, -1))
	id := setup(e)
	fs.armed.Store(true)
	if err := op(e, id); err != nil {
		t.Fatal(err)
	}
	return fs.writes.Load()
}

func TestPilot_CreateConvergesAfterFailureAtEveryWritePoint(t *testing.T) {
	t.Parallel()
	const key = "create-key"
	setup := func(*env) string { return "" }
	create := func(e *env, _ string) error {
		c := dev
		c.IdempotencyKey = key
		_, err := e.pilot.Create(e.ctx, c, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
			Config: map[string]any{"bucket_name": "reports"}})
		return err
	}
	n := countWrites(t, setup, create)
	if n < 8 {
		t.Fatalf("a clean Create made only %d writes; the test would not cover the protocol", n)
	}
	for i := int64(1); i <= n; i++ {
		t.Run(fmt.Sprintf("write%02d", i), func(t *testing.T) {
			t.Parallel()
			var fs *nthWriteFailingStore
			e := newEnv(t, withNthWriteFailing(&fs, i))
			fs.armed.Store(true)
			err := create(e, "")
			if err != nil && !errors.Is(err, errInjected) {
				t.Fatalf("Create failed with %v, not the injected failure", err)
			}
			// The caller retries with the same key if it saw an error (as
			// a client would); then Sync recovers whatever is left.
			if err != nil {
				if err := create(e, ""); err != nil && !errors.Is(err, tfpilot.ErrLocked) {
					t.Fatalf("retry: %v", err)
				}
			}
			page, err := e.store.ListRequests(e.ctx, tfpilot.ListQuery{})
			if err != nil || len(page.Requests) != 1 {
				t.Fatalf("requests after retry: %d, %v", len(page.Requests), err)
			}
			id := page.Requests[0].ID
			recoverBySync(t, e, id)
			converged(t, e, id, lifecycle.Planning)
			if n := len(e.runsOf("plan.yml")); n != 1 {
				t.Fatalf("%d plan runs, want 1", n)
			}
		})
	}
}

func TestPilot_ApplyConvergesAfterFailureAtEveryWritePoint(t *testing.T) {
	t.Parallel()
	setup := func(e *env) string {
		r := e.create("reports")
		e.finish(r.ID, runs.Plan, "success")
		mustOK(t, e, e.pilot.Approve, approver, r.ID)
		mustOK(t, e, e.pilot.Merge, approver, r.ID)
		return r.ID
	}
	apply := func(e *env, id string) error {
		_, err := e.pilot.Apply(e.ctx, approver, id)
		return err
	}
	n := countWrites(t, setup, apply)
	if n < 5 {
		t.Fatalf("a clean Apply made only %d writes", n)
	}
	for i := int64(1); i <= n; i++ {
		t.Run(fmt.Sprintf("write%02d", i), func(t *testing.T) {
			t.Parallel()
			var fs *nthWriteFailingStore
			e := newEnv(t, withNthWriteFailing(&fs, i))
			id := setup(e)
			fs.armed.Store(true)
			err := apply(e, id)
			if err != nil && !errors.Is(err, errInjected) {
				t.Fatalf("Apply failed with %v, not the injected failure", err)
			}
			recoverBySync(t, e, id)
			r, _ := e.store.GetRequest(e.ctx, id)
			want := lifecycle.Applying
			if len(r.Runs.Apply.Attempts) == 0 {
				// The failure came before the attempt was recorded: nothing
				// was dispatched, and the user may simply apply again.
				want = lifecycle.Merged
				if n := len(e.runsOf("apply.yml")); n != 0 {
					t.Fatalf("%d apply runs without an attempt", n)
				}
				if err := apply(e, id); err != nil {
					t.Fatalf("apply again: %v", err)
				}
				want = lifecycle.Applying
			}
			converged(t, e, id, want)
			if n := len(e.runsOf("apply.yml")); n != 1 {
				t.Fatalf("%d apply runs, want 1", n)
			}
		})
	}
}
