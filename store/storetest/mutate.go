package storetest

import (
	"errors"
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

var mutateTests = []test{
	{"Mutate/EveryContenderSucceedsWithinMaxAttempts", testMutateRace},
	{"Mutate/FnErrorStopsAndNoChangeWritesNothing", testMutateFn},
	{"Mutate/FnChangingTheIDWritesNothing", testMutateRenames},
	{"Mutate/FnChangingReceivedAtIsErrInvalidOnFirstTry", testMutateReceivedAt},
}

// testMutateRace runs MaxMutateAttempts concurrent Mutate calls, one
// change each. A call conflicts only when another call's write landed
// between its read and its write, and each of the others writes once, so
// every call succeeds within its attempts and no change is lost.
func testMutateRace(e *env) {
	e.create(newRequest("r1"))
	n := store.MaxMutateAttempts
	errs := race(n, func(i int) error {
		_, err := store.Mutate(e.ctx, e.s, "r1", func(r *store.Request) error {
			r.Config[fmt.Sprintf("writer-%02d", i)] = float64(i)
			return nil
		})
		return err
	})
	for i, err := range errs {
		if err != nil {
			e.Errorf("Mutate %d of %d: %v", i, n, err)
		}
	}
	got := e.get("r1")
	if got.Version != int64(1+n) {
		e.Errorf("final version %d after %d mutations of version 1, want %d", got.Version, n, 1+n)
	}
	for i := range n {
		if got.Config[fmt.Sprintf("writer-%02d", i)] != float64(i) {
			e.Errorf("mutation %d is lost: config %v", i, got.Config)
		}
	}
}

func testMutateFn(e *env) {
	e.create(newRequest("r1"))
	boom := errors.New("boom")
	calls := 0
	_, err := store.Mutate(e.ctx, e.s, "r1", func(r *store.Request) error {
		calls++
		r.BranchName = "never stored"
		return boom
	})
	if err != boom || calls != 1 {
		e.Errorf("Mutate with a failing fn = %v after %d calls, want the fn's error as is after 1", err, calls)
	}
	got, err := store.Mutate(e.ctx, e.s, "r1", func(r *store.Request) error { return nil })
	if err != nil || got.Version != 1 {
		e.Errorf("Mutate with no change = version %d, %v; want version 1", got.Version, err)
	}
	if cur := e.get("r1"); cur.Version != 1 || cur.BranchName != "" {
		e.Errorf("request after Mutate without writes = version %d branch %q", cur.Version, cur.BranchName)
	}
	got, err = store.Mutate(e.ctx, e.s, "r1", func(r *store.Request) error { r.BranchName = "b"; return nil })
	if err != nil || got.Version != 2 || got.BranchName != "b" {
		e.Errorf("Mutate with a change = %+v, %v; want version 2 branch b", got, err)
	}
	_, err = store.Mutate(e.ctx, e.s, "absent", func(r *store.Request) error { return nil })
	e.wantErr("Mutate of an absent request", err, store.ErrNotFound, "absent")
}

// testMutateRenames has fn change the request's id to another request's
// at the same version: Mutate must refuse instead of writing the document
// over the other request.
func testMutateRenames(e *env) {
	e.create(newRequest("r1"))
	other := e.create(newRequest("r2"))
	_, err := store.Mutate(e.ctx, e.s, "r1", func(r *store.Request) error {
		r.ID = "r2"
		r.BranchName = "from r1"
		return nil
	})
	e.wantErr("Mutate whose fn changes the id", err, store.ErrInvalid, "r1")
	e.sameDocument("the other request", e.get("r2"), other)
	if cur := e.get("r1"); cur.Version != 1 || cur.BranchName != "" {
		e.Errorf("r1 after a refused Mutate = version %d branch %q", cur.Version, cur.BranchName)
	}
}

// testMutateReceivedAt has fn move ReceivedAt: the store refuses it with
// ErrInvalid, which Mutate returns without retrying (fn runs once) and
// without a write.
func testMutateReceivedAt(e *env) {
	created := e.create(newRequest("r1"))
	calls := 0
	_, err := store.Mutate(e.ctx, e.s, "r1", func(r *store.Request) error {
		calls++
		r.ReceivedAt = r.ReceivedAt.Add(-time.Hour)
		r.BranchName = "b"
		return nil
	})
	e.wantErr("Mutate whose fn changes ReceivedAt", err, store.ErrInvalid, "r1")
	if calls != 1 {
		e.Errorf("fn ran %d times, want 1 (ErrInvalid is not retried)", calls)
	}
	e.sameDocument("request after a refused Mutate", e.get("r1"), created)
}
