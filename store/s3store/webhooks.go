package s3store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// mappingBody is the body this package writes for a run-index or
// PR-index entry. Only requestId is read back.
type mappingBody struct {
	RequestID string    `json:"requestId"`
	Kind      string    `json:"kind,omitempty"`
	RunID     int64     `json:"runId,omitempty"`
	Owner     string    `json:"owner,omitempty"`
	Repo      string    `json:"repo,omitempty"`
	Number    int       `json:"number,omitempty"`
	IndexedAt time.Time `json:"indexedAt"`
}

// mappedID reads the request id of an index entry, liberally: a JSON
// object with requestId (or request_id, or id), a JSON string, or the id
// as plain text, which are the shapes the original system's entries
// take.
func mappedID(body []byte) (string, bool) {
	body = bytes.TrimSpace(body)
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) == nil {
		for _, name := range []string{"requestId", "request_id", "requestID", "id"} {
			var id string
			if json.Unmarshal(obj[name], &id) == nil && id != "" {
				return id, true
			}
		}
		return "", false
	}
	var id string
	if json.Unmarshal(body, &id) == nil {
		return id, id != ""
	}
	id = string(body)
	return id, safeID(id)
}

// putMapping creates the index entry at key for requestID with
// If-None-Match: *. An entry already naming requestID is success; one
// naming another request is [store.ErrAlreadyExists].
func (s *Store) putMapping(ctx context.Context, key, requestID string, body []byte) error {
	for attempt := 0; ; attempt++ {
		_, err := s.put(ctx, key, body, cond{ifNoneMatch: true})
		if err == nil || !isPrecondition(err) {
			return err
		}
		obj, err := s.get(ctx, key)
		switch {
		case isMissing(err) && attempt < 3:
			continue // deleted by hand meanwhile: try again
		case err != nil:
			return err
		}
		cur, ok := mappedID(obj.body)
		if ok && cur == requestID {
			return nil
		}
		return fmt.Errorf("held by request %q: %w", cur, store.ErrAlreadyExists)
	}
}

// lookupMapping reads the request id of the index entry at key.
func (s *Store) lookupMapping(ctx context.Context, key string) (string, error) {
	obj, err := s.get(ctx, key)
	switch {
	case isMissing(err):
		return "", store.ErrNotFound
	case err != nil:
		return "", err
	}
	id, ok := mappedID(obj.body)
	if !ok {
		return "", fmt.Errorf("%s names no request id", key)
	}
	return id, nil
}

// IndexRun implements [store.RunIndex] at
// webhooks/github/run-index/<kind>/run-<runId>.json, with a
// [mappingBody] as the body.
func (s *Store) IndexRun(ctx context.Context, kind runs.Kind, runID int64, requestID string) error {
	if !kind.Valid() || runID <= 0 || !safeID(requestID) {
		return fmt.Errorf("s3store: index %s run %d to request %q: %w", kind, runID, requestID, store.ErrInvalid)
	}
	body, err := json.Marshal(mappingBody{RequestID: requestID, Kind: string(kind), RunID: runID, IndexedAt: s.now()})
	if err == nil {
		err = s.putMapping(ctx, s.runIndexKey(kind, runID), requestID, body)
	}
	if err != nil {
		return fmt.Errorf("s3store: index %s run %d to request %q: %w", kind, runID, requestID, err)
	}
	return nil
}

// LookupRun implements [store.RunIndex].
func (s *Store) LookupRun(ctx context.Context, kind runs.Kind, runID int64) (string, error) {
	if !kind.Valid() || runID <= 0 {
		return "", fmt.Errorf("s3store: look up %s run %d: %w", kind, runID, store.ErrNotFound)
	}
	id, err := s.lookupMapping(ctx, s.runIndexKey(kind, runID))
	if err != nil {
		return "", fmt.Errorf("s3store: look up %s run %d: %w", kind, runID, err)
	}
	return id, nil
}

func validPR(pr store.PRRef) bool { return pr.Owner != "" && pr.Repo != "" && pr.Number > 0 }

// IndexPR implements [store.PRIndex] at
// webhooks/github/pr-index/<owner>_<repo>/pr-<number>.json, with a
// [mappingBody] as the body.
func (s *Store) IndexPR(ctx context.Context, pr store.PRRef, requestID string) error {
	if !validPR(pr) || !safeID(requestID) {
		return fmt.Errorf("s3store: index PR %s/%s#%d to request %q: %w", pr.Owner, pr.Repo, pr.Number, requestID, store.ErrInvalid)
	}
	body, err := json.Marshal(mappingBody{RequestID: requestID, Owner: pr.Owner, Repo: pr.Repo, Number: pr.Number, IndexedAt: s.now()})
	if err == nil {
		err = s.putMapping(ctx, s.prIndexKey(pr), requestID, body)
	}
	if err != nil {
		return fmt.Errorf("s3store: index PR %s/%s#%d to request %q: %w", pr.Owner, pr.Repo, pr.Number, requestID, err)
	}
	return nil
}

// LookupPR implements [store.PRIndex].
func (s *Store) LookupPR(ctx context.Context, pr store.PRRef) (string, error) {
	if !validPR(pr) {
		return "", fmt.Errorf("s3store: look up PR %s/%s#%d: %w", pr.Owner, pr.Repo, pr.Number, store.ErrNotFound)
	}
	id, err := s.lookupMapping(ctx, s.prIndexKey(pr))
	if err != nil {
		return "", fmt.Errorf("s3store: look up PR %s/%s#%d: %w", pr.Owner, pr.Repo, pr.Number, err)
	}
	return id, nil
}

// Delivery states in a [deliveryBody].
const (
	stateClaimed   = "claimed"
	stateCompleted = "completed"
)

// deliveryBody is the body of webhooks/github/deliveries/<id>.json. The
// original wrote the object once a delivery was handled, with the
// delivery id, the event and a time; an object without state is read as
// completed, at the first time field found, else its LastModified.
type deliveryBody struct {
	DeliveryID  string    `json:"deliveryId"`
	Event       string    `json:"event,omitempty"`
	State       string    `json:"state,omitempty"`
	ClaimedAt   time.Time `json:"claimedAt,omitzero"`
	CompletedAt time.Time `json:"completedAt,omitzero"`
	Outcome     string    `json:"outcome,omitempty"`
}

// legacyDelivery adds the time fields the original may have written.
type legacyDelivery struct {
	DeliveryID  string          `json:"deliveryId"`
	Event       string          `json:"event"`
	State       string          `json:"state"`
	Outcome     string          `json:"outcome"`
	ClaimedAt   json.RawMessage `json:"claimedAt"`
	CompletedAt json.RawMessage `json:"completedAt"`
	RecordedAt  json.RawMessage `json:"recordedAt"`
	ReceivedAt  json.RawMessage `json:"receivedAt"`
	ProcessedAt json.RawMessage `json:"processedAt"`
	At          json.RawMessage `json:"at"`
}

// decodeDelivery reads a delivery object liberally.
func decodeDelivery(id string, obj object) store.Delivery {
	var l legacyDelivery
	_ = json.Unmarshal(obj.body, &l) // an unreadable body is a completed delivery
	// The document as tfpilot decodes it keeps the fields a Delivery
	// does not model, so an export (and a copy) carries them.
	var d store.Delivery
	if json.Unmarshal(obj.body, &d) != nil {
		d = store.Delivery{}
	}
	d.ID, d.Event, d.Outcome, d.CompletedAt = id, l.Event, l.Outcome, time.Time{}
	d.ClaimedAt = legacyTime(time.Time{}, l.ClaimedAt, l.ReceivedAt, l.RecordedAt, l.ProcessedAt, l.At)
	if l.State == stateClaimed {
		if d.ClaimedAt.IsZero() {
			d.ClaimedAt = obj.modified
		}
		return d
	}
	d.CompletedAt = legacyTime(obj.modified, l.CompletedAt, l.ProcessedAt, l.RecordedAt, l.At, l.ReceivedAt)
	if d.ClaimedAt.IsZero() {
		d.ClaimedAt = d.CompletedAt
	}
	return d
}

// ClaimDelivery implements [store.DeliveryStore]: it creates
// webhooks/github/deliveries/<id>.json with If-None-Match: *, so that
// one claim wins; the losers, and claims of a delivery the original
// system recorded, get [store.ErrAlreadyExists]. When the object is an
// in-progress claim at least [store.DeliveryClaimTTL] old, it is
// replaced with If-Match on the ETag read, so that of concurrent
// reclaimers exactly one wins; a failed If-Match (412, 409, or 404 when
// the claim was released meanwhile) is a lost race. The claim's fencing
// value is its claimedAt, kept to the nanosecond in the JSON body.
func (s *Store) ClaimDelivery(ctx context.Context, id, event string) (time.Time, error) {
	if id == "" {
		return time.Time{}, fmt.Errorf("s3store: claim delivery: empty id: %w", store.ErrInvalid)
	}
	now := s.now()
	body, err := json.Marshal(deliveryBody{DeliveryID: id, Event: event, State: stateClaimed, ClaimedAt: now})
	if err != nil {
		return time.Time{}, fmt.Errorf("s3store: claim delivery %q: %w", id, err)
	}
	// The fence is the instant as the body keeps it (JSON drops the
	// monotonic reading and keeps the zone offset).
	var stored deliveryBody
	if err := json.Unmarshal(body, &stored); err != nil {
		return time.Time{}, fmt.Errorf("s3store: claim delivery %q: %w", id, err)
	}
	key := s.deliveryKey(id)
	c := cond{ifNoneMatch: true}
	for attempt := 1; ; attempt++ {
		_, err = s.put(ctx, key, body, c)
		switch {
		case err == nil:
			return stored.ClaimedAt, nil
		case !isPrecondition(err):
			return time.Time{}, fmt.Errorf("s3store: claim delivery %q: %w", id, err)
		case c.ifMatch != "" || attempt >= maxRecordAttempts:
			// Another claimer replaced the stale claim first.
			return time.Time{}, fmt.Errorf("s3store: claim delivery %q: %w", id, store.ErrAlreadyExists)
		}
		obj, err := s.get(ctx, key)
		switch {
		case isMissing(err):
			continue // released meanwhile: create again
		case err != nil:
			return time.Time{}, fmt.Errorf("s3store: claim delivery %q: %w", id, err)
		}
		if d := decodeDelivery(id, obj); !d.CompletedAt.IsZero() || now.Before(d.ClaimedAt.Add(store.DeliveryClaimTTL)) {
			return time.Time{}, fmt.Errorf("s3store: claim delivery %q: %w", id, store.ErrAlreadyExists)
		}
		c = cond{ifMatch: obj.etag}
	}
}

// maxRecordAttempts bounds the read-modify-write loops on delivery and
// idempotency objects.
const maxRecordAttempts = 8

// CompleteDelivery implements [store.DeliveryStore]: a read and a
// write with If-Match, retried when a concurrent change wins; a stored
// claim other than claim is [store.ErrConflict].
func (s *Store) CompleteDelivery(ctx context.Context, id string, claim time.Time, outcome string) error {
	key := s.deliveryKey(id)
	for attempt := 1; ; attempt++ {
		obj, err := s.get(ctx, key)
		switch {
		case isMissing(err):
			return fmt.Errorf("s3store: complete delivery %q: %w", id, store.ErrNotFound)
		case err != nil:
			return fmt.Errorf("s3store: complete delivery %q: %w", id, err)
		}
		d := decodeDelivery(id, obj)
		if !d.ClaimedAt.Equal(claim) {
			return fmt.Errorf("s3store: complete delivery %q claimed at %s: claimed again at %s: %w",
				id, claim.Format(time.RFC3339Nano), d.ClaimedAt.Format(time.RFC3339Nano), store.ErrConflict)
		}
		// d's JSON is a deliveryBody with the fields the object holds
		// and Delivery does not model (another program's), kept.
		d.CompletedAt, d.Outcome = s.now(), outcome
		body, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("s3store: complete delivery %q: %w", id, err)
		}
		_, err = s.put(ctx, key, body, cond{ifMatch: obj.etag})
		switch {
		case err == nil:
			return nil
		case !isPrecondition(err) || attempt >= maxRecordAttempts:
			return fmt.Errorf("s3store: complete delivery %q: %w", id, err)
		}
	}
}

// ReleaseDelivery implements [store.DeliveryStore]: it deletes the
// claim with If-Match, so that it never deletes a completion written
// meanwhile; a stored claim other than claim is [store.ErrConflict].
func (s *Store) ReleaseDelivery(ctx context.Context, id string, claim time.Time) error {
	key := s.deliveryKey(id)
	for attempt := 1; ; attempt++ {
		obj, err := s.get(ctx, key)
		switch {
		case isMissing(err):
			return nil
		case err != nil:
			return fmt.Errorf("s3store: release delivery %q: %w", id, err)
		}
		switch d := decodeDelivery(id, obj); {
		case !d.CompletedAt.IsZero():
			return fmt.Errorf("s3store: release delivery %q: completed: %w", id, store.ErrConflict)
		case !d.ClaimedAt.Equal(claim):
			return fmt.Errorf("s3store: release delivery %q claimed at %s: claimed again at %s: %w",
				id, claim.Format(time.RFC3339Nano), d.ClaimedAt.Format(time.RFC3339Nano), store.ErrConflict)
		}
		err = s.del(ctx, key, obj.etag)
		switch {
		case err == nil:
			return nil
		case !isPrecondition(err) || attempt >= maxRecordAttempts:
			return fmt.Errorf("s3store: release delivery %q: %w", id, err)
		}
	}
}

// GetDelivery implements [store.DeliveryStore].
func (s *Store) GetDelivery(ctx context.Context, id string) (store.Delivery, error) {
	obj, err := s.get(ctx, s.deliveryKey(id))
	switch {
	case isMissing(err):
		return store.Delivery{}, fmt.Errorf("s3store: get delivery %q: %w", id, store.ErrNotFound)
	case err != nil:
		return store.Delivery{}, fmt.Errorf("s3store: get delivery %q: %w", id, err)
	}
	return decodeDelivery(id, obj), nil
}

// rateLimitBody is the body of webhooks/github/ratelimit/<scope>.json.
type rateLimitBody struct {
	Scope  string    `json:"scope"`
	Until  time.Time `json:"until"`
	Reason string    `json:"reason,omitempty"`
}

// SetRateLimitBackoff implements [store.RateLimitStore] at
// webhooks/github/ratelimit/global.json or <owner>_<repo>.json. The last
// write wins, as the contract asks.
func (s *Store) SetRateLimitBackoff(ctx context.Context, b store.RateLimitBackoff) error {
	if b.Scope == "" {
		return fmt.Errorf("s3store: set rate-limit backoff: empty scope: %w", store.ErrInvalid)
	}
	body, err := json.Marshal(rateLimitBody(b))
	if err == nil {
		_, err = s.put(ctx, s.rateLimitKey(b.Scope), body, cond{})
	}
	if err != nil {
		return fmt.Errorf("s3store: set rate-limit backoff %q: %w", b.Scope, err)
	}
	return nil
}

// GetRateLimitBackoff implements [store.RateLimitStore]. It reads the
// time from until, backoffUntil or resetAt, as RFC 3339 or Unix
// milliseconds.
func (s *Store) GetRateLimitBackoff(ctx context.Context, scope string) (store.RateLimitBackoff, error) {
	if scope == "" {
		return store.RateLimitBackoff{}, fmt.Errorf("s3store: get rate-limit backoff: empty scope: %w", store.ErrNotFound)
	}
	obj, err := s.get(ctx, s.rateLimitKey(scope))
	switch {
	case isMissing(err):
		return store.RateLimitBackoff{}, fmt.Errorf("s3store: get rate-limit backoff %q: %w", scope, store.ErrNotFound)
	case err != nil:
		return store.RateLimitBackoff{}, fmt.Errorf("s3store: get rate-limit backoff %q: %w", scope, err)
	}
	var l struct {
		Scope        string          `json:"scope"`
		Reason       string          `json:"reason"`
		Until        json.RawMessage `json:"until"`
		BackoffUntil json.RawMessage `json:"backoffUntil"`
		ResetAt      json.RawMessage `json:"resetAt"`
	}
	if err := json.Unmarshal(obj.body, &l); err != nil {
		return store.RateLimitBackoff{}, fmt.Errorf("s3store: get rate-limit backoff %q: decode: %w", scope, err)
	}
	b := store.RateLimitBackoff{Scope: scope, Reason: l.Reason, Until: legacyTime(time.Time{}, l.Until, l.BackoffUntil, l.ResetAt)}
	if l.Scope != "" && !strings.EqualFold(l.Scope, scope) {
		return store.RateLimitBackoff{}, fmt.Errorf("s3store: get rate-limit backoff %q: the object holds scope %q: %w", scope, l.Scope, store.ErrNotFound)
	}
	return b, nil
}
