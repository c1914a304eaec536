package s3store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

var (
	_ store.Exporter = (*Store)(nil)
	_ store.Importer = (*Store)(nil)
)

// exportPageSize is how many keys one ListObjectsV2 call of an export
// asks for, and exportWindow how many objects an export reads ahead of
// the caller at most.
const (
	exportPageSize = 1000
	exportWindow   = 1000
)

// exportDirs maps each kind to the prefix its objects live under.
var exportDirs = map[store.ItemKind]string{
	store.KindRequest:         requestsDir,
	store.KindArchivedRequest: historyDir,
	store.KindEvent:           logsDir,
	store.KindRunIndex:        runIndexDir,
	store.KindPRIndex:         prIndexDir,
	store.KindDelivery:        deliveriesDir,
	store.KindIdempotency:     idempotencyDir,
	store.KindCost:            costDir,
}

// Export implements [store.Exporter]. It lists the kind's prefix in
// the original layout (requests/, history/, logs/, webhooks/github/…,
// cost/, and tfpilot/idempotency/) and reads the listed objects
// Options.Concurrency at a time, with no pause between listing pages:
// a read starts as soon as a reader is free, up to 1,000 objects ahead
// of fn, which gets them in key order (see [Store.ExportFates]). It
// reads the documents themselves, not the list index, so a bucket the
// original system wrote exports whole without [Store.Reindex], and
// exporting writes nothing. Objects are read as
// the other methods read them: an event without id or time takes its
// key's, an index entry's request id is read liberally, a delivery
// without state is complete. The two cost documents of a request are
// one item. Keys that fit no item of the kind (a stray file) are
// skipped, and an object that cannot be read as an item stops the
// walk; [Store.ExportFates] names both and goes on.
func (s *Store) Export(ctx context.Context, kind store.ItemKind, fn func(store.Item) error) error {
	return s.ExportFates(ctx, kind, fn, func(f store.ObjectFate) error {
		if f.Fate == store.FateQuarantine {
			return fmt.Errorf("s3store: export %s: %s: %s", kind, f.Object, fieldReason(f))
		}
		return nil
	})
}

func fieldReason(f store.ObjectFate) string {
	if f.Field != "" {
		return f.Field + ": " + f.Reason
	}
	return f.Reason
}

// ExportFates implements [store.FateExporter]: the walk of
// [Store.Export], with the fate of every object under the kind's
// prefix. A request document whose key is not requests/<its id>.json
// is skipped when that key holds a document (the canonical key wins)
// and copied otherwise; an archived request whose id is live is skipped
// (live beats archived). Both are named.
func (s *Store) ExportFates(ctx context.Context, kind store.ItemKind, fn func(store.Item) error, fate func(store.ObjectFate) error) error {
	dir, ok := exportDirs[kind]
	if !ok {
		return fmt.Errorf("s3store: export %q: %w", kind, store.ErrInvalid)
	}
	prefix := s.prefix + dir
	reads, listErr, stop := s.readAhead(ctx, prefix, func(ctx context.Context, r *exportRead) {
		r.item, r.fate, r.err = s.exportFate(ctx, kind, strings.TrimPrefix(r.key, prefix), r.key)
		if r.err != nil {
			return
		}
		if r.fate.Fate == store.FateCopy {
			if cerr := r.item.Check(); cerr != nil {
				r.fate = store.ObjectFate{Fate: store.FateQuarantine, Reason: cerr.Error()}
			} else {
				r.fate.Item = r.item.Key()
			}
		}
		r.fate.Object, r.fate.Kind = r.key, kind
	})
	defer stop()
	var pending *store.Cost // a cost whose diff may be the next object
	for r := range reads {
		select {
		case <-r.done:
		case <-ctx.Done():
			return fmt.Errorf("s3store: export %s: %w", kind, ctx.Err())
		}
		if r.err != nil {
			return fmt.Errorf("s3store: export %s: %w", kind, r.err)
		}
		if err := fate(r.fate); err != nil {
			return err
		}
		if r.fate.Fate != store.FateCopy {
			continue
		}
		it := r.item
		if kind == store.KindCost {
			// Keys sort by request id, so a request's documents
			// are adjacent: merge them into one item.
			if pending != nil && pending.RequestID == it.Cost.RequestID {
				pending.Estimate = cmpOr(pending.Estimate, it.Cost.Estimate)
				pending.Diff = cmpOr(pending.Diff, it.Cost.Diff)
				continue
			}
			if pending != nil {
				if err := fn(store.Item{Kind: kind, Cost: pending}); err != nil {
					return err
				}
			}
			pending = it.Cost
			continue
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	if err := listErr(); err != nil {
		return fmt.Errorf("s3store: export %s: %w", kind, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3store: export %s: %w", kind, err)
	}
	if pending != nil {
		return fn(store.Item{Kind: kind, Cost: pending})
	}
	return nil
}

// ownDirs are tfpilot's own prefixes that hold no item: indexes it
// rebuilds and hints it does not move.
var ownDirs = map[string]string{
	listDir:      "tfpilot's list index, rebuilt by Reindex (not an item)",
	eventIDsDir:  "tfpilot's event-id claims, rewritten with the events (not an item)",
	rateLimitDir: "a GitHub rate-limit backoff: a minutes-long hint, not data worth moving",
}

// OtherObjects implements [store.FateExporter]: every object of the
// bucket (under Options.Prefix) outside the kinds' prefixes, skipped
// with the reason.
func (s *Store) OtherObjects(ctx context.Context, fate func(store.ObjectFate) error) error {
	after := ""
	for {
		page, more, err := s.listOnce(ctx, s.prefix, after, exportPageSize)
		if err != nil {
			return fmt.Errorf("s3store: list other objects: %w", err)
		}
	keys:
		for _, o := range page {
			rel := strings.TrimPrefix(o.key, s.prefix)
			for _, dir := range exportDirs {
				if strings.HasPrefix(rel, dir) {
					continue keys
				}
			}
			reason := "outside the TfPilot layout (no kind's prefix)"
			for dir, why := range ownDirs {
				if strings.HasPrefix(rel, dir) {
					reason = why
				}
			}
			if err := fate(store.ObjectFate{Object: o.key, Fate: store.FateSkip, Reason: reason}); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		after = page[len(page)-1].key
	}
}

func cmpOr(a, b json.RawMessage) json.RawMessage {
	if len(a) > 0 {
		return a
	}
	return b
}

// exportObject reads the object at key, whose name under the kind's
// prefix is rel, as an item of kind. ok is false for a key that names
// no item (or an object deleted since the listing); an object that
// cannot be read as an item is an error naming it.
func (s *Store) exportObject(ctx context.Context, kind store.ItemKind, rel, key string) (store.Item, bool, error) {
	it, f, err := s.exportFate(ctx, kind, rel, key)
	switch {
	case err != nil:
		return it, false, err
	case f.Fate == store.FateQuarantine:
		return it, false, fmt.Errorf("%s: %s", key, fieldReason(f))
	}
	return it, f.Fate == store.FateCopy, nil
}

func skip(format string, args ...any) store.ObjectFate {
	return store.ObjectFate{Fate: store.FateSkip, Reason: fmt.Sprintf(format, args...)}
}

func quarantine(field, format string, args ...any) store.ObjectFate {
	return store.ObjectFate{Fate: store.FateQuarantine, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// bodyProblem says why body cannot be a JSON document, or "".
func bodyProblem(body []byte) string {
	b := bytes.TrimPrefix(body, []byte{0xEF, 0xBB, 0xBF})
	switch {
	case len(bytes.TrimSpace(b)) == 0:
		return "empty object"
	case !json.Valid(b):
		return fmt.Sprintf("not JSON (starts %.24q)", b)
	}
	return ""
}

// exportFate reads the object at key, whose name under the kind's
// prefix is rel, as an item of kind, and says what becomes of it. The
// error is a store failure only.
func (s *Store) exportFate(ctx context.Context, kind store.ItemKind, rel, key string) (store.Item, store.ObjectFate, error) {
	it := store.Item{Kind: kind}
	copied := store.ObjectFate{Fate: store.FateCopy}
	name, isJSON := strings.CutSuffix(rel, ".json")
	switch kind {
	case store.KindRequest, store.KindArchivedRequest:
		switch {
		case !isJSON:
			return it, skip("not a .json key (a backup or stray file)"), nil
		case strings.Contains(name, "/"):
			return it, skip("in a sub-folder: request documents are %s<id>.json", exportDirs[kind]), nil
		}
	case store.KindEvent:
		requestID, event, ok := strings.Cut(name, "/")
		switch {
		case !isJSON:
			return it, skip("not a .json key"), nil
		case !ok:
			return it, skip("not in a request's folder: events are logs/<id>/<time>.json"), nil
		case strings.Contains(event, "/"):
			return it, skip("in a sub-folder of logs/%s/: events are logs/<id>/<time>.json", requestID), nil
		case !safeID(requestID):
			return it, skip("folder %q is not a request id", requestID), nil
		}
	case store.KindCost:
		requestID, doc, ok := strings.Cut(rel, "/")
		if !ok || (doc != costEstimateName && doc != costDiffName) {
			return it, skip("not %s<id>/%s or %s", costDir, costEstimateName, costDiffName), nil
		}
		obj, err := s.get(ctx, key)
		if isMissing(err) {
			return it, skip("deleted since it was listed"), nil
		} else if err != nil {
			return it, store.ObjectFate{}, err
		}
		if len(bytes.TrimSpace(obj.body)) == 0 {
			return it, quarantine("", "empty object"), nil
		}
		c := &store.Cost{RequestID: requestID}
		if doc == costEstimateName {
			c.Estimate = obj.body
		} else {
			c.Diff = obj.body
		}
		it.Cost = c
		return it, copied, nil
	case store.KindRunIndex:
		k, run, ok := strings.Cut(name, "/run-")
		switch {
		case !isJSON || !ok:
			return it, skip("not %s<kind>/run-<id>.json", runIndexDir), nil
		case !runs.Kind(k).Valid():
			return it, skip("run kind %q is none of plan, apply, destroy", k), nil
		}
		if _, err := strconv.ParseInt(run, 10, 64); err != nil {
			return it, skip("run id %q is not a number (an entry written before the run had an id)", run), nil
		}
	case store.KindPRIndex:
		if !isJSON {
			return it, skip("not a .json key"), nil
		}
		if _, ok := parsePRKey(name, nil); !ok {
			return it, skip("not %s<owner>_<repo>/pr-<number>.json", prIndexDir), nil
		}
	default:
		if !isJSON {
			return it, skip("not a .json key"), nil
		}
	}
	obj, err := s.get(ctx, key)
	switch {
	case isMissing(err):
		return it, skip("deleted since it was listed"), nil
	case err != nil:
		return it, store.ObjectFate{}, err
	}
	if p := bodyProblem(obj.body); p != "" && kind != store.KindDelivery {
		return it, quarantine("", "%s", p), nil
	}
	switch kind {
	case store.KindRequest, store.KindArchivedRequest:
		r, err := decodeRequest(obj.body)
		if err != nil {
			return it, quarantine("", "%v", err), nil
		}
		if err := store.ValidateRequestID(r.ID); err != nil {
			return it, quarantine("id", "%v", err), nil
		}
		it.Request = r
		if r.ID != name {
			canonical := s.requestKey(r.ID)
			if kind == store.KindArchivedRequest {
				canonical = s.historyKey(r.ID)
			}
			taken, err := s.exists(ctx, canonical)
			if err != nil {
				return it, store.ObjectFate{}, err
			}
			if taken {
				return it, skip("duplicate of %s, which holds the same id (the canonical key wins)", canonical), nil
			}
			copied.Reason = fmt.Sprintf("id %q at a non-canonical key, and %s is absent: copied as that id", r.ID, canonical)
		}
		if kind == store.KindArchivedRequest {
			live, err := s.exists(ctx, s.requestKey(r.ID))
			if err != nil {
				return it, store.ObjectFate{}, err
			}
			if live {
				return it, skip("archived copy of live request %s (live beats archived)", s.requestKey(r.ID)), nil
			}
		}
		if issues := r.DecodeIssues(); len(issues) > 0 {
			parts := make([]string, len(issues))
			for i, is := range issues {
				parts[i] = is.String()
			}
			copied.Reason = strings.TrimPrefix(copied.Reason+"; read leniently: "+strings.Join(parts, "; "), "; ")
		}
	case store.KindEvent:
		requestID, event, _ := strings.Cut(name, "/")
		e, err := decodeEvent(requestID, event, obj)
		if err != nil {
			return it, quarantine("", "%v", err), nil
		}
		it.Event = &e
	case store.KindRunIndex:
		k, run, _ := strings.Cut(name, "/run-")
		runID, _ := strconv.ParseInt(run, 10, 64)
		id, ok := mappedID(obj.body)
		if !ok {
			return it, quarantine("requestId", "names no request id"), nil
		}
		it.Run = &store.RunIndexEntry{Kind: runs.Kind(k), RunID: runID, RequestID: id}
	case store.KindPRIndex:
		pr, _ := parsePRKey(name, obj.body)
		id, ok := mappedID(obj.body)
		if !ok {
			return it, quarantine("requestId", "names no request id"), nil
		}
		it.PR = &store.PRIndexEntry{PR: pr, RequestID: id}
	case store.KindDelivery:
		id, err := url.PathUnescape(name)
		if err != nil || strings.Contains(name, "/") {
			return it, skip("not %s<delivery id>.json", deliveriesDir), nil
		}
		d := decodeDelivery(id, obj)
		it.Delivery = &d
	case store.KindIdempotency:
		var b idempotencyBody
		if err := json.Unmarshal(obj.body, &b); err != nil {
			return it, quarantine("", "%v", err), nil
		}
		rec := b.record()
		it.Idempotency = &rec
	}
	return it, copied, nil
}

// decodeEvent reads the event object named name under logs/<requestID>/
// as [Store.ListEvents] does.
func decodeEvent(requestID, name string, obj object) (store.Event, error) {
	var le legacyEvent
	if err := json.Unmarshal(obj.body, &le); err != nil {
		return store.Event{}, err
	}
	// The event itself decodes losslessly: fields it does not model
	// (ts, at, a portal's extras) survive a copy.
	var e store.Event
	if err := json.Unmarshal(obj.body, &e); err != nil {
		return store.Event{}, err
	}
	if e.ID == "" {
		e.ID = name
	}
	if e.RequestID == "" {
		e.RequestID = requestID
	}
	e.Timestamp = legacyTime(obj.modified, le.Timestamp, le.TS, le.At, le.CreatedAt, json.RawMessage(strconv.Quote(name)))
	return e, nil
}

// parsePRKey reads the pull request a PR-index key names:
// <owner>_<repo>/pr-<n>. The body's owner and repo, when it has them,
// settle where the "_" splits (GitHub owners have no "_", repos may).
func parsePRKey(name string, body []byte) (store.PRRef, bool) {
	dir, n, ok := strings.Cut(name, "/pr-")
	number, err := strconv.Atoi(n)
	if !ok || err != nil || number <= 0 {
		return store.PRRef{}, false
	}
	var b mappingBody
	if json.Unmarshal(body, &b) == nil && b.Owner != "" && b.Repo != "" && keyPart(b.Owner)+"_"+keyPart(b.Repo) == dir {
		return store.PRRef{Owner: b.Owner, Repo: b.Repo, Number: number}, true
	}
	o, r, ok := strings.Cut(dir, "_")
	owner, err1 := url.PathUnescape(o)
	repo, err2 := url.PathUnescape(r)
	if !ok || err1 != nil || err2 != nil || owner == "" || repo == "" {
		return store.PRRef{}, false
	}
	return store.PRRef{Owner: owner, Repo: repo, Number: number}, true
}

// Import implements [store.Importer]. Every object is created with
// If-None-Match: *, so of racing imports one writes and the others
// compare. A live request gets its list-index entry first, as
// [Store.CreateRequest] does, and its status stored beside it. An event
// is claimed under tfpilot/event-ids/ first, as [Store.AppendEvent]
// does, unless the original system stored it under its id as
// logs/<requestId>/<id>.json. The two cost documents are two objects:
// an import interrupted between them leaves one, and importing again
// writes the other (a stored document that is identical to the
// imported one is not a difference).
func (s *Store) Import(ctx context.Context, it store.Item) (bool, error) {
	if err := it.Check(); err != nil {
		return false, fmt.Errorf("s3store: import: %w", err)
	}
	op := fmt.Sprintf("s3store: import %s %s", it.Kind, it.Key())
	written, cur, err := s.importItem(ctx, it)
	switch {
	case err != nil:
		return false, fmt.Errorf("%s: %w", op, err)
	case written:
		return true, nil
	}
	// Only an import that finds its key taken compares forms.
	want, err := it.Canonical()
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	got, err := cur.Canonical()
	if err != nil {
		return false, fmt.Errorf("%s: stored item: %w", op, err)
	}
	if cur.Kind != it.Kind || !bytes.Equal(got, want) {
		return false, fmt.Errorf("%s: a different %s is stored: %w", op, cur.Kind, store.ErrAlreadyExists)
	}
	return false, nil
}

// create writes body at key if absent and reports whether it did.
func (s *Store) create(ctx context.Context, key string, body []byte) (bool, error) {
	_, err := s.put(ctx, key, body, cond{ifNoneMatch: true})
	switch {
	case err == nil:
		return true, nil
	case isPrecondition(err):
		return false, nil
	}
	return false, err
}

// importItem writes it if its key is free; otherwise it returns the
// stored item.
func (s *Store) importItem(ctx context.Context, it store.Item) (bool, store.Item, error) {
	stored := func(kind store.ItemKind, key, rel string) (bool, store.Item, error) {
		cur, ok, err := s.exportObject(ctx, kind, rel, key)
		if err == nil && !ok {
			err = fmt.Errorf("%s is neither writable nor readable", key)
		}
		return false, cur, err
	}
	switch it.Kind {
	case store.KindRequest, store.KindArchivedRequest:
		return s.importRequest(ctx, it)
	case store.KindEvent:
		return s.importEvent(ctx, *it.Event)
	case store.KindRunIndex:
		e := it.Run
		key := s.runIndexKey(e.Kind, e.RunID)
		body, err := json.Marshal(mappingBody{RequestID: e.RequestID, Kind: string(e.Kind), RunID: e.RunID, IndexedAt: s.now()})
		if err != nil {
			return false, store.Item{}, err
		}
		if ok, err := s.create(ctx, key, body); ok || err != nil {
			return ok, store.Item{}, err
		}
		return stored(it.Kind, key, strings.TrimPrefix(key, s.prefix+runIndexDir))
	case store.KindPRIndex:
		e := it.PR
		key := s.prIndexKey(e.PR)
		body, err := json.Marshal(mappingBody{RequestID: e.RequestID, Owner: e.PR.Owner, Repo: e.PR.Repo, Number: e.PR.Number, IndexedAt: s.now()})
		if err != nil {
			return false, store.Item{}, err
		}
		if ok, err := s.create(ctx, key, body); ok || err != nil {
			return ok, store.Item{}, err
		}
		return stored(it.Kind, key, strings.TrimPrefix(key, s.prefix+prIndexDir))
	case store.KindDelivery:
		// A delivery's document is a deliveryBody, with the fields it
		// was read with and does not model (store.Delivery's JSON).
		d := it.Delivery
		body, err := json.Marshal(d)
		if err != nil {
			return false, store.Item{}, err
		}
		key := s.deliveryKey(d.ID)
		if ok, err := s.create(ctx, key, body); ok || err != nil {
			return ok, store.Item{}, err
		}
		return stored(it.Kind, key, strings.TrimPrefix(key, s.prefix+deliveriesDir))
	case store.KindIdempotency:
		r := it.Idempotency
		body, err := json.Marshal(idempotencyBody{Operation: r.Operation, Key: r.Key, Fingerprint: r.Fingerprint, RequestID: r.RequestID,
			Response: r.Response, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt})
		if err != nil {
			return false, store.Item{}, err
		}
		key := s.idempotencyKey(r.Operation, r.Key)
		if ok, err := s.create(ctx, key, body); ok || err != nil {
			return ok, store.Item{}, err
		}
		return stored(it.Kind, key, strings.TrimPrefix(key, s.prefix+idempotencyDir))
	case store.KindCost:
		return s.importCost(ctx, *it.Cost)
	}
	return false, store.Item{}, fmt.Errorf("kind %q: %w", it.Kind, store.ErrInvalid)
}

// importRequest writes a live request (list-index entry, then document)
// or an archived one, unless the id is stored on either side.
func (s *Store) importRequest(ctx context.Context, it store.Item) (bool, store.Item, error) {
	r := it.Request
	if !safeID(r.ID) {
		return false, store.Item{}, fmt.Errorf("request id %q: %w", r.ID, store.ErrInvalid)
	}
	live, hist := s.requestKey(r.ID), s.historyKey(r.ID)
	other := hist
	if it.Kind == store.KindArchivedRequest {
		other = live
	}
	if cur, ok, err := s.storedRequest(ctx, r.ID, other); err != nil || ok {
		return false, cur, err
	}
	var key string
	var body []byte
	var err error
	if it.Kind == store.KindRequest {
		s.markReadyIfEmpty(ctx) // status_index.go
		now := s.now()
		st := indexStatus(r)
		if body, err = encodeRequest(r, st, now); err != nil {
			return false, store.Item{}, err
		}
		if err := s.putIndex(ctx, r, entryOf(r, st)); err != nil {
			return false, store.Item{}, err
		}
		key = live
	} else {
		if body, err = json.Marshal(r); err != nil {
			return false, store.Item{}, err
		}
		key = hist
	}
	if ok, err := s.create(ctx, key, body); ok || err != nil {
		if ok && it.Kind == store.KindRequest {
			s.syncInsightKeys(ctx, nil, r) // insights.go
		}
		return ok, store.Item{}, err
	}
	cur, ok, err := s.storedRequest(ctx, r.ID, key)
	if err == nil && !ok {
		err = fmt.Errorf("%s is neither writable nor readable", key)
	}
	return false, cur, err
}

// storedRequest reads the request at key (requests/ or history/).
func (s *Store) storedRequest(ctx context.Context, id, key string) (store.Item, bool, error) {
	r, _, err := s.loadRequest(ctx, key)
	switch {
	case isMissing(err):
		return store.Item{}, false, nil
	case err != nil:
		return store.Item{}, false, err
	}
	kind := store.KindRequest
	if key == s.historyKey(id) {
		kind = store.KindArchivedRequest
	}
	return store.Item{Kind: kind, Request: r}, true, nil
}

// importEvent stores e unless an event with its id is stored, under
// its id claim or (as the original wrote it) as logs/<id>/<eventId>.json.
func (s *Store) importEvent(ctx context.Context, e store.Event) (bool, store.Item, error) {
	if !safeID(e.RequestID) {
		return false, store.Item{}, fmt.Errorf("request id %q: %w", e.RequestID, store.ErrInvalid)
	}
	legacy := s.eventDir(e.RequestID) + keyPart(e.ID) + ".json"
	obj, err := s.get(ctx, legacy)
	switch {
	case err == nil:
		cur, err := decodeEvent(e.RequestID, keyPart(e.ID), obj)
		if err != nil {
			return false, store.Item{}, fmt.Errorf("decode %s: %w", legacy, err)
		}
		if cur.ID == e.ID {
			return false, store.Item{Kind: store.KindEvent, Event: &cur}, nil
		}
	case !isMissing(err):
		return false, store.Item{}, err
	}
	_, err = s.AppendEvent(ctx, e)
	switch {
	case err == nil:
		return true, store.Item{}, nil
	case !errors.Is(err, store.ErrAlreadyExists):
		return false, store.Item{}, err
	}
	claim, err := s.get(ctx, s.eventIDKey(e.RequestID, e.ID))
	if err != nil {
		return false, store.Item{}, err
	}
	var cur store.Event
	if err := json.Unmarshal(claim.body, &cur); err != nil {
		return false, store.Item{}, fmt.Errorf("decode %s: %w", s.eventIDKey(e.RequestID, e.ID), err)
	}
	return false, store.Item{Kind: store.KindEvent, Event: &cur}, nil
}

// importCost writes each document of c that is absent.
func (s *Store) importCost(ctx context.Context, c store.Cost) (bool, store.Item, error) {
	if !safeID(c.RequestID) {
		return false, store.Item{}, fmt.Errorf("request id %q: %w", c.RequestID, store.ErrInvalid)
	}
	cur, err := s.GetCost(ctx, c.RequestID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, store.Item{}, err
	}
	// Only absent documents are written, and only when every present one
	// is the imported one; anything else is a stored cost to compare.
	same := func(stored, imported []byte) bool { return len(stored) == 0 || bytes.Equal(stored, imported) }
	if !same(cur.Estimate, c.Estimate) || !same(cur.Diff, c.Diff) {
		return false, store.Item{Kind: store.KindCost, Cost: &cur}, nil
	}
	wrote := false
	for _, doc := range []struct {
		name            string
		stored, imports []byte
	}{{costEstimateName, cur.Estimate, c.Estimate}, {costDiffName, cur.Diff, c.Diff}} {
		if len(doc.stored) > 0 || len(doc.imports) == 0 {
			continue
		}
		ok, err := s.create(ctx, s.costKey(c.RequestID, doc.name), doc.imports)
		if err != nil {
			return false, store.Item{}, err
		}
		if !ok {
			// Written meanwhile: compare what is stored now.
			now, err := s.GetCost(ctx, c.RequestID)
			return false, store.Item{Kind: store.KindCost, Cost: &now}, err
		}
		wrote = true
	}
	if !wrote {
		return false, store.Item{Kind: store.KindCost, Cost: &cur}, nil
	}
	return true, store.Item{}, nil
}
