package storetest

import (
	"errors"
	"math"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

// The rules of the portable layer ([store.PrepareCreate],
// [store.PrepareUpdate], [store.Write.Against]) as every backend must
// apply them, whether it calls the layer or applies a rule atomically
// itself (pgstore, in SQL).

// testUnencodable: a document that cannot be encoded (a NaN in its
// config) is the caller's error, ErrInvalid naming the request, on
// create and update, and nothing is written.
func testUnencodable(e *env) {
	bad := newRequest("nan")
	bad.Config["size"] = math.NaN()
	_, err := e.s.CreateRequest(e.ctx, bad)
	e.wantErr("CreateRequest with a NaN in its config", err, store.ErrInvalid, "nan")
	if _, err := e.s.GetRequest(e.ctx, "nan"); !errors.Is(err, store.ErrNotFound) {
		e.Errorf("a refused CreateRequest stored the request: %v", err)
	}

	cur := e.create(newRequest("r1"))
	next := cur.Clone()
	next.Config["size"] = math.Inf(1)
	_, err = e.s.UpdateRequest(e.ctx, next)
	e.wantErr("UpdateRequest with an infinity in its config", err, store.ErrInvalid, "r1")
	e.sameDocument("request after a refused update", e.get("r1"), cur)
}

// testUpdateConflictBeforeReceivedAt: a stale version is ErrConflict
// even when ReceivedAt moved too (conflicts are reported first, so that
// Mutate retries from a fresh read instead of failing).
func testUpdateConflictBeforeReceivedAt(e *env) {
	v1 := e.create(newRequest("r1"))
	next := v1.Clone()
	next.BranchName = "tfpilot/r1"
	v2, err := e.s.UpdateRequest(e.ctx, next)
	if err != nil {
		e.Fatal(err)
	}
	stale := v1.Clone()
	stale.ReceivedAt = v1.ReceivedAt.Add(time.Hour)
	stale.CommitSHA = "abc"
	_, err = e.s.UpdateRequest(e.ctx, stale)
	e.wantErr("UpdateRequest at a stale version with a moved ReceivedAt", err, store.ErrConflict, "r1")
	e.sameDocument("request after a refused update", e.get("r1"), v2)
}

// testUpdateReceivedAtInAnotherZone: the stored ReceivedAt sent back as
// the same instant in another zone is the stored one: with no other
// change nothing is written, and with one the stored value, zone
// included, is kept.
func testUpdateReceivedAtInAnotherZone(e *env) {
	r := newRequest("r1")
	r.ReceivedAt = time.Date(2025, 6, 1, 12, 0, 0, 123456000, time.FixedZone("CEST", 2*60*60))
	created := e.create(r)

	same := created.Clone()
	same.ReceivedAt = created.ReceivedAt.UTC()
	got, err := e.s.UpdateRequest(e.ctx, same)
	if err != nil {
		e.Fatalf("UpdateRequest with ReceivedAt in UTC and no other change: %v", err)
	}
	if got.Version != created.Version {
		e.Errorf("an update changing only ReceivedAt's zone bumped version %d to %d", created.Version, got.Version)
	}
	e.sameDocument("request after an update changing only ReceivedAt's zone", e.get("r1"), created)

	next := created.Clone()
	next.ReceivedAt = created.ReceivedAt.UTC()
	next.BranchName = "tfpilot/r1"
	got, err = e.s.UpdateRequest(e.ctx, next)
	if err != nil {
		e.Fatalf("UpdateRequest with ReceivedAt in UTC: %v", err)
	}
	want := created.ReceivedAt.Format(time.RFC3339Nano)
	if at := got.ReceivedAt.Format(time.RFC3339Nano); got.Version != created.Version+1 || at != want {
		e.Errorf("update with ReceivedAt in UTC returned version %d receivedAt %s; want %d and the stored %s", got.Version, at, created.Version+1, want)
	}
	e.sameDocument("GetRequest after an update with ReceivedAt in UTC", e.get("r1"), got)
}
