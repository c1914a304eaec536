package memstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// AppendEvent implements [store.EventStore].
func (s *Store) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	if e.RequestID == "" || e.Event == "" {
		return store.Event{}, fmt.Errorf("memstore: append event %q to request %q: empty request id or event name: %w", e.ID, e.RequestID, store.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return store.Event{}, fmt.Errorf("memstore: append event to request %q: %w", e.RequestID, err)
	}
	var data []byte
	if e.Data != nil {
		var err error
		if data, err = json.Marshal(e.Data); err != nil {
			return store.Event{}, fmt.Errorf("memstore: append event to request %q: encode data: %w: %w", e.RequestID, store.ErrInvalid, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Timestamp.IsZero() {
		e.Timestamp = s.now()
	}
	list := s.events[e.RequestID]
	if e.ID == "" {
		s.eventSeq++
		e.ID = fmt.Sprintf("%s-%08d", e.Timestamp.UTC().Format("20060102T150405.000000000Z"), s.eventSeq)
	}
	for _, x := range list {
		if x.ev.ID == e.ID {
			return store.Event{}, fmt.Errorf("memstore: append event %q to request %q: %w", e.ID, e.RequestID, store.ErrAlreadyExists)
		}
	}
	e.Data = nil
	list = append(list, storedEvent{ev: e, data: data})
	slices.SortStableFunc(list, func(a, b storedEvent) int {
		if c := a.ev.Timestamp.Compare(b.ev.Timestamp); c != 0 {
			return c
		}
		return cmp.Compare(a.ev.ID, b.ev.ID)
	})
	s.events[e.RequestID] = list
	return withData(e, data), nil
}

func withData(e store.Event, data []byte) store.Event {
	if data != nil {
		_ = json.Unmarshal(data, &e.Data) // data was encoded from a map
	}
	return e
}

// ListEvents implements [store.EventStore].
func (s *Store) ListEvents(ctx context.Context, requestID string) ([]store.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: list events of request %q: %w", requestID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.events[requestID]
	out := make([]store.Event, len(list))
	for i, x := range list {
		out[i] = withData(x.ev, x.data)
	}
	return out, nil
}

// IndexRun implements [store.RunIndex].
func (s *Store) IndexRun(ctx context.Context, kind runs.Kind, runID int64, requestID string) error {
	if !kind.Valid() || runID <= 0 || requestID == "" {
		return fmt.Errorf("memstore: index %s run %d to request %q: %w", kind, runID, requestID, store.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: index %s run %d: %w", kind, runID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := runKey{kind, runID}
	if cur, ok := s.runIndex[k]; ok {
		if cur == requestID {
			return nil
		}
		return fmt.Errorf("memstore: index %s run %d to request %q: held by request %q: %w", kind, runID, requestID, cur, store.ErrAlreadyExists)
	}
	s.runIndex[k] = requestID
	return nil
}

// LookupRun implements [store.RunIndex].
func (s *Store) LookupRun(ctx context.Context, kind runs.Kind, runID int64) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("memstore: look up %s run %d: %w", kind, runID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.runIndex[runKey{kind, runID}]
	if !ok {
		return "", fmt.Errorf("memstore: look up %s run %d: %w", kind, runID, store.ErrNotFound)
	}
	return id, nil
}

func validPR(pr store.PRRef) bool { return pr.Owner != "" && pr.Repo != "" && pr.Number > 0 }

// IndexPR implements [store.PRIndex].
func (s *Store) IndexPR(ctx context.Context, pr store.PRRef, requestID string) error {
	if !validPR(pr) || requestID == "" {
		return fmt.Errorf("memstore: index PR %s/%s#%d to request %q: %w", pr.Owner, pr.Repo, pr.Number, requestID, store.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: index PR %s/%s#%d: %w", pr.Owner, pr.Repo, pr.Number, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.prIndex[pr]; ok {
		if cur == requestID {
			return nil
		}
		return fmt.Errorf("memstore: index PR %s/%s#%d to request %q: held by request %q: %w", pr.Owner, pr.Repo, pr.Number, requestID, cur, store.ErrAlreadyExists)
	}
	s.prIndex[pr] = requestID
	return nil
}

// LookupPR implements [store.PRIndex].
func (s *Store) LookupPR(ctx context.Context, pr store.PRRef) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("memstore: look up PR %s/%s#%d: %w", pr.Owner, pr.Repo, pr.Number, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.prIndex[pr]
	if !ok {
		return "", fmt.Errorf("memstore: look up PR %s/%s#%d: %w", pr.Owner, pr.Repo, pr.Number, store.ErrNotFound)
	}
	return id, nil
}

// ClaimDelivery implements [store.DeliveryStore]. An in-progress claim
// at least [store.DeliveryClaimTTL] old is replaced; under the mutex,
// one claimer sees it stale and the rest see the replacement.
func (s *Store) ClaimDelivery(ctx context.Context, id, event string) (time.Time, error) {
	if id == "" {
		return time.Time{}, fmt.Errorf("memstore: claim delivery: empty id: %w", store.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return time.Time{}, fmt.Errorf("memstore: claim delivery %q: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if d, ok := s.deliveries[id]; ok && (!d.CompletedAt.IsZero() || now.Before(d.ClaimedAt.Add(store.DeliveryClaimTTL))) {
		return time.Time{}, fmt.Errorf("memstore: claim delivery %q: %w", id, store.ErrAlreadyExists)
	}
	s.deliveries[id] = store.Delivery{ID: id, Event: event, ClaimedAt: now}
	return now, nil
}

// CompleteDelivery implements [store.DeliveryStore].
func (s *Store) CompleteDelivery(ctx context.Context, id string, claim time.Time, outcome string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: complete delivery %q: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deliveries[id]
	switch {
	case !ok:
		return fmt.Errorf("memstore: complete delivery %q: %w", id, store.ErrNotFound)
	case !d.ClaimedAt.Equal(claim):
		return fmt.Errorf("memstore: complete delivery %q claimed at %s: claimed again at %s: %w",
			id, claim.Format(time.RFC3339Nano), d.ClaimedAt.Format(time.RFC3339Nano), store.ErrConflict)
	}
	d.CompletedAt, d.Outcome = s.now(), outcome
	s.deliveries[id] = d
	return nil
}

// ReleaseDelivery implements [store.DeliveryStore].
func (s *Store) ReleaseDelivery(ctx context.Context, id string, claim time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: release delivery %q: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deliveries[id]
	switch {
	case !ok:
		return nil
	case !d.CompletedAt.IsZero():
		return fmt.Errorf("memstore: release delivery %q: completed: %w", id, store.ErrConflict)
	case !d.ClaimedAt.Equal(claim):
		return fmt.Errorf("memstore: release delivery %q claimed at %s: claimed again at %s: %w",
			id, claim.Format(time.RFC3339Nano), d.ClaimedAt.Format(time.RFC3339Nano), store.ErrConflict)
	}
	delete(s.deliveries, id)
	return nil
}

// GetDelivery implements [store.DeliveryStore].
func (s *Store) GetDelivery(ctx context.Context, id string) (store.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return store.Delivery{}, fmt.Errorf("memstore: get delivery %q: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deliveries[id]
	if !ok {
		return store.Delivery{}, fmt.Errorf("memstore: get delivery %q: %w", id, store.ErrNotFound)
	}
	return d, nil
}

// PutIdempotency implements [store.IdempotencyStore].
func (s *Store) PutIdempotency(ctx context.Context, rec store.IdempotencyRecord) error {
	if rec.Operation == "" || rec.Key == "" || rec.ExpiresAt.IsZero() {
		return fmt.Errorf("memstore: put idempotency record %q/%q: empty operation, key or expiry: %w", rec.Operation, rec.Key, store.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: put idempotency record %q/%q: %w", rec.Operation, rec.Key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	k := idemKey{rec.Operation, rec.Key}
	if cur, ok := s.idem[k]; ok && now.Before(cur.ExpiresAt) {
		return fmt.Errorf("memstore: put idempotency record %q/%q: %w", rec.Operation, rec.Key, store.ErrAlreadyExists)
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = now
	}
	rec.Response = bytes.Clone(rec.Response)
	s.idem[k] = rec
	return nil
}

// GetIdempotency implements [store.IdempotencyStore].
func (s *Store) GetIdempotency(ctx context.Context, operation, key string) (store.IdempotencyRecord, error) {
	if err := ctx.Err(); err != nil {
		return store.IdempotencyRecord{}, fmt.Errorf("memstore: get idempotency record %q/%q: %w", operation, key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.idem[idemKey{operation, key}]
	if !ok || !s.now().Before(rec.ExpiresAt) {
		return store.IdempotencyRecord{}, fmt.Errorf("memstore: get idempotency record %q/%q: %w", operation, key, store.ErrNotFound)
	}
	rec.Response = bytes.Clone(rec.Response)
	return rec, nil
}

// SetRateLimitBackoff implements [store.RateLimitStore].
func (s *Store) SetRateLimitBackoff(ctx context.Context, b store.RateLimitBackoff) error {
	if b.Scope == "" {
		return fmt.Errorf("memstore: set rate-limit backoff: empty scope: %w", store.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: set rate-limit backoff %q: %w", b.Scope, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backoffs[b.Scope] = b
	return nil
}

// GetRateLimitBackoff implements [store.RateLimitStore].
func (s *Store) GetRateLimitBackoff(ctx context.Context, scope string) (store.RateLimitBackoff, error) {
	if err := ctx.Err(); err != nil {
		return store.RateLimitBackoff{}, fmt.Errorf("memstore: get rate-limit backoff %q: %w", scope, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.backoffs[scope]
	if !ok {
		return store.RateLimitBackoff{}, fmt.Errorf("memstore: get rate-limit backoff %q: %w", scope, store.ErrNotFound)
	}
	return b, nil
}

// PutCost implements [store.CostStore].
func (s *Store) PutCost(ctx context.Context, c store.Cost) error {
	if c.RequestID == "" {
		return fmt.Errorf("memstore: put cost: empty request id: %w", store.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: put cost of request %q: %w", c.RequestID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.costs[c.RequestID]
	cur.RequestID = c.RequestID
	if len(c.Estimate) > 0 {
		cur.Estimate = bytes.Clone(c.Estimate)
	}
	if len(c.Diff) > 0 {
		cur.Diff = bytes.Clone(c.Diff)
	}
	if len(cur.Estimate) > 0 || len(cur.Diff) > 0 {
		s.costs[c.RequestID] = cur
	}
	return nil
}

// GetCost implements [store.CostStore].
func (s *Store) GetCost(ctx context.Context, requestID string) (store.Cost, error) {
	if err := ctx.Err(); err != nil {
		return store.Cost{}, fmt.Errorf("memstore: get cost of request %q: %w", requestID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.costs[requestID]
	if !ok {
		return store.Cost{}, fmt.Errorf("memstore: get cost of request %q: %w", requestID, store.ErrNotFound)
	}
	c.Estimate, c.Diff = bytes.Clone(c.Estimate), bytes.Clone(c.Diff)
	return c, nil
}
