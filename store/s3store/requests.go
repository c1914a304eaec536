package s3store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/store"
)

// encodeRequest returns r's document with st, its list-index status
// ([lifecycle.IndexStatus]), and now beside it, in the fields the
// original TfPilot used (status and statusDerivedAt). [store.Request]
// drops both fields on decode: they are never read back as facts, and
// list filters derive the status from the facts.
func encodeRequest(r *store.Request, st lifecycle.Status, now time.Time) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return withFields(b, struct {
		Status    lifecycle.Status `json:"status"`
		DerivedAt time.Time        `json:"statusDerivedAt"`
	}{st, now})
}

// archivingField marks a request document that ArchiveRequest is moving
// to history: it is no longer live, and no write but the archive's
// delete can succeed on it (its ETag changed).
const archivingField = "tfpilotArchiving"

// withFields returns the JSON object b with the fields of the JSON
// object that fields encodes appended.
func withFields(b []byte, fields any) ([]byte, error) {
	extra, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || b[len(b)-1] != '}' || len(extra) < 2 || extra[0] != '{' {
		return nil, fmt.Errorf("cannot add %s to %.20q: not objects", extra, b)
	}
	if len(extra) == 2 {
		return b, nil
	}
	out := append(b[:len(b)-1:len(b)-1], ',')
	if len(b) == 2 { // "{}"
		out = out[:1]
	}
	return append(out, extra[1:]...), nil
}

// withoutField returns the JSON object b without field name.
func withoutField(b []byte, name string) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, err
	}
	delete(obj, name)
	return json.Marshal(obj)
}

// docMeta is what a stored request document says beside the request.
type docMeta struct {
	// status is the status stored at the last write, in any spelling
	// [lifecycle.Normalize] knows; "" when absent or unknown.
	status lifecycle.Status
	// archiving is set while ArchiveRequest moves the document.
	archiving bool
}

func readMeta(body []byte) docMeta {
	var v struct {
		Status    string          `json:"status"`
		Archiving json.RawMessage `json:"tfpilotArchiving"`
	}
	if json.Unmarshal(body, &v) != nil {
		return docMeta{}
	}
	return docMeta{status: lifecycle.Normalize(v.Status), archiving: len(v.Archiving) > 0 && string(v.Archiving) != "null"}
}

func decodeRequest(body []byte) (*store.Request, error) {
	return store.DecodeRequest(body)
}

// loadRequest reads and decodes the object at key.
func (s *Store) loadRequest(ctx context.Context, key string) (*store.Request, object, error) {
	obj, err := s.get(ctx, key)
	if err != nil {
		return nil, object{}, err
	}
	r, err := decodeRequest(obj.body)
	if err != nil {
		return nil, object{}, fmt.Errorf("decode %s: %w: %w", key, errUnreadable, err)
	}
	return r, obj, nil
}

// loadLive reads a live request: one being archived is missing.
func (s *Store) loadLive(ctx context.Context, id string) (*store.Request, object, docMeta, error) {
	r, obj, err := s.loadRequest(ctx, s.requestKey(id))
	if err != nil {
		return nil, object{}, docMeta{}, err
	}
	m := readMeta(obj.body)
	if m.archiving {
		return nil, object{}, docMeta{}, errArchiving
	}
	return r, obj, m, nil
}

// errArchiving is a request document that ArchiveRequest is moving; it
// reads as missing.
var errArchiving = &missingError{"request is being archived"}

// missingError is an error that [isMissing] recognises.
type missingError struct{ why string }

func (e *missingError) Error() string { return e.why }

// GetRequest implements [store.RequestStore]: it reads
// requests/<id>.json.
func (s *Store) GetRequest(ctx context.Context, id string) (*store.Request, error) {
	if !safeID(id) {
		return nil, fmt.Errorf("s3store: get request %q: %w", id, store.ErrNotFound)
	}
	r, _, _, err := s.loadLive(ctx, id)
	switch {
	case isMissing(err):
		return nil, fmt.Errorf("s3store: get request %q: %w", id, store.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("s3store: get request %q: %w", id, err)
	}
	return r, nil
}

// CreateRequest implements [store.RequestStore]. It refuses an id
// found in history/, writes the list-index entry, then writes
// requests/<id>.json with If-None-Match: *, so exactly one of any
// number of racing creates wins. An entry left by a losing create
// names a document that does not match it and is never listed.
func (s *Store) CreateRequest(ctx context.Context, r *store.Request) (*store.Request, error) {
	now := s.now()
	w, err := store.PrepareCreate(r, now)
	if err != nil {
		return nil, fmt.Errorf("s3store: %w", err)
	}
	s.markReadyIfEmpty(ctx) // status_index.go
	c, st := w.Request, w.Facts.Status
	body, err := encodeRequest(c, st, now)
	if err != nil {
		return nil, fmt.Errorf("s3store: create request %q: encode: %w: %w", r.ID, store.ErrInvalid, err)
	}
	archived, err := s.exists(ctx, s.historyKey(c.ID))
	switch {
	case err != nil:
		return nil, fmt.Errorf("s3store: create request %q: %w", r.ID, err)
	case archived:
		return nil, fmt.Errorf("s3store: create request %q: archived: %w", r.ID, store.ErrAlreadyExists)
	}
	if err := s.putIndex(ctx, c, entryOf(c, st)); err != nil {
		return nil, fmt.Errorf("s3store: create request %q: %w", r.ID, err)
	}
	_, err = s.put(ctx, s.requestKey(c.ID), body, cond{ifNoneMatch: true})
	switch {
	case isPrecondition(err):
		return nil, fmt.Errorf("s3store: create request %q: %w", r.ID, store.ErrAlreadyExists)
	case err != nil:
		return nil, fmt.Errorf("s3store: create request %q: %w", r.ID, err)
	}
	s.syncInsightKeys(ctx, nil, c) // insights.go
	return decodeRequest(body)
}

// UpdateRequest implements [store.RequestStore]: a compare-and-swap
// that reads the document and its ETag, checks Version, and writes with
// If-Match on that ETag, with the status derived at the store's clock.
// A non-zero ReceivedAt must equal the stored one to the nanosecond
// (time.Equal; the document keeps nanoseconds), else the result is
// [store.ErrInvalid]; the stored value, zone included, is kept. The
// request's list-index position is made of ReceivedAt and its id, so
// it never moves: when project, environment or status change, the new
// entry at the same position is written before the swap and the old one
// removed after it, so the request is listed throughout.
func (s *Store) UpdateRequest(ctx context.Context, r *store.Request) (*store.Request, error) {
	w, err := store.PrepareUpdate(r)
	if err != nil {
		return nil, fmt.Errorf("s3store: %w", err)
	}
	key := s.requestKey(r.ID)
	cur, obj, meta, err := s.loadLive(ctx, r.ID)
	switch {
	case isMissing(err):
		return nil, fmt.Errorf("s3store: update request %q: %w", r.ID, store.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("s3store: update request %q: %w", r.ID, err)
	}
	unchanged, err := w.Against(cur, nil, time.Nanosecond)
	switch {
	case err != nil:
		return nil, fmt.Errorf("s3store: %w", err)
	case unchanged:
		return cur, nil
	}
	next, st := w.Request, w.Facts.Status
	now := s.now()
	body, err := encodeRequest(next, st, now)
	if err != nil {
		return nil, fmt.Errorf("s3store: update request %q: encode: %w: %w", r.ID, store.ErrInvalid, err)
	}
	// The entry moves, within its position, when project, environment
	// or status change. The current entry is the one derived from the
	// stored facts when the document's status field agrees with them (a
	// document this version wrote, or one Reindex indexed); otherwise
	// (the original's document, or an earlier version's status derived
	// with the clock) it is not known for sure, so the new entry is
	// written and every entry the document may have had is removed after
	// the swap. The new entry's key is never removed.
	oldEntry, newEntry := entryOfFacts(cur), entryOf(next, st)
	known := meta.status == oldEntry.status
	moved := !known || oldEntry != newEntry
	if moved {
		if err := s.putIndex(ctx, next, newEntry); err != nil {
			return nil, fmt.Errorf("s3store: update request %q: %w", r.ID, err)
		}
	}
	_, err = s.put(ctx, key, body, cond{ifMatch: obj.etag})
	switch {
	case isPrecondition(err):
		return nil, fmt.Errorf("s3store: update request %q at version %d: %w", r.ID, r.Version, store.ErrConflict)
	case err != nil:
		return nil, fmt.Errorf("s3store: update request %q: %w", r.ID, err)
	}
	if moved {
		// A failure leaves an entry that no longer matches the
		// document: never listed, removed by Reindex.
		olds := []indexEntry{oldEntry}
		if meta.status.Valid() {
			olds = append(olds, entryOf(cur, meta.status))
		}
		for _, old := range olds {
			if old != newEntry {
				_ = s.deleteIndex(ctx, old)
			}
		}
	}
	s.syncInsightKeys(ctx, cur, next) // insights.go
	return decodeRequest(body)
}

// ArchiveRequest implements [store.RequestStore] in four steps:
//  1. copy the document to history/<id>.json;
//  2. mark requests/<id>.json as being archived, with If-Match on the
//     ETag read, so that exactly one of the archive and any concurrent
//     update wins (when the update wins, the copy is removed again and
//     the result is [store.ErrConflict]); from here the request reads
//     as archived;
//  3. delete requests/<id>.json with If-Match on the marked ETag;
//  4. delete its list-index entries.
//
// A crash after step 1 leaves the request live and in history, one
// after step 2 leaves the marked document behind; either way calling
// ArchiveRequest again with the same version finishes the move, and
// [Store.Reindex] tidies what step 4 left.
func (s *Store) ArchiveRequest(ctx context.Context, id string, version int64) error {
	if !safeID(id) {
		return fmt.Errorf("s3store: archive request %q: %w", id, store.ErrNotFound)
	}
	key := s.requestKey(id)
	cur, obj, err := s.loadRequest(ctx, key)
	if isMissing(err) {
		return fmt.Errorf("s3store: archive request %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("s3store: archive request %q: %w", id, err)
	}
	resuming := readMeta(obj.body).archiving
	switch {
	case cur.Version != version && resuming:
		return fmt.Errorf("s3store: archive request %q: %w", id, store.ErrNotFound)
	case cur.Version != version:
		return fmt.Errorf("s3store: archive request %q at version %d (stored %d): %w", id, version, cur.Version, store.ErrConflict)
	}
	live := obj.body
	if resuming {
		if live, err = withoutField(obj.body, archivingField); err != nil {
			return fmt.Errorf("s3store: archive request %q: %w", id, err)
		}
	}
	hkey := s.historyKey(id)
	hetag, err := s.put(ctx, hkey, live, cond{})
	if err != nil {
		return fmt.Errorf("s3store: archive request %q: write history: %w", id, err)
	}
	marked := obj.etag
	if !resuming {
		body, err := withFields(obj.body, map[string]time.Time{archivingField: s.now()})
		if err != nil {
			return fmt.Errorf("s3store: archive request %q: %w", id, err)
		}
		marked, err = s.put(ctx, key, body, cond{ifMatch: obj.etag})
		if isPrecondition(err) {
			// A concurrent write won: undo the copy unless another
			// archive overwrote it meanwhile.
			_ = s.del(ctx, hkey, hetag)
			return fmt.Errorf("s3store: archive request %q at version %d: %w", id, version, store.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("s3store: archive request %q: %w", id, err)
		}
	}
	// Nothing but another archive of this version can touch the marked
	// document, and it would delete it too.
	if err := s.del(ctx, key, marked); err != nil && !isPrecondition(err) {
		return fmt.Errorf("s3store: archive request %q: %w", id, err)
	}
	// A failure leaves entries whose document is gone: never listed,
	// removed by Reindex.
	_ = s.deletePosition(ctx, entryOf(cur, ""))
	s.syncInsightKeys(ctx, cur, nil) // insights.go
	return nil
}

// GetArchivedRequest implements [store.RequestStore]: it reads
// history/<id>.json.
func (s *Store) GetArchivedRequest(ctx context.Context, id string) (*store.Request, error) {
	if !safeID(id) {
		return nil, fmt.Errorf("s3store: get archived request %q: %w", id, store.ErrNotFound)
	}
	r, _, err := s.loadRequest(ctx, s.historyKey(id))
	switch {
	case isMissing(err):
		return nil, fmt.Errorf("s3store: get archived request %q: %w", id, store.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("s3store: get archived request %q: %w", id, err)
	}
	return r, nil
}
