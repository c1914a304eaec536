package s3store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
)

// The status index.
//
// Every list-index entry has a twin under the prefix of its status:
//
//	tfpilot/by-status/<status>/<the entry's key after tfpilot/list/>
//
// written right after the entry and deleted with it, so that a page
// filtered by status lists only the keys of the statuses asked for (one
// prefix per status, merged in list order) instead of scanning every
// entry of the list index. Twins are read like entries: a page checks
// each candidate's document, so a twin a failed write left behind is
// never listed.
//
// tfpilot/by-status/ready.json says that every entry has its twin:
// [Store.Reindex] writes it once it has written the twins, and the first
// CreateRequest or import of a Store writes it (with the insights index's
// ready.json) when the bucket holds no request document yet. Without it (a bucket written by an earlier version), filtered
// pages scan the list index as before.
const (
	statusDir      = "tfpilot/by-status/"
	statusReadyKey = "tfpilot/by-status/ready.json"
)

// statusTwin is the status-index key of list-index key listKey, whose
// entry names status st.
func (s *Store) statusTwin(listKey string, st lifecycle.Status) string {
	return s.prefix + statusDir + string(st) + "/" + strings.TrimPrefix(listKey, s.prefix+listDir)
}

// statusIndexReady reports whether every list-index entry has its twin,
// writing ready.json on a bucket without requests. A true answer is
// remembered: ready.json is never removed.
func (s *Store) statusIndexReady(ctx context.Context) (bool, error) {
	if s.statusReady.Load() {
		return true, nil
	}
	ok, err := s.markerReady(ctx, s.prefix+statusReadyKey, `{"by":"list"}`)
	if ok {
		s.statusReady.Store(true)
	}
	return ok, err
}

// statusSource is one status's prefix in a merged listing.
type statusSource struct {
	prefix string   // tfpilot/by-status/<status>/ under the store's prefix
	after  string   // the last key listed, in this prefix
	buf    []listed // listed keys not handed out yet, as list-index keys
	more   bool     // the prefix has keys after `after`
}

// statusMerge lists the twins of several statuses in list order, as
// list-index keys.
type statusMerge struct {
	s        *Store
	sources  []*statusSource
	pageSize int32
}

// newStatusMerge starts after the list-index key after ("" for the
// start).
func (s *Store) newStatusMerge(statuses []lifecycle.Status, after string, pageSize int32) *statusMerge {
	m := &statusMerge{s: s, pageSize: pageSize}
	rest := strings.TrimPrefix(after, s.prefix+listDir)
	for _, st := range slices.Compact(slices.Sorted(slices.Values(statuses))) {
		src := &statusSource{prefix: s.prefix + statusDir + string(st) + "/", more: true}
		if after != "" {
			src.after = src.prefix + rest
		}
		m.sources = append(m.sources, src)
	}
	return m
}

// next returns the next keys in list order and whether more may follow.
// Every source that ran dry is listed again first; then the keys up to
// the smallest last key of the sources that have more are handed out,
// so that no later listing can hold a key that sorts before them.
func (m *statusMerge) next(ctx context.Context) ([]listed, bool, error) {
	for _, src := range m.sources {
		if len(src.buf) > 0 || !src.more {
			continue
		}
		page, more, err := m.s.listOnce(ctx, src.prefix, src.after, m.pageSize)
		if err != nil {
			return nil, false, err
		}
		src.more = more
		for _, l := range page {
			src.after = l.key
			l.key = m.s.prefix + listDir + strings.TrimPrefix(l.key, src.prefix)
			src.buf = append(src.buf, l)
		}
	}
	bound, bounded := "", false
	for _, src := range m.sources {
		if src.more && len(src.buf) > 0 {
			if last := src.buf[len(src.buf)-1].key; !bounded || last < bound {
				bound, bounded = last, true
			}
		}
	}
	var out []listed
	more := false
	for _, src := range m.sources {
		n := len(src.buf)
		if bounded {
			n, _ = slices.BinarySearchFunc(src.buf, bound, func(l listed, k string) int { return strings.Compare(l.key, k) })
			if n < len(src.buf) && src.buf[n].key == bound {
				n++
			}
		}
		out = append(out, src.buf[:n]...)
		src.buf = src.buf[n:]
		more = more || src.more || len(src.buf) > 0
	}
	slices.SortFunc(out, func(a, b listed) int { return strings.Compare(a.key, b.key) })
	return out, more, nil
}

// reindexStatus gives every list-index key in keep its twin, deletes
// twins of no such key older than Options.StaleIndexAge, and then writes
// ready.json.
func (s *Store) reindexStatus(ctx context.Context, keep []string, now time.Time) error {
	want := make(map[string]bool, len(keep))
	for _, k := range keep {
		if e, ok := s.parseIndexKey(k); ok {
			want[s.statusTwin(k, e.status)] = true
		}
	}
	twins, err := s.listAll(ctx, s.prefix+statusDir)
	if err != nil {
		return fmt.Errorf("status index: %w", err)
	}
	have := make(map[string]bool, len(twins))
	for _, l := range twins {
		have[l.key] = true
		if !want[l.key] && l.key != s.prefix+statusReadyKey && now.Sub(l.modified) >= s.staleAge {
			if err := s.del(ctx, l.key, ""); err != nil {
				return fmt.Errorf("remove status twin: %w", err)
			}
		}
	}
	var missing []string
	for k := range want {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	err = s.parallel(ctx, len(missing), func(ctx context.Context, i int) error {
		_, err := s.put(ctx, missing[i], []byte("{}"), cond{})
		return err
	})
	if err != nil {
		return fmt.Errorf("write status twin: %w", err)
	}
	if _, err := s.put(ctx, s.prefix+statusReadyKey, []byte(`{"by":"reindex"}`), cond{}); err != nil {
		return fmt.Errorf("write %s: %w", statusReadyKey, err)
	}
	s.statusReady.Store(true)
	return nil
}

// markReadyIfEmpty writes the ready.json of the status index and of the
// insights index when the bucket holds no request document: every
// request written from then on has its twins and insights keys. A Store
// checks once, before its first request write; errors are ignored (the
// indexes then wait for Reindex).
func (s *Store) markReadyIfEmpty(ctx context.Context) {
	if s.checkedEmpty.Swap(true) || s.statusReady.Load() {
		return
	}
	if _, err := s.get(ctx, s.prefix+statusReadyKey); err == nil {
		s.statusReady.Store(true)
		return
	}
	docs, _, err := s.listOnce(ctx, s.prefix+requestsDir, "", 1)
	if err != nil || len(docs) > 0 {
		return
	}
	if _, err := s.put(ctx, s.prefix+insightsReadyKey, []byte(`{"by":"create"}`), cond{}); err != nil {
		return
	}
	if _, err := s.put(ctx, s.prefix+statusReadyKey, []byte(`{"by":"create"}`), cond{}); err == nil {
		s.statusReady.Store(true)
	}
}
