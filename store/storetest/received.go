package storetest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

// ReceivedAt is the list order's sort key, so UpdateRequest never
// changes it (see [store.RequestStore.UpdateRequest]).

func testUpdateChangingReceivedAt(e *env) {
	created := e.create(newRequest("r1"))
	e.clock.Advance(time.Minute)
	for _, d := range []time.Duration{time.Second, -time.Second, time.Microsecond, -time.Microsecond, 365 * 24 * time.Hour} {
		for _, alsoBranch := range []bool{false, true} {
			next := created.Clone()
			next.ReceivedAt = created.ReceivedAt.Add(d)
			if alsoBranch {
				next.BranchName = "tfpilot/r1"
			}
			_, err := e.s.UpdateRequest(e.ctx, next)
			e.wantErr(fmt.Sprintf("UpdateRequest moving ReceivedAt by %v (other change: %v)", d, alsoBranch), err, store.ErrInvalid, "r1")
			got := e.get("r1")
			if got.Version != created.Version {
				e.Fatalf("refused ReceivedAt change bumped version %d to %d", created.Version, got.Version)
			}
			e.sameDocument("request after a refused ReceivedAt change", got, created)
		}
	}
	p, err := e.s.ListRequests(e.ctx, store.ListQuery{})
	if err != nil || len(p.Requests) != 1 {
		e.Fatalf("ListRequests: %d requests, %v", len(p.Requests), err)
	}
	e.sameDocument("listed request after refused ReceivedAt changes", p.Requests[0], created)
}

func testUpdateZeroReceivedAt(e *env) {
	created := e.create(newRequest("r1"))
	e.clock.Advance(time.Minute)

	same := created.Clone()
	same.ReceivedAt = time.Time{}
	got, err := e.s.UpdateRequest(e.ctx, same)
	if err != nil {
		e.Fatalf("UpdateRequest with zero ReceivedAt and no other change: %v", err)
	}
	e.sameDocument("result of an update with zero ReceivedAt and no other change", got, created)
	e.sameDocument("request after an update with zero ReceivedAt and no other change", e.get("r1"), created)

	next := created.Clone()
	next.ReceivedAt = time.Time{}
	next.BranchName = "tfpilot/r1"
	got, err = e.s.UpdateRequest(e.ctx, next)
	if err != nil {
		e.Fatalf("UpdateRequest with zero ReceivedAt: %v", err)
	}
	if !next.ReceivedAt.IsZero() {
		e.Errorf("UpdateRequest changed its argument's ReceivedAt to %v", next.ReceivedAt)
	}
	if got.Version != created.Version+1 || got.BranchName != "tfpilot/r1" || !got.ReceivedAt.Equal(created.ReceivedAt) {
		e.Fatalf("update with zero ReceivedAt returned version %d branch %q receivedAt %v; want %d, tfpilot/r1, %v",
			got.Version, got.BranchName, got.ReceivedAt, created.Version+1, created.ReceivedAt)
	}
	stored := e.get("r1")
	e.sameDocument("GetRequest after an update with zero ReceivedAt", stored, got)
	p, err := e.s.ListRequests(e.ctx, store.ListQuery{})
	if err != nil || len(p.Requests) != 1 {
		e.Fatalf("ListRequests: %d requests, %v", len(p.Requests), err)
	}
	e.sameDocument("listed request after an update with zero ReceivedAt", p.Requests[0], stored)
}

// testUpdateReceivedAtAsRead writes back what GetRequest and
// ListRequests return for ReceivedAt values at the edges of a backend's
// precision (nanoseconds that round up to the next second at
// microseconds, a half microsecond, a zone other than UTC, the original
// TfPilot's millisecond format): each read-modify-write succeeds and
// keeps the value. So that accepting everything cannot pass, the value
// one microsecond away is refused.
func testUpdateReceivedAtAsRead(e *env) {
	var seed store.Request
	if err := json.Unmarshal(seedRequest, &seed); err != nil {
		e.Fatal(err)
	}
	var rs []*store.Request
	for i, at := range []time.Time{
		{}, // stamped by the store's clock
		time.Date(2025, 6, 1, 10, 0, 0, 999999999, time.UTC),
		time.Date(2025, 6, 1, 10, 0, 0, 123456500, time.UTC),
		time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.FixedZone("CEST", 2*60*60)),
	} {
		r := newRequest("r" + pad(i))
		r.ReceivedAt = at
		rs = append(rs, r)
	}
	rs = append(rs, &seed)
	for _, r := range rs {
		created := e.create(r)
		for round := range 3 {
			cur := e.get(r.ID)
			cur.Config["round"] = float64(round)
			got, err := e.s.UpdateRequest(e.ctx, cur)
			if err != nil {
				e.Fatalf("read-modify-write %d of %q (receivedAt %v as read): %v", round, r.ID, cur.ReceivedAt, err)
			}
			if !got.ReceivedAt.Equal(created.ReceivedAt) {
				e.Fatalf("read-modify-write %d of %q stored receivedAt %v, want %v", round, r.ID, got.ReceivedAt, created.ReceivedAt)
			}
			e.sameDocument("GetRequest after a read-modify-write", e.get(r.ID), got)
		}
		p, err := e.s.ListRequests(e.ctx, store.ListQuery{})
		if err != nil {
			e.Fatalf("ListRequests: %v", err)
		}
		for _, listed := range p.Requests {
			if listed.ID != r.ID {
				continue
			}
			listed.Config["round"] = "listed"
			got, err := e.s.UpdateRequest(e.ctx, listed)
			if err != nil {
				e.Fatalf("write of %q as listed (receivedAt %v): %v", r.ID, listed.ReceivedAt, err)
			}
			e.sameDocument("GetRequest after a write as listed", e.get(r.ID), got)
		}
		cur := e.get(r.ID)
		same, err := e.s.UpdateRequest(e.ctx, cur.Clone())
		if err != nil || same.Version != cur.Version {
			e.Fatalf("identical write of %q as read = %v, %v; want version %d", r.ID, same, err, cur.Version)
		}
		off := cur.Clone()
		off.ReceivedAt = cur.ReceivedAt.Add(time.Microsecond)
		off.Config["round"] = "off"
		_, err = e.s.UpdateRequest(e.ctx, off)
		e.wantErr(fmt.Sprintf("UpdateRequest of %q with receivedAt one microsecond after the value read", r.ID), err, store.ErrInvalid, r.ID)
		e.sameDocument("request after a refused ReceivedAt change", e.get(r.ID), cur)
	}
}
