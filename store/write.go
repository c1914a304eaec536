package store

import (
	"bytes"
	"fmt"
	"time"
)

// Write is a request document prepared for a backend to store: the
// rules of [RequestStore.CreateRequest] and [RequestStore.UpdateRequest]
// that need no stored state, applied once by [PrepareCreate] or
// [PrepareUpdate], and those that need the stored document applied by
// [Write.Against]. A backend does only what must be atomic with them:
// the create-if-absent or the compare-and-swap (see the package doc,
// "Writing a backend").
type Write struct {
	// Request is the document to store: a copy of the caller's, at the
	// version it has once written (1 for a create, the caller's plus one
	// for an update), with the timestamps the rules set. Backends encode
	// it and may return it; they must not change it.
	Request *Request
	// Facts is what the document contributes to list filters and
	// insights. Facts.Status is the clock-free [lifecycle.IndexStatus]
	// a backend keeps beside the document for status filters.
	Facts InsightFacts
	// Base is the version the stored document must have for the write
	// to apply: the caller's Version for an update, 0 for a create.
	Base int64

	op  string // "create request \"id\"", for errors
	doc []byte // canonical encoding of Request, once computed
}

// PrepareCreate prepares r to be created at now, the store's clock: it
// checks r's id ([Request.ValidateID]; nil or invalid is [ErrInvalid]),
// copies it, sets Version to 1 and a zero ReceivedAt or UpdatedAt to
// now, and derives its facts. Errors name the write
// (`create request "id": …`); a backend adds its own prefix.
func PrepareCreate(r *Request, now time.Time) (*Write, error) {
	w, err := prepare("create", r)
	if err != nil {
		return nil, err
	}
	c := w.Request
	c.Version = 1
	if c.ReceivedAt.IsZero() {
		c.ReceivedAt = now
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = now
	}
	return w, nil
}

// PrepareUpdate prepares r to replace the stored document at version
// r.Version: it checks r's id as [PrepareCreate] does, copies it at
// version r.Version+1 and derives its facts. ReceivedAt is as sent until
// [Write.Against] checks it against the stored document; a backend that
// never sees the stored document applies that rule atomically itself
// (pgstore does, in its compare-and-swap statement).
func PrepareUpdate(r *Request) (*Write, error) {
	w, err := prepare("update", r)
	if err != nil {
		return nil, err
	}
	w.Base = r.Version
	w.Request.Version = r.Version + 1
	return w, nil
}

func prepare(verb string, r *Request) (*Write, error) {
	if r == nil {
		return nil, fmt.Errorf("%s request: nil request: %w", verb, ErrInvalid)
	}
	op := fmt.Sprintf("%s request %q", verb, r.ID)
	if err := r.ValidateID(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	c := r.Clone()
	return &Write{Request: c, Facts: InsightFactsOf(c), op: op}, nil
}

// Canonical returns the canonical encoding of w.Request
// ([Request.CanonicalJSON]), computed once. A document that cannot be
// encoded (a NaN in its config, say) is [ErrInvalid].
func (w *Write) Canonical() ([]byte, error) {
	if w.doc == nil {
		doc, err := w.Request.CanonicalJSON()
		if err != nil {
			return nil, fmt.Errorf("%s: encode: %w: %w", w.op, ErrInvalid, err)
		}
		w.doc = doc
	}
	return w.doc, nil
}

// Against applies the update rules that need the stored document cur:
// its version must be w.Base, else [ErrConflict]; a non-zero ReceivedAt
// sent must be cur's at precision, what the backend keeps of a time
// ([SameReceivedAt]), else [ErrInvalid]; then w.Request takes cur's
// ReceivedAt as stored (zone included). It reports whether the write
// changes nothing: w.Request's canonical encoding ([Write.Canonical])
// equals cur's. curDoc is cur's canonical encoding when the backend
// keeps it, or nil to compute it. On a no-op the backend writes nothing
// and returns cur.
func (w *Write) Against(cur *Request, curDoc []byte, precision time.Duration) (unchanged bool, err error) {
	sent := w.Request.ReceivedAt
	switch {
	case cur.Version != w.Base:
		return false, fmt.Errorf("%s at version %d (stored %d): %w", w.op, w.Base, cur.Version, ErrConflict)
	case !SameReceivedAt(sent, cur.ReceivedAt, precision):
		return false, fmt.Errorf("%s: receivedAt %s differs from the stored %s and never changes: %w",
			w.op, sent.Format(time.RFC3339Nano), cur.ReceivedAt.Format(time.RFC3339Nano), ErrInvalid)
	}
	w.Request.ReceivedAt = cur.ReceivedAt
	w.doc = nil
	doc, err := w.Canonical()
	if err != nil {
		return false, err
	}
	if curDoc == nil {
		if curDoc, err = cur.CanonicalJSON(); err != nil {
			return false, fmt.Errorf("%s: encode the stored document: %w", w.op, err)
		}
	}
	return bytes.Equal(doc, curDoc), nil
}

// SameReceivedAt is the rule that ReceivedAt never changes, at a
// backend that keeps times to precision: an update sending sent may be
// applied to a document stored with stored iff sent is zero (not sent)
// or the two are the same instant once both are rounded to precision,
// halves to even, as PostgreSQL rounds a timestamptz (a precision of a
// nanosecond or less compares exactly, as [time.Time.Equal] does). So
// the value a backend returns, sent back as is, is always accepted, and
// one a unit of precision away never is. memstore and s3store keep
// nanoseconds; pgstore keeps microseconds and applies the rule in its
// compare-and-swap statement, where PostgreSQL does the rounding (its
// tests hold the two equal).
func SameReceivedAt(sent, stored time.Time, precision time.Duration) bool {
	if sent.IsZero() {
		return true
	}
	if precision <= time.Nanosecond {
		return sent.Equal(stored)
	}
	return roundHalfEven(sent, precision).Equal(roundHalfEven(stored, precision))
}

// roundHalfEven rounds t to a multiple of p (since the zero time), a
// halfway value to the even multiple.
func roundHalfEven(t time.Time, p time.Duration) time.Time {
	down := t.Truncate(p)
	switch rem := t.Sub(down); {
	case rem < p-rem:
		return down
	case rem > p-rem, !down.Truncate(2 * p).Equal(down):
		return down.Add(p)
	}
	return down
}
