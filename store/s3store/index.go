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

	"github.com/tfpilot/tfpilot"
)

// The list index.
//
// Every live request has one entry under tfpilot/list/ whose key sorts
// in list order (newest ReceivedAt first, then ID descending) and names
// the request's id, project and environment:
//
//	tfpilot/list/<inverted ReceivedAt>_<inverted id>~/p<project>.e<environment>
//
// <inverted ReceivedAt> is math.MaxInt64 minus ReceivedAt in Unix
// nanoseconds, as 19 digits; <inverted id> maps each character of the id
// to its mirror in [idAlphabet], so that ascending keys are descending
// ids, and "~" (greater than every character of the alphabet) ends it so
// that an id sorts before its own prefixes. Project and environment are
// unpadded base64url. The entry's body is informational JSON
// ([indexBody]); the key is what is read.
//
// An entry is valid only while the request document agrees with it (same
// ReceivedAt, project and environment); list skips entries that do not,
// so an entry written for a create or update that then failed is
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
}

// indexBody is the body of a list-index object.
type indexBody struct {
	ID          string    `json:"id"`
	Project     string    `json:"project"`
	Environment string    `json:"environment"`
	ReceivedAt  time.Time `json:"receivedAt"`
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

func entryOf(r *tfpilot.Request) indexEntry {
	return indexEntry{nanos: receivedNanos(r.ReceivedAt), id: r.ID, project: r.Project, environment: r.Environment}
}

// matches reports whether r is the request e describes.
func (e indexEntry) matches(r *tfpilot.Request) bool {
	return entryOf(r) == e
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
	if e.id == "" {
		return "", false
	}
	inv, ok := invertID(e.id)
	if !ok {
		return "", false
	}
	b64 := base64.RawURLEncoding
	return fmt.Sprintf("%s%s%019d_%s~/p%s.e%s", s.prefix, listDir, math.MaxInt64-e.nanos, inv,
		b64.EncodeToString([]byte(e.project)), b64.EncodeToString([]byte(e.environment))), true
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
	p, env, ok := strings.Cut(tail, ".e")
	if !ok {
		return indexEntry{}, false
	}
	b64 := base64.RawURLEncoding
	project, err1 := b64.DecodeString(p)
	environment, err2 := b64.DecodeString(env)
	if err1 != nil || err2 != nil {
		return indexEntry{}, false
	}
	return indexEntry{nanos: math.MaxInt64 - inv, id: id, project: string(project), environment: string(environment)}, true
}

// putIndex writes r's list-index entry. Writing it again is harmless:
// the key is a function of the entry.
func (s *Store) putIndex(ctx context.Context, r *tfpilot.Request) error {
	key, ok := s.indexKey(entryOf(r))
	if !ok {
		return fmt.Errorf("request id %q has characters outside %q and cannot be listed: %w", r.ID, idAlphabet, tfpilot.ErrInvalid)
	}
	body, err := json.Marshal(indexBody{ID: r.ID, Project: r.Project, Environment: r.Environment, ReceivedAt: r.ReceivedAt})
	if err != nil {
		return err
	}
	if _, err := s.put(ctx, key, body, cond{}); err != nil {
		return fmt.Errorf("write list index: %w", err)
	}
	return nil
}

// deleteIndex removes r's list-index entry, if r has one.
func (s *Store) deleteIndex(ctx context.Context, r *tfpilot.Request) error {
	key, ok := s.indexKey(entryOf(r))
	if !ok {
		return nil
	}
	if err := s.del(ctx, key, ""); err != nil {
		return fmt.Errorf("delete list index: %w", err)
	}
	return nil
}
