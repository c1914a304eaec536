package tfpilot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/webhook"
)

// DeliveryWriter is an optional extension of a [Store], found by type
// assertion, that lets a [WebhookSink] handle a delivery in fewer round
// trips: the index lookup and the read of the request it names in one,
// and the compare-and-swap write, its lifecycle events and the
// delivery's completion in one transaction. A store without it is used
// through the plain methods (look up, read, write, flush the outbox,
// complete), with the same results.
//
// store/pgstore implements it; the conformance of its results with the
// plain methods' is tested there.
type DeliveryWriter interface {
	// LookupRunRequest is [RunIndex.LookupRun] followed by
	// [RequestStore.GetRequest] of the id found, read together. It
	// returns ErrNotFound when the run is not indexed, and the id with a
	// nil request when the index names a request that is not there
	// (absent or archived).
	LookupRunRequest(ctx context.Context, kind runs.Kind, runID int64) (id string, r *Request, err error)
	// LookupPRRequest is [PRIndex.LookupPR] followed by GetRequest, as
	// LookupRunRequest.
	LookupPRRequest(ctx context.Context, pr PRRef) (id string, r *Request, err error)
	// CommitRequest is [RequestStore.UpdateRequest] of r that also
	// records the events staged in r.Outbox (see [StageEvent]) in the
	// [EventStore] and stores r with an empty outbox, in one
	// transaction: the events are recorded if and only if the write is
	// made. An event whose id is already stored counts as recorded, as
	// in [FlushOutbox]. It returns the stored document (without the
	// outbox) and the errors of UpdateRequest; when r without its outbox
	// is identical to the stored document nothing is written and no
	// event is recorded.
	//
	// With done non-nil, the same transaction completes the delivery
	// done names, fenced on done.Claim as [DeliveryStore.CompleteDelivery]
	// is, when the write is made; completed reports whether it did. A
	// claim that no longer holds (it was replaced) leaves the delivery
	// as it is and does not stop the write: handling is idempotent, as
	// with a CompleteDelivery that fails after the work.
	CommitRequest(ctx context.Context, r *Request, done *DeliveryDone) (stored *Request, completed bool, err error)
}

// DeliveryDone names the delivery a [DeliveryWriter.CommitRequest]
// completes: its id, its claim's fencing value and its outcome.
type DeliveryDone struct {
	ID      string
	Claim   time.Time
	Outcome string
}

// claimRecord is what [WebhookSink.Deliveries] remembers of a claim
// while its delivery is handled.
type claimRecord struct {
	claim time.Time
	// completed and outcome are set once the sink completed the
	// delivery in its write.
	completed bool
	outcome   string
}

// claims is the sink's memory of the claims its [WebhookSink.Deliveries]
// made, by delivery id.
type claims struct {
	mu sync.Mutex
	m  map[string]claimRecord
}

func (c *claims) put(id string, rec claimRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]claimRecord{}
	}
	c.m[id] = rec
}

func (c *claims) get(id string) (claimRecord, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.m[id]
	return rec, ok
}

func (c *claims) take(id string) (claimRecord, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.m[id]
	delete(c.m, id)
	return rec, ok
}

// Deliveries returns the [webhook.Deliveries] to mount beside s in a
// [webhook.Handler]. When s's store is a [DeliveryWriter], it claims and
// releases through the store and remembers each claim, so that s
// completes a delivery in the same transaction as the write that handles
// it (and the handler's CompleteDelivery then costs nothing); otherwise
// it is the store itself. Either way the claims are the store's:
// exactly-once handling and fencing are unchanged.
func (s *WebhookSink) Deliveries() webhook.Deliveries {
	if _, ok := s.store.(DeliveryWriter); !ok {
		return s.store
	}
	return sinkDeliveries{s}
}

// sinkDeliveries is [WebhookSink.Deliveries] over a [DeliveryWriter].
type sinkDeliveries struct{ s *WebhookSink }

func (d sinkDeliveries) ClaimDelivery(ctx context.Context, id, event string) (time.Time, error) {
	claim, err := d.s.store.ClaimDelivery(ctx, id, event)
	if err == nil {
		d.s.claims.put(id, claimRecord{claim: claim})
	}
	return claim, err
}

func (d sinkDeliveries) CompleteDelivery(ctx context.Context, id string, claim time.Time, outcome string) error {
	rec, ok := d.s.claims.take(id)
	if ok && rec.completed && rec.claim.Equal(claim) && rec.outcome == outcome {
		return nil // completed by the write that handled it
	}
	return d.s.store.CompleteDelivery(ctx, id, claim, outcome)
}

func (d sinkDeliveries) ReleaseDelivery(ctx context.Context, id string, claim time.Time) error {
	d.s.claims.take(id)
	return d.s.store.ReleaseDelivery(ctx, id, claim)
}

// commit is [Mutate] over a [DeliveryWriter]: the first try works on
// pre when it is not nil (read with the index lookup), and each write
// records the staged events with the change. When final, the write also
// completes delivery deliveryID, if s's Deliveries claimed it, with the
// outcome outcome returns after fn ran.
func (s *WebhookSink) commit(ctx context.Context, dw DeliveryWriter, id string, pre *Request, deliveryID string, final bool, fn func(r *Request) error, outcome func() string) (*Request, error) {
	for attempt := 1; ; attempt++ {
		cur := pre
		pre = nil
		if cur == nil {
			var err error
			if cur, err = s.store.GetRequest(ctx, id); err != nil {
				return nil, err
			}
		}
		next := cur.Clone()
		if err := fn(next); err != nil {
			return nil, err
		}
		if next.ID != id {
			return nil, fmt.Errorf("tfpilot: update request %q: fn changed the id to %q: %w", id, next.ID, ErrInvalid)
		}
		next.Version = cur.Version
		var done *DeliveryDone
		rec, claimed := s.claims.get(deliveryID)
		if final && claimed && deliveryID != "" {
			done = &DeliveryDone{ID: deliveryID, Claim: rec.claim, Outcome: outcome()}
		}
		stored, completed, err := dw.CommitRequest(ctx, next, done)
		switch {
		case err == nil:
			if completed {
				s.claims.put(deliveryID, claimRecord{claim: rec.claim, completed: true, outcome: done.Outcome})
			}
			if stored.Version == cur.Version && len(next.Outbox) > 0 {
				// Nothing was written, so nothing was recorded: the
				// staged events go the plain way.
				stored = next
				stored.Version = cur.Version
				return s.appendStaged(ctx, stored)
			}
			return stored, nil
		case !errors.Is(err, ErrConflict):
			return nil, err
		case attempt >= MaxMutateAttempts:
			return nil, fmt.Errorf("tfpilot: update request %q: gave up after %d conflicting writes: %w", id, attempt, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// appendStaged appends r's staged events to the store one by one (an
// event already stored counts as appended).
func (s *WebhookSink) appendStaged(ctx context.Context, r *Request) (*Request, error) {
	for _, e := range r.Outbox {
		if _, err := s.store.AppendEvent(ctx, e); err != nil && !errors.Is(err, ErrAlreadyExists) {
			return nil, fmt.Errorf("tfpilot: record event %s %q of %q: %w", e.ID, e.Event, r.ID, err)
		}
	}
	return r, nil
}
