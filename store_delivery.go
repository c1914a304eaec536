package tfpilot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/webhook"
)

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
// [webhook.Handler]. When s's store is a [store.DeliveryWriter], it claims and
// releases through the store and remembers each claim, so that s
// completes a delivery in the same transaction as the write that handles
// it (and the handler's CompleteDelivery then costs nothing); otherwise
// it is the store itself. Either way the claims are the store's:
// exactly-once handling and fencing are unchanged.
func (s *WebhookSink) Deliveries() webhook.Deliveries {
	if _, ok := s.store.(store.DeliveryWriter); !ok {
		return s.store
	}
	return sinkDeliveries{s}
}

// sinkDeliveries is [WebhookSink.Deliveries] over a [store.DeliveryWriter].
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

// commit is [Mutate] over a [store.DeliveryWriter]: the first try works on
// pre when it is not nil (read with the index lookup), and each write
// records the staged events with the change. When final, the write also
// completes delivery deliveryID, if s's Deliveries claimed it, with the
// outcome outcome returns after fn ran.
func (s *WebhookSink) commit(ctx context.Context, dw store.DeliveryWriter, id string, pre *Request, deliveryID string, final bool, fn func(r *Request) error, outcome func() string) (*Request, error) {
	return store.MutateWith(ctx, s.store, id, pre, fn, func(ctx context.Context, next *Request) (*Request, error) {
		var done *store.DeliveryDone
		rec, claimed := s.claims.get(deliveryID)
		if final && claimed && deliveryID != "" {
			done = &store.DeliveryDone{ID: deliveryID, Claim: rec.claim, Outcome: outcome()}
		}
		stored, completed, err := dw.CommitRequest(ctx, next, done)
		if err != nil {
			return nil, err
		}
		if completed {
			s.claims.put(deliveryID, claimRecord{claim: rec.claim, completed: true, outcome: done.Outcome})
		}
		if stored.Version == next.Version && len(next.Outbox) > 0 {
			// Nothing was written, so nothing was recorded: the staged
			// events go the plain way.
			return s.appendStaged(ctx, next)
		}
		return stored, nil
	})
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
