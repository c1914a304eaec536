package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/tfpilot/tfpilot/runs"
)

// A backend may offer two optional extensions of [Store], found by type
// assertion, for moving and auditing everything a store holds:
//
//	exp, ok := s.(store.Exporter)
//	imp, ok := s.(store.Importer)
//
// The migrate package builds its copy and audit on them.

// ItemKind names one kind of thing a [Store] holds.
type ItemKind string

// The kinds of [Item], in the order a copy writes them: requests before
// the items that refer to them.
const (
	KindRequest         ItemKind = "request"          // a live request document
	KindArchivedRequest ItemKind = "archived_request" // a request in history
	KindEvent           ItemKind = "event"            // a lifecycle event
	KindRunIndex        ItemKind = "run_index"        // a run index entry
	KindPRIndex         ItemKind = "pr_index"         // a PR index entry
	KindDelivery        ItemKind = "delivery"         // a webhook delivery claim
	KindIdempotency     ItemKind = "idempotency"      // an idempotency record
	KindCost            ItemKind = "cost"             // a request's cost documents
)

// ItemKinds lists every [ItemKind] in copy order. Rate-limit backoffs
// are not items: they are minutes-long hints, not data worth moving.
func ItemKinds() []ItemKind {
	return []ItemKind{KindRequest, KindArchivedRequest, KindEvent, KindRunIndex, KindPRIndex, KindDelivery, KindIdempotency, KindCost}
}

// Valid reports whether k is one of the kinds [ItemKinds] lists.
func (k ItemKind) Valid() bool {
	switch k {
	case KindRequest, KindArchivedRequest, KindEvent, KindRunIndex, KindPRIndex, KindDelivery, KindIdempotency, KindCost:
		return true
	}
	return false
}

// RunIndexEntry is one entry of a [RunIndex].
type RunIndexEntry struct {
	Kind      runs.Kind `json:"kind"`
	RunID     int64     `json:"runId"`
	RequestID string    `json:"requestId"`
}

// PRIndexEntry is one entry of a [PRIndex].
type PRIndexEntry struct {
	PR        PRRef  `json:"pr"`
	RequestID string `json:"requestId"`
}

// Item is one thing a store holds, as [Exporter] hands it out and
// [Importer] takes it in. Kind says which one field is set: Request for
// [KindRequest] and [KindArchivedRequest], Event for [KindEvent], and so
// on.
type Item struct {
	Kind        ItemKind
	Request     *Request
	Event       *Event
	Run         *RunIndexEntry
	PR          *PRIndexEntry
	Delivery    *Delivery
	Idempotency *IdempotencyRecord
	Cost        *Cost
}

// Exporter is a [Store] that can hand out everything it holds, one kind
// at a time, for copies and audits.
type Exporter interface {
	// Export calls fn with every item of kind the store holds, one at a
	// time and without holding the store's locks, so fn may call the
	// store. Items are read as the walk reaches them (never all at
	// once); an item written during the walk may or may not be seen.
	// The order is fixed by the backend and is the same on every walk
	// of unchanged data. An error from fn stops the walk and is returned
	// as is; an unknown kind is [ErrInvalid].
	Export(ctx context.Context, kind ItemKind, fn func(Item) error) error
}

// Importer is a [Store] that can take items in as they are: a request
// keeps its Version, timestamps and unknown fields, an event its ID and
// Timestamp, a delivery its claim and completion times, an idempotency
// record its CreatedAt and ExpiresAt (even past ones).
type Importer interface {
	// Import writes it if the store holds no item with its key
	// ([Item.Key]) and returns true. If an item with that key is stored
	// and is identical (same [Item.Canonical] form) it writes nothing
	// and returns false, so importing twice is harmless. If the stored
	// item differs, it writes nothing and returns an error wrapping
	// [ErrAlreadyExists]. A request id that is live in one place and
	// archived in the other counts as different. A malformed item is
	// [ErrInvalid]. An interrupted import leaves the item absent or
	// whole, or, where the backend stores one item as several objects
	// (s3store's two cost documents), in a state that importing it again
	// completes. When ctx ends during an import, the item may have been
	// stored although Import returns an error.
	Import(ctx context.Context, it Item) (written bool, err error)
}

// Check reports whether it is well formed enough to be stored: its Kind
// is valid, the matching field is set, its key fields are non-empty and
// the times an import keeps are set (an event's Timestamp, a delivery's
// ClaimedAt, an idempotency record's CreatedAt and ExpiresAt). A
// request's ID must pass [ValidateRequestID]; its other identifiers are
// taken as they are, since old documents may predate today's rules. The
// error wraps [ErrInvalid].
func (it Item) Check() error {
	bad := func(why string) error {
		return fmt.Errorf("store: %s item %s: %s: %w", it.Kind, it.Key(), why, ErrInvalid)
	}
	switch it.Kind {
	case KindRequest, KindArchivedRequest:
		if it.Request == nil {
			return bad("no request")
		}
		if err := ValidateRequestID(it.Request.ID); err != nil {
			return fmt.Errorf("store: %s item: %w", it.Kind, err)
		}
	case KindEvent:
		if it.Event == nil || it.Event.RequestID == "" || it.Event.ID == "" || it.Event.Event == "" {
			return bad("event without request id, id or name")
		}
		if it.Event.Timestamp.IsZero() {
			return bad("event without timestamp")
		}
	case KindRunIndex:
		if it.Run == nil || !it.Run.Kind.Valid() || it.Run.RunID <= 0 || it.Run.RequestID == "" {
			return bad("run index entry without valid kind, run id or request id")
		}
	case KindPRIndex:
		if it.PR == nil || it.PR.PR.Owner == "" || it.PR.PR.Repo == "" || it.PR.PR.Number <= 0 || it.PR.RequestID == "" {
			return bad("PR index entry without owner, repo, number or request id")
		}
	case KindDelivery:
		if it.Delivery == nil || it.Delivery.ID == "" || it.Delivery.ClaimedAt.IsZero() {
			return bad("delivery without id or claim time")
		}
	case KindIdempotency:
		if it.Idempotency == nil || it.Idempotency.Operation == "" || it.Idempotency.Key == "" ||
			it.Idempotency.CreatedAt.IsZero() || it.Idempotency.ExpiresAt.IsZero() {
			return bad("idempotency record without operation, key, creation time or expiry")
		}
	case KindCost:
		if it.Cost == nil || it.Cost.RequestID == "" || len(it.Cost.Estimate) == 0 && len(it.Cost.Diff) == 0 {
			return bad("cost without request id or documents")
		}
	default:
		return fmt.Errorf("store: item kind %q: %w", it.Kind, ErrInvalid)
	}
	return nil
}

// Key identifies it among the items of its kind, e.g. "r1" for a
// request, "r1/ev-3" for an event, "plan/4711" for a run index entry,
// "acme/infra#12" for a PR index entry. Two items with the same Kind and
// Key are the same item; [Importer.Import] stores at most one.
func (it Item) Key() string {
	switch {
	case (it.Kind == KindRequest || it.Kind == KindArchivedRequest) && it.Request != nil:
		return it.Request.ID
	case it.Kind == KindEvent && it.Event != nil:
		return it.Event.RequestID + "/" + it.Event.ID
	case it.Kind == KindRunIndex && it.Run != nil:
		return string(it.Run.Kind) + "/" + strconv.FormatInt(it.Run.RunID, 10)
	case it.Kind == KindPRIndex && it.PR != nil:
		return it.PR.PR.Owner + "/" + it.PR.PR.Repo + "#" + strconv.Itoa(it.PR.PR.Number)
	case it.Kind == KindDelivery && it.Delivery != nil:
		return it.Delivery.ID
	case it.Kind == KindIdempotency && it.Idempotency != nil:
		return it.Idempotency.Operation + "/" + it.Idempotency.Key
	case it.Kind == KindCost && it.Cost != nil:
		return it.Cost.RequestID
	}
	return ""
}

// Canonical returns it's canonical JSON: object keys sorted, no
// insignificant space, numbers as written, times in UTC at microsecond
// precision (what every backend keeps; PostgreSQL keeps no more). A
// request is its full document, Version and unknown fields included;
// an event and a delivery include their unknown fields too.
// Two items are identical when their Kind and Canonical forms are; the
// migrate package checksums these bytes.
func (it Item) Canonical() ([]byte, error) {
	if err := it.Check(); err != nil {
		return nil, err
	}
	var v any
	switch it.Kind {
	case KindRequest, KindArchivedRequest:
		v = it.Request
	case KindEvent:
		e := *it.Event
		e.Timestamp = portableTime(e.Timestamp)
		v = e
	case KindRunIndex:
		v = it.Run
	case KindPRIndex:
		v = it.PR
	case KindDelivery:
		d := *it.Delivery
		v = struct {
			ID          string    `json:"id"`
			Event       string    `json:"event"`
			ClaimedAt   time.Time `json:"claimedAt"`
			CompletedAt time.Time `json:"completedAt,omitzero"`
			Outcome     string    `json:"outcome,omitempty"`
			// Unknown holds the stored document's fields Delivery
			// does not model, so that a copy that drops one differs.
			Unknown map[string]json.RawMessage `json:"unknown,omitempty"`
		}{d.ID, d.Event, portableTime(d.ClaimedAt), portableTime(d.CompletedAt), d.Outcome, d.UnknownFields()}
	case KindIdempotency:
		r := *it.Idempotency
		v = struct {
			Operation   string          `json:"operation"`
			Key         string          `json:"key"`
			Fingerprint string          `json:"fingerprint,omitempty"`
			RequestID   string          `json:"requestId,omitempty"`
			Response    json.RawMessage `json:"response,omitempty"`
			CreatedAt   time.Time       `json:"createdAt"`
			ExpiresAt   time.Time       `json:"expiresAt"`
		}{r.Operation, r.Key, r.Fingerprint, r.RequestID, rawOrNil(r.Response), portableTime(r.CreatedAt), portableTime(r.ExpiresAt)}
	case KindCost:
		// Cost documents are kept byte for byte, so they are compared
		// as bytes, not as JSON.
		c := it.Cost
		v = struct {
			RequestID string `json:"requestId"`
			Estimate  []byte `json:"estimate,omitempty"`
			Diff      []byte `json:"diff,omitempty"`
		}{c.RequestID, c.Estimate, c.Diff}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("store: encode %s item %s: %w", it.Kind, it.Key(), err)
	}
	return canonicalJSON(b)
}

// portableTime is t in UTC truncated to microseconds.
func portableTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// rawOrNil returns b if it is JSON, else b encoded as a JSON string, so
// that a response stored as arbitrary bytes still encodes.
func rawOrNil(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b)) // a string always encodes
	return s
}

// canonicalJSON re-encodes the JSON value b with sorted keys and no
// insignificant space, keeping numbers as written.
func canonicalJSON(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("store: canonical JSON: %w", err)
	}
	return json.Marshal(v)
}
