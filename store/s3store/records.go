package s3store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

// idempotencyBody is the body of
// tfpilot/idempotency/<operation>/<key>.json. Response is kept as base64
// so that its bytes come back exactly as given.
type idempotencyBody struct {
	Operation   string    `json:"operation"`
	Key         string    `json:"key"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	RequestID   string    `json:"requestId,omitempty"`
	Response    []byte    `json:"response,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

func (b idempotencyBody) record() store.IdempotencyRecord {
	rec := store.IdempotencyRecord{
		Operation: b.Operation, Key: b.Key, Fingerprint: b.Fingerprint, RequestID: b.RequestID,
		CreatedAt: b.CreatedAt, ExpiresAt: b.ExpiresAt,
	}
	if b.Response != nil {
		rec.Response = json.RawMessage(b.Response)
	}
	return rec
}

// PutIdempotency implements [store.IdempotencyStore]. A new record is
// created with If-None-Match: *; an expired one is replaced with
// If-Match on the ETag read, so that of two processes racing to reuse an
// expired key exactly one wins.
func (s *Store) PutIdempotency(ctx context.Context, rec store.IdempotencyRecord) error {
	if rec.Operation == "" || rec.Key == "" || rec.ExpiresAt.IsZero() {
		return fmt.Errorf("s3store: put idempotency record %q/%q: empty operation, key or expiry: %w", rec.Operation, rec.Key, store.ErrInvalid)
	}
	now := s.now()
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = now
	}
	body, err := json.Marshal(idempotencyBody{
		Operation: rec.Operation, Key: rec.Key, Fingerprint: rec.Fingerprint, RequestID: rec.RequestID,
		Response: rec.Response, CreatedAt: rec.CreatedAt, ExpiresAt: rec.ExpiresAt,
	})
	if err != nil {
		return fmt.Errorf("s3store: put idempotency record %q/%q: %w", rec.Operation, rec.Key, err)
	}
	key := s.idempotencyKey(rec.Operation, rec.Key)
	c := cond{ifNoneMatch: true}
	for attempt := 1; ; attempt++ {
		_, err := s.put(ctx, key, body, c)
		switch {
		case err == nil:
			return nil
		case !isPrecondition(err):
			return fmt.Errorf("s3store: put idempotency record %q/%q: %w", rec.Operation, rec.Key, err)
		case c.ifMatch != "" || attempt >= maxRecordAttempts:
			// Another writer replaced the expired record first.
			return fmt.Errorf("s3store: put idempotency record %q/%q: %w", rec.Operation, rec.Key, store.ErrAlreadyExists)
		}
		cur, obj, err := s.loadIdempotency(ctx, key)
		switch {
		case isMissing(err):
			continue // removed meanwhile: create again
		case err != nil:
			return fmt.Errorf("s3store: put idempotency record %q/%q: %w", rec.Operation, rec.Key, err)
		case now.Before(cur.ExpiresAt):
			return fmt.Errorf("s3store: put idempotency record %q/%q: %w", rec.Operation, rec.Key, store.ErrAlreadyExists)
		}
		c = cond{ifMatch: obj.etag}
	}
}

func (s *Store) loadIdempotency(ctx context.Context, key string) (idempotencyBody, object, error) {
	obj, err := s.get(ctx, key)
	if err != nil {
		return idempotencyBody{}, object{}, err
	}
	var b idempotencyBody
	if err := json.Unmarshal(obj.body, &b); err != nil {
		return idempotencyBody{}, object{}, fmt.Errorf("decode %s: %w", key, err)
	}
	return b, obj, nil
}

// GetIdempotency implements [store.IdempotencyStore]. An expired record
// is [store.ErrNotFound].
func (s *Store) GetIdempotency(ctx context.Context, operation, key string) (store.IdempotencyRecord, error) {
	if operation == "" || key == "" {
		return store.IdempotencyRecord{}, fmt.Errorf("s3store: get idempotency record %q/%q: %w", operation, key, store.ErrNotFound)
	}
	b, _, err := s.loadIdempotency(ctx, s.idempotencyKey(operation, key))
	switch {
	case isMissing(err):
		return store.IdempotencyRecord{}, fmt.Errorf("s3store: get idempotency record %q/%q: %w", operation, key, store.ErrNotFound)
	case err != nil:
		return store.IdempotencyRecord{}, fmt.Errorf("s3store: get idempotency record %q/%q: %w", operation, key, err)
	case !s.now().Before(b.ExpiresAt):
		return store.IdempotencyRecord{}, fmt.Errorf("s3store: get idempotency record %q/%q: expired: %w", operation, key, store.ErrNotFound)
	}
	return b.record(), nil
}

// PutCost implements [store.CostStore]: it writes the non-empty
// documents of c to cost/<id>/infracost-cost.json and
// infracost-diff.json, as infracost's upload step does, byte for byte.
func (s *Store) PutCost(ctx context.Context, c store.Cost) error {
	if !safeID(c.RequestID) {
		return fmt.Errorf("s3store: put cost of request %q: empty or unusable request id: %w", c.RequestID, store.ErrInvalid)
	}
	for _, doc := range []struct {
		name string
		body []byte
	}{{costEstimateName, c.Estimate}, {costDiffName, c.Diff}} {
		if len(doc.body) == 0 {
			continue
		}
		if _, err := s.put(ctx, s.costKey(c.RequestID, doc.name), doc.body, cond{}); err != nil {
			return fmt.Errorf("s3store: put cost of request %q: %w", c.RequestID, err)
		}
	}
	return nil
}

// GetCost implements [store.CostStore]. Either document may be
// missing; [store.ErrNotFound] when both are.
func (s *Store) GetCost(ctx context.Context, requestID string) (store.Cost, error) {
	if !safeID(requestID) {
		return store.Cost{}, fmt.Errorf("s3store: get cost of request %q: %w", requestID, store.ErrNotFound)
	}
	c := store.Cost{RequestID: requestID}
	for _, doc := range []struct {
		name string
		dst  *json.RawMessage
	}{{costEstimateName, &c.Estimate}, {costDiffName, &c.Diff}} {
		obj, err := s.get(ctx, s.costKey(requestID, doc.name))
		switch {
		case isMissing(err):
			continue
		case err != nil:
			return store.Cost{}, fmt.Errorf("s3store: get cost of request %q: %w", requestID, err)
		}
		*doc.dst = obj.body
	}
	if c.Estimate == nil && c.Diff == nil {
		return store.Cost{}, fmt.Errorf("s3store: get cost of request %q: %w", requestID, store.ErrNotFound)
	}
	return c, nil
}
