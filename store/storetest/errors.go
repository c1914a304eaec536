package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

var errorTests = []test{
	{"Errors/MalformedInputIsErrInvalid", testInvalidInput},
	{"Errors/CancelledContextStopsEveryMethod", testCancelled},
	{"Errors/UnencodableDocumentIsErrInvalid", testUnencodable}, // write.go
}

// call is one store method call for the table tests.
type call struct {
	name string
	do   func(ctx context.Context, s store.Store) error
}

func ignore[T any](_ T, err error) error { return err }

func testInvalidInput(e *env) {
	cur := e.create(newRequest("r1"))
	badID := cur.Clone()
	badID.ID = "../etc"
	exp := e.clock.Now().Add(time.Hour)
	for _, c := range []call{
		{"CreateRequest(nil)", func(ctx context.Context, s store.Store) error { return ignore(s.CreateRequest(ctx, nil)) }},
		{"CreateRequest(path id)", func(ctx context.Context, s store.Store) error {
			return ignore(s.CreateRequest(ctx, newRequest("../etc")))
		}},
		{"CreateRequest(empty id)", func(ctx context.Context, s store.Store) error { return ignore(s.CreateRequest(ctx, newRequest(""))) }},
		{"UpdateRequest(nil)", func(ctx context.Context, s store.Store) error { return ignore(s.UpdateRequest(ctx, nil)) }},
		{"UpdateRequest(path id)", func(ctx context.Context, s store.Store) error { return ignore(s.UpdateRequest(ctx, badID)) }},
		{"ListRequests(negative limit)", func(ctx context.Context, s store.Store) error {
			return ignore(s.ListRequests(ctx, store.ListQuery{Limit: -1}))
		}},
		{"ListRequests(unknown status)", func(ctx context.Context, s store.Store) error {
			return ignore(s.ListRequests(ctx, store.ListQuery{Statuses: []lifecycle.Status{"bogus"}}))
		}},
		{"ListRequests(malformed cursor)", func(ctx context.Context, s store.Store) error {
			return ignore(s.ListRequests(ctx, store.ListQuery{Cursor: "%%not a cursor%%"}))
		}},
		{"AppendEvent(no request id)", func(ctx context.Context, s store.Store) error {
			return ignore(s.AppendEvent(ctx, store.Event{Event: "created"}))
		}},
		{"AppendEvent(no event name)", func(ctx context.Context, s store.Store) error {
			return ignore(s.AppendEvent(ctx, store.Event{RequestID: "r1"}))
		}},
		{"IndexRun(unknown kind)", func(ctx context.Context, s store.Store) error { return s.IndexRun(ctx, "deploy", 1, "r1") }},
		{"IndexRun(run id 0)", func(ctx context.Context, s store.Store) error { return s.IndexRun(ctx, runs.Plan, 0, "r1") }},
		{"IndexRun(no request)", func(ctx context.Context, s store.Store) error { return s.IndexRun(ctx, runs.Plan, 1, "") }},
		{"IndexPR(no owner)", func(ctx context.Context, s store.Store) error {
			return s.IndexPR(ctx, store.PRRef{Repo: "infra", Number: 1}, "r1")
		}},
		{"IndexPR(no repo)", func(ctx context.Context, s store.Store) error {
			return s.IndexPR(ctx, store.PRRef{Owner: "acme", Number: 1}, "r1")
		}},
		{"IndexPR(number 0)", func(ctx context.Context, s store.Store) error {
			return s.IndexPR(ctx, store.PRRef{Owner: "acme", Repo: "infra"}, "r1")
		}},
		{"IndexPR(no request)", func(ctx context.Context, s store.Store) error {
			return s.IndexPR(ctx, store.PRRef{Owner: "acme", Repo: "infra", Number: 1}, "")
		}},
		{"ClaimDelivery(no id)", func(ctx context.Context, s store.Store) error {
			_, err := s.ClaimDelivery(ctx, "", "ping")
			return err
		}},
		{"PutIdempotency(no operation)", func(ctx context.Context, s store.Store) error {
			return s.PutIdempotency(ctx, store.IdempotencyRecord{Key: "k", ExpiresAt: exp})
		}},
		{"PutIdempotency(no key)", func(ctx context.Context, s store.Store) error {
			return s.PutIdempotency(ctx, store.IdempotencyRecord{Operation: "create", ExpiresAt: exp})
		}},
		{"PutIdempotency(no expiry)", func(ctx context.Context, s store.Store) error {
			return s.PutIdempotency(ctx, store.IdempotencyRecord{Operation: "create", Key: "k"})
		}},
		{"SetRateLimitBackoff(no scope)", func(ctx context.Context, s store.Store) error {
			return s.SetRateLimitBackoff(ctx, store.RateLimitBackoff{Until: exp})
		}},
		{"PutCost(no request)", func(ctx context.Context, s store.Store) error {
			return s.PutCost(ctx, store.Cost{Estimate: json.RawMessage(`{}`)})
		}},
	} {
		e.wantErr(c.name, c.do(e.ctx, e.s), store.ErrInvalid, "")
	}
	e.sameDocument("request after invalid calls", e.get("r1"), cur)
	if p, err := e.s.ListRequests(e.ctx, store.ListQuery{}); err != nil || len(p.Requests) != 1 {
		e.Errorf("ListRequests after invalid calls = %v, %v; want [r1]", ids(p.Requests), err)
	}
}

func testCancelled(e *env) {
	r := e.create(newRequest("r1"))
	next := r.Clone()
	next.BranchName = "b"
	exp := e.clock.Now().Add(time.Hour)
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	for _, c := range []call{
		{"GetRequest", func(ctx context.Context, s store.Store) error { return ignore(s.GetRequest(ctx, "r1")) }},
		{"CreateRequest", func(ctx context.Context, s store.Store) error {
			return ignore(s.CreateRequest(ctx, newRequest("r2")))
		}},
		{"UpdateRequest", func(ctx context.Context, s store.Store) error { return ignore(s.UpdateRequest(ctx, next)) }},
		{"ListRequests", func(ctx context.Context, s store.Store) error {
			return ignore(s.ListRequests(ctx, store.ListQuery{}))
		}},
		{"ArchiveRequest", func(ctx context.Context, s store.Store) error { return s.ArchiveRequest(ctx, "r1", r.Version) }},
		{"GetArchivedRequest", func(ctx context.Context, s store.Store) error { return ignore(s.GetArchivedRequest(ctx, "r1")) }},
		{"AppendEvent", func(ctx context.Context, s store.Store) error {
			return ignore(s.AppendEvent(ctx, store.Event{RequestID: "r1", Event: "created"}))
		}},
		{"ListEvents", func(ctx context.Context, s store.Store) error { return ignore(s.ListEvents(ctx, "r1")) }},
		{"IndexRun", func(ctx context.Context, s store.Store) error { return s.IndexRun(ctx, runs.Plan, 1, "r1") }},
		{"LookupRun", func(ctx context.Context, s store.Store) error { return ignore(s.LookupRun(ctx, runs.Plan, 1)) }},
		{"IndexPR", func(ctx context.Context, s store.Store) error {
			return s.IndexPR(ctx, store.PRRef{Owner: "acme", Repo: "infra", Number: 1}, "r1")
		}},
		{"LookupPR", func(ctx context.Context, s store.Store) error {
			return ignore(s.LookupPR(ctx, store.PRRef{Owner: "acme", Repo: "infra", Number: 1}))
		}},
		{"ClaimDelivery", func(ctx context.Context, s store.Store) error {
			_, err := s.ClaimDelivery(ctx, "d1", "ping")
			return err
		}},
		{"CompleteDelivery", func(ctx context.Context, s store.Store) error {
			return s.CompleteDelivery(ctx, "d1", time.Time{}, "ok")
		}},
		{"ReleaseDelivery", func(ctx context.Context, s store.Store) error { return s.ReleaseDelivery(ctx, "d1", time.Time{}) }},
		{"GetDelivery", func(ctx context.Context, s store.Store) error { return ignore(s.GetDelivery(ctx, "d1")) }},
		{"PutIdempotency", func(ctx context.Context, s store.Store) error {
			return s.PutIdempotency(ctx, store.IdempotencyRecord{Operation: "create", Key: "k", ExpiresAt: exp})
		}},
		{"GetIdempotency", func(ctx context.Context, s store.Store) error { return ignore(s.GetIdempotency(ctx, "create", "k")) }},
		{"SetRateLimitBackoff", func(ctx context.Context, s store.Store) error {
			return s.SetRateLimitBackoff(ctx, store.RateLimitBackoff{Scope: "global", Until: exp})
		}},
		{"GetRateLimitBackoff", func(ctx context.Context, s store.Store) error { return ignore(s.GetRateLimitBackoff(ctx, "global")) }},
		{"PutCost", func(ctx context.Context, s store.Store) error {
			return s.PutCost(ctx, store.Cost{RequestID: "r1", Estimate: json.RawMessage(`{}`)})
		}},
		{"GetCost", func(ctx context.Context, s store.Store) error { return ignore(s.GetCost(ctx, "r1")) }},
	} {
		if err := c.do(ctx, e.s); !errors.Is(err, context.Canceled) {
			e.Errorf("%s with a cancelled context = %v, want an error wrapping context.Canceled", c.name, err)
		}
	}
	// Nothing was written.
	e.sameDocument("request after cancelled calls", e.get("r1"), r)
	if _, err := e.s.GetRequest(e.ctx, "r2"); !errors.Is(err, store.ErrNotFound) {
		e.Errorf("a cancelled CreateRequest stored r2: %v", err)
	}
	if _, err := e.s.GetDelivery(e.ctx, "d1"); !errors.Is(err, store.ErrNotFound) {
		e.Errorf("a cancelled ClaimDelivery claimed d1: %v", err)
	}
}
