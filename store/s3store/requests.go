package s3store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/lifecycle"
)

// encodeRequest returns r's document with st, its status derived at
// now, beside it, in the fields the original TfPilot used (status and
// statusDerivedAt), so that list filters see the status as of the last
// write. [tfpilot.Request] drops both fields on decode: they are never
// read back as facts.
func encodeRequest(r *tfpilot.Request, st lifecycle.Status, now time.Time) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	derived, err := json.Marshal(struct {
		Status    lifecycle.Status `json:"status"`
		DerivedAt time.Time        `json:"statusDerivedAt"`
	}{st, now})
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("request %q encodes as %.20q, not an object", r.ID, b)
	}
	out := append(b[:len(b)-1:len(b)-1], ',')
	if len(b) == 2 { // "{}"
		out = out[:1]
	}
	return append(out, derived[1:]...), nil
}

// storedStatus reads the status field of a stored document, in any
// spelling [lifecycle.Normalize] knows; "" when absent or unknown.
func storedStatus(body []byte) lifecycle.Status {
	var v struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	return lifecycle.Normalize(v.Status)
}

func decodeRequest(body []byte) (*tfpilot.Request, error) {
	var r tfpilot.Request
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// canonical returns r's JSON encoding with Version zeroed, object keys
// sorted and numbers kept as written, for deciding whether an update
// changes anything.
func canonical(r *tfpilot.Request) ([]byte, error) {
	c := *r
	c.Version = 0
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func sameDocument(a, b *tfpilot.Request) (bool, error) {
	ca, err := canonical(a)
	if err != nil {
		return false, err
	}
	cb, err := canonical(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ca, cb), nil
}

// loadRequest reads and decodes the object at key.
func (s *Store) loadRequest(ctx context.Context, key string) (*tfpilot.Request, object, error) {
	obj, err := s.get(ctx, key)
	if err != nil {
		return nil, object{}, err
	}
	r, err := decodeRequest(obj.body)
	if err != nil {
		return nil, object{}, fmt.Errorf("decode %s: %w", key, err)
	}
	return r, obj, nil
}

// GetRequest implements [tfpilot.RequestStore]: it reads
// requests/<id>.json.
func (s *Store) GetRequest(ctx context.Context, id string) (*tfpilot.Request, error) {
	if !safeID(id) {
		return nil, fmt.Errorf("s3store: get request %q: %w", id, tfpilot.ErrNotFound)
	}
	r, _, err := s.loadRequest(ctx, s.requestKey(id))
	switch {
	case isMissing(err):
		return nil, fmt.Errorf("s3store: get request %q: %w", id, tfpilot.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("s3store: get request %q: %w", id, err)
	}
	return r, nil
}

// CreateRequest implements [tfpilot.RequestStore]. It refuses an id
// found in history/, writes the list-index entry, then writes
// requests/<id>.json with If-None-Match: *, so exactly one of any
// number of racing creates wins. An entry left by a losing create
// names a document that does not match it and is never listed.
func (s *Store) CreateRequest(ctx context.Context, r *tfpilot.Request) (*tfpilot.Request, error) {
	if r == nil {
		return nil, fmt.Errorf("s3store: create request: nil request: %w", tfpilot.ErrInvalid)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("s3store: create request %q: %w", r.ID, err)
	}
	now := s.now()
	c := r.Clone()
	c.Version = 1
	if c.ReceivedAt.IsZero() {
		c.ReceivedAt = now
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = now
	}
	st := c.Status(now)
	body, err := encodeRequest(c, st, now)
	if err != nil {
		return nil, fmt.Errorf("s3store: create request %q: encode: %w: %w", r.ID, tfpilot.ErrInvalid, err)
	}
	archived, err := s.exists(ctx, s.historyKey(c.ID))
	switch {
	case err != nil:
		return nil, fmt.Errorf("s3store: create request %q: %w", r.ID, err)
	case archived:
		return nil, fmt.Errorf("s3store: create request %q: archived: %w", r.ID, tfpilot.ErrAlreadyExists)
	}
	if err := s.putIndex(ctx, c, entryOf(c, st)); err != nil {
		return nil, fmt.Errorf("s3store: create request %q: %w", r.ID, err)
	}
	_, err = s.put(ctx, s.requestKey(c.ID), body, cond{ifNoneMatch: true})
	switch {
	case isPrecondition(err):
		return nil, fmt.Errorf("s3store: create request %q: %w", r.ID, tfpilot.ErrAlreadyExists)
	case err != nil:
		return nil, fmt.Errorf("s3store: create request %q: %w", r.ID, err)
	}
	return decodeRequest(body)
}

// UpdateRequest implements [tfpilot.RequestStore]: a compare-and-swap
// that reads the document and its ETag, checks Version, and writes with
// If-Match on that ETag, with the status derived at the store's clock.
// When ReceivedAt, project, environment or status change, the new
// list-index entry is written before the swap and the old one removed
// after it, so the request is listed throughout.
func (s *Store) UpdateRequest(ctx context.Context, r *tfpilot.Request) (*tfpilot.Request, error) {
	if r == nil {
		return nil, fmt.Errorf("s3store: update request: nil request: %w", tfpilot.ErrInvalid)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("s3store: update request %q: %w", r.ID, err)
	}
	key := s.requestKey(r.ID)
	cur, obj, err := s.loadRequest(ctx, key)
	switch {
	case isMissing(err):
		return nil, fmt.Errorf("s3store: update request %q: %w", r.ID, tfpilot.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("s3store: update request %q: %w", r.ID, err)
	case cur.Version != r.Version:
		return nil, fmt.Errorf("s3store: update request %q at version %d (stored %d): %w", r.ID, r.Version, cur.Version, tfpilot.ErrConflict)
	}
	next := r.Clone()
	same, err := sameDocument(cur, next)
	switch {
	case err != nil:
		return nil, fmt.Errorf("s3store: update request %q: encode: %w: %w", r.ID, tfpilot.ErrInvalid, err)
	case same:
		return cur, nil
	}
	next.Version = cur.Version + 1
	now := s.now()
	st := next.Status(now)
	body, err := encodeRequest(next, st, now)
	if err != nil {
		return nil, fmt.Errorf("s3store: update request %q: encode: %w: %w", r.ID, tfpilot.ErrInvalid, err)
	}
	// The entry moves when project, environment, ReceivedAt or status
	// change, and for a document the original wrote without a status
	// this package recognises (its old entry, if any, came from Reindex).
	curStored := storedStatus(obj.body)
	oldEntry, newEntry := entryOf(cur, curStored), entryOf(next, st)
	moved := curStored == "" || oldEntry != newEntry
	if moved {
		if err := s.putIndex(ctx, next, newEntry); err != nil {
			return nil, fmt.Errorf("s3store: update request %q: %w", r.ID, err)
		}
	}
	_, err = s.put(ctx, key, body, cond{ifMatch: obj.etag})
	switch {
	case isPrecondition(err):
		return nil, fmt.Errorf("s3store: update request %q at version %d: %w", r.ID, r.Version, tfpilot.ErrConflict)
	case err != nil:
		return nil, fmt.Errorf("s3store: update request %q: %w", r.ID, err)
	}
	if moved && curStored != "" {
		// A failure leaves an entry that no longer matches the
		// document: never listed, removed by Reindex.
		_ = s.deleteIndex(ctx, oldEntry)
	}
	return decodeRequest(body)
}

// ArchiveRequest implements [tfpilot.RequestStore]. It copies the
// document to history/<id>.json, then deletes requests/<id>.json with
// If-Match on the ETag it read, then the list-index entry. A crash
// between the first two steps leaves the request both live and in
// history; calling ArchiveRequest again with the same version finishes
// the move. When the delete loses to a concurrent update, the history
// copy is removed again and the result is [tfpilot.ErrConflict].
func (s *Store) ArchiveRequest(ctx context.Context, id string, version int64) error {
	if !safeID(id) {
		return fmt.Errorf("s3store: archive request %q: %w", id, tfpilot.ErrNotFound)
	}
	key := s.requestKey(id)
	cur, obj, err := s.loadRequest(ctx, key)
	switch {
	case isMissing(err):
		return fmt.Errorf("s3store: archive request %q: %w", id, tfpilot.ErrNotFound)
	case err != nil:
		return fmt.Errorf("s3store: archive request %q: %w", id, err)
	case cur.Version != version:
		return fmt.Errorf("s3store: archive request %q at version %d (stored %d): %w", id, version, cur.Version, tfpilot.ErrConflict)
	}
	hkey := s.historyKey(id)
	hetag, err := s.put(ctx, hkey, obj.body, cond{})
	if err != nil {
		return fmt.Errorf("s3store: archive request %q: write history: %w", id, err)
	}
	if err := s.del(ctx, key, obj.etag); err != nil {
		if !isPrecondition(err) {
			return fmt.Errorf("s3store: archive request %q: %w", id, err)
		}
		if present, _ := s.exists(ctx, key); !present {
			// A concurrent archive of the same version finished first.
			return fmt.Errorf("s3store: archive request %q: %w", id, tfpilot.ErrNotFound)
		}
		// A concurrent update won: undo our copy unless it was
		// overwritten meanwhile.
		_ = s.del(ctx, hkey, hetag)
		return fmt.Errorf("s3store: archive request %q at version %d: %w", id, version, tfpilot.ErrConflict)
	}
	// A failure leaves entries whose document is gone: never listed,
	// removed by Reindex.
	_ = s.deletePosition(ctx, entryOf(cur, ""))
	return nil
}

// GetArchivedRequest implements [tfpilot.RequestStore]: it reads
// history/<id>.json.
func (s *Store) GetArchivedRequest(ctx context.Context, id string) (*tfpilot.Request, error) {
	if !safeID(id) {
		return nil, fmt.Errorf("s3store: get archived request %q: %w", id, tfpilot.ErrNotFound)
	}
	r, _, err := s.loadRequest(ctx, s.historyKey(id))
	switch {
	case isMissing(err):
		return nil, fmt.Errorf("s3store: get archived request %q: %w", id, tfpilot.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("s3store: get archived request %q: %w", id, err)
	}
	return r, nil
}
