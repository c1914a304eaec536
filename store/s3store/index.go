package s3store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/store"
)

// The list index.
//
// Every live request has one entry under tfpilot/list/ whose key sorts
// in list order (newest ReceivedAt first, then ID descending) and names
// the request's id, project, environment and status as of its last
// write:
//
//	tfpilot/list/<inverted ReceivedAt>_<inverted id>~/p<project>.e<environment>.s<status>
//
// <inverted ReceivedAt> is math.MaxInt64 minus ReceivedAt in Unix
// nanoseconds, as 19 digits; <inverted id> maps each character of the id
// to its mirror in [idAlphabet], so that ascending keys are descending
// ids, and "~" (greater than every character of the alphabet) ends it so
// that an id sorts before its own prefixes. Project and environment are
// unpadded base64url. The part before "~/" is the request's position;
// the part after changes when a write changes project, environment or
// status (the new entry is written before the document, the old one
// deleted after). The entry's body is informational JSON ([indexBody]);
// the key is what is read, so list filters on project, environment and
// status without reading documents.
//
// An entry is valid only while the request document agrees with it (same
// ReceivedAt, project, environment, and status stored at the last
// write); list skips entries that do not, so an entry written for a
// create or update that then failed, or one a crash left behind, is
// harmless, and [Store.Reindex] removes it later.

// idAlphabet holds the characters a request id may contain, in byte
// order.
const idAlphabet = "-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

// indexEntry is what a list-index key says about a request.
type indexEntry struct {
	nanos       int64 // ReceivedAt, see receivedNanos
	id          string
	project     string
	environment string
	status      lifecycle.Status
}

// indexBody is the body of a list-index object.
type indexBody struct {
	ID          string           `json:"id"`
	Project     string           `json:"project"`
	Environment string           `json:"environment"`
	Status      lifecycle.Status `json:"status"`
	ReceivedAt  time.Time        `json:"receivedAt"`
}

// receivedNanos is t in Unix nanoseconds, clamped to [0, MaxInt64] (a
// zero ReceivedAt from an old document sorts as the oldest).
func receivedNanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, 0)):
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// entryOf is the entry of r with status st.
func entryOf(r *store.Request, st lifecycle.Status) indexEntry {
	return indexEntry{nanos: receivedNanos(r.ReceivedAt), id: r.ID, project: r.Project, environment: r.Environment, status: st}
}

// indexStatus is the status r's list-index entry names: derived from r's
// facts without the clock ([lifecycle.IndexStatus]), never a status field
// a document carries.
func indexStatus(r *store.Request) lifecycle.Status { return lifecycle.IndexStatus(r.Facts()) }

// entryOfFacts is r's entry as derived from its facts.
func entryOfFacts(r *store.Request) indexEntry { return entryOf(r, indexStatus(r)) }

// locates reports whether e is at r's position with r's project and
// environment, whatever status it names: an entry whose status is out of
// date (written by an earlier version, or by an update that then lost)
// still finds r, and list filters check r's status from its facts.
func (e indexEntry) locates(r *store.Request) bool {
	return entryOf(r, e.status) == e
}

// position is the part of e's key before "~/": where it sorts.
func (s *Store) position(e indexEntry) (string, bool) {
	inv, ok := invertID(e.id)
	if !ok || e.id == "" {
		return "", false
	}
	return fmt.Sprintf("%s%s%019d_%s~/", s.prefix, listDir, math.MaxInt64-e.nanos, inv), true
}

// invertID maps id through the mirror of idAlphabet; ok is false when id
// holds a character outside it.
func invertID(id string) (string, bool) {
	out := make([]byte, len(id))
	for i := 0; i < len(id); i++ {
		j := strings.IndexByte(idAlphabet, id[i])
		if j < 0 {
			return "", false
		}
		out[i] = idAlphabet[len(idAlphabet)-1-j]
	}
	return string(out), true
}

// indexKey returns e's key; ok is false when e's id cannot be indexed.
func (s *Store) indexKey(e indexEntry) (string, bool) {
	pos, ok := s.position(e)
	if !ok || !e.status.Valid() {
		return "", false
	}
	b64 := base64.RawURLEncoding
	return fmt.Sprintf("%sp%s.e%s.s%s", pos, b64.EncodeToString([]byte(e.project)), b64.EncodeToString([]byte(e.environment)), e.status), true
}

// parseIndexKey reads a key written by indexKey.
func (s *Store) parseIndexKey(key string) (indexEntry, bool) {
	rest, ok := strings.CutPrefix(key, s.prefix+listDir)
	if !ok || len(rest) < 21 || rest[19] != '_' {
		return indexEntry{}, false
	}
	inv, err := strconv.ParseInt(rest[:19], 10, 64)
	if err != nil || inv < 0 {
		return indexEntry{}, false
	}
	idPart, tail, ok := strings.Cut(rest[20:], "~/p")
	if !ok {
		return indexEntry{}, false
	}
	id, ok := invertID(idPart) // the mirror is its own inverse
	if !ok || id == "" {
		return indexEntry{}, false
	}
	p, rest, ok := strings.Cut(tail, ".e")
	if !ok {
		return indexEntry{}, false
	}
	env, st, ok := strings.Cut(rest, ".s")
	if !ok || !lifecycle.Status(st).Valid() {
		return indexEntry{}, false
	}
	b64 := base64.RawURLEncoding
	project, err1 := b64.DecodeString(p)
	environment, err2 := b64.DecodeString(env)
	if err1 != nil || err2 != nil {
		return indexEntry{}, false
	}
	return indexEntry{nanos: math.MaxInt64 - inv, id: id, project: string(project), environment: string(environment), status: lifecycle.Status(st)}, true
}

// putIndex writes entry e of r. Writing it again is harmless: the key
// is a function of the entry.
func (s *Store) putIndex(ctx context.Context, r *store.Request, e indexEntry) error {
	key, ok := s.indexKey(e)
	if !ok {
		return fmt.Errorf("request id %q has characters outside %q and cannot be listed: %w", r.ID, idAlphabet, store.ErrInvalid)
	}
	body, err := json.Marshal(indexBody{ID: r.ID, Project: r.Project, Environment: r.Environment, Status: e.status, ReceivedAt: r.ReceivedAt})
	if err != nil {
		return err
	}
	if _, err := s.put(ctx, key, body, cond{}); err != nil {
		return fmt.Errorf("write list index: %w", err)
	}
	if _, err := s.put(ctx, s.statusTwin(key, e.status), []byte("{}"), cond{}); err != nil {
		return fmt.Errorf("write status index: %w", err)
	}
	return nil
}

// deleteIndex removes entry e.
func (s *Store) deleteIndex(ctx context.Context, e indexEntry) error {
	key, ok := s.indexKey(e)
	if !ok {
		return nil
	}
	if err := s.del(ctx, s.statusTwin(key, e.status), ""); err != nil {
		return fmt.Errorf("delete status index: %w", err)
	}
	if err := s.del(ctx, key, ""); err != nil {
		return fmt.Errorf("delete list index: %w", err)
	}
	return nil
}

// deletePosition removes every entry at e's position (all entries of
// one request, whatever their project, environment or status).
func (s *Store) deletePosition(ctx context.Context, e indexEntry) error {
	pos, ok := s.position(e)
	if !ok {
		return nil
	}
	keys, err := s.listAll(ctx, pos)
	if err != nil {
		return fmt.Errorf("list index position: %w", err)
	}
	for _, k := range keys {
		if e, ok := s.parseIndexKey(k.key); ok {
			if err := s.del(ctx, s.statusTwin(k.key, e.status), ""); err != nil {
				return fmt.Errorf("delete status index: %w", err)
			}
		}
		if err := s.del(ctx, k.key, ""); err != nil {
			return fmt.Errorf("delete list index: %w", err)
		}
	}
	return nil
}
