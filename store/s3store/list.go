package s3store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/internal/listquery"
)

// listCursor is the position after which the next page starts.
type listCursor struct {
	// Key is the position (the index key up to "~/", relative to the
	// index prefix) of the previous page's last request. A position is
	// made of ReceivedAt and the id, which never change (UpdateRequest
	// refuses a ReceivedAt change), so it stays put even when the
	// request's entry moves to another project, environment or status,
	// and the walk never repeats or skips it.
	Key string `json:"k"`
	// Filter fingerprints the query's filters.
	Filter string `json:"f"`
}

// filterTag fingerprints q's filters, so that a cursor is refused with
// other filters than it was made with.
func filterTag(q store.ListQuery) string {
	st := make([]string, len(q.Statuses))
	for i, s := range q.Statuses {
		st[i] = string(s)
	}
	slices.Sort(st)
	st = slices.Compact(st)
	h := fnv.New64a()
	h.Write([]byte(q.Project + "\x00" + q.Environment + "\x00" + strings.Join(st, ",")))
	return strconv.FormatUint(h.Sum64(), 36)
}

func encodeCursor(c listCursor) string {
	b, _ := json.Marshal(c) // two strings always encode
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseQuery checks q and returns its page size and the index key to
// start after ("" for the first page).
func (s *Store) parseQuery(q store.ListQuery) (int, string, error) {
	limit, err := listquery.Check(q)
	if err != nil {
		return 0, "", err
	}
	if q.Cursor == "" {
		return limit, "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
	var c listCursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || !strings.HasSuffix(c.Key, "~/") {
		return 0, "", fmt.Errorf("cursor %q: malformed: %w", q.Cursor, store.ErrInvalid)
	}
	if c.Filter != filterTag(q) {
		return 0, "", fmt.Errorf("cursor %q: made with other filters: %w", q.Cursor, store.ErrInvalid)
	}
	// "~" sorts after every key at the position (they continue with
	// "p") and before every later position.
	return limit, s.prefix + listDir + c.Key + "~", nil
}

// candidate is a list-index entry that passed the key filters.
type candidate struct {
	key   string
	entry indexEntry
}

// ListRequests implements [store.RequestStore]. It walks the list
// index (tfpilot/list/, whose keys sort newest first and name project,
// environment and status) from the cursor, keeps the entries whose key
// passes the filters, and reads only their documents, in batches of at
// most max(remaining page, Concurrency) with Concurrency GETs in flight,
// until the page and one more request are found (so that NextCursor is
// empty exactly on the last page). An entry the document no longer
// agrees with is skipped. Status filters match [lifecycle.IndexStatus]
// derived from each document's facts, never a status field the document
// carries. A status filter walks the status index's prefixes of those
// statuses instead (status_index.go), merged in list order, once the
// bucket has it. An unfiltered page of 50 costs one ListObjectsV2 call
// and 51 GETs, whatever the bucket holds, and so does a page filtered by
// one status (one call per status for several); a page filtered by
// project or environment costs the same GETs plus one ListObjectsV2 call
// per 1,000 index entries scanned.
func (s *Store) ListRequests(ctx context.Context, q store.ListQuery) (store.ListPage, error) {
	limit, after, err := s.parseQuery(q)
	if err != nil {
		return store.ListPage{}, fmt.Errorf("s3store: list requests: %w", err)
	}
	prefix := s.prefix + listDir
	keyFiltered := q.Project != "" || q.Environment != "" || len(q.Statuses) > 0
	pageSize := int32(1000)
	if !keyFiltered {
		pageSize = int32(min(limit+1+s.concurrency, 1000))
	}
	// A status filter lists the status index's prefixes of those
	// statuses instead of the whole list index (status_index.go).
	listPage := func(ctx context.Context) ([]listed, bool, error) { return s.listOnce(ctx, prefix, after, pageSize) }
	if len(q.Statuses) > 0 {
		ready, err := s.statusIndexReady(ctx)
		if err != nil {
			return store.ListPage{}, fmt.Errorf("s3store: list requests: %w", err)
		}
		if ready {
			if q.Project == "" && q.Environment == "" {
				pageSize = int32(min(limit+1+s.concurrency, 1000))
			}
			listPage = s.newStatusMerge(q.Statuses, after, pageSize).next
		}
	}
	var (
		out       []*store.Request
		outPos    []string
		seen      = make(map[string]bool)
		cands     []candidate
		exhausted bool
	)
	for len(out) <= limit {
		if len(cands) == 0 {
			if exhausted {
				break
			}
			page, more, err := listPage(ctx)
			if err != nil {
				return store.ListPage{}, fmt.Errorf("s3store: list requests: %w", err)
			}
			exhausted = !more
			for _, l := range page {
				after = l.key
				e, ok := s.parseIndexKey(l.key)
				if !ok || q.Project != "" && e.project != q.Project || q.Environment != "" && e.environment != q.Environment ||
					len(q.Statuses) > 0 && !slices.Contains(q.Statuses, e.status) {
					continue
				}
				cands = append(cands, candidate{key: l.key, entry: e})
			}
			continue
		}
		n := min(len(cands), max(limit+1-len(out), s.concurrency))
		batch := cands[:n]
		cands = cands[n:]
		docs := make([]*store.Request, n)
		err := s.parallel(ctx, n, func(ctx context.Context, i int) error {
			r, obj, err := s.loadRequest(ctx, s.requestKey(batch[i].entry.id))
			switch {
			case isMissing(err):
				return nil // archived, or a create that lost
			case err != nil:
				return err
			}
			if m := readMeta(obj.body); !m.archiving && batch[i].entry.locates(r) &&
				(len(q.Statuses) == 0 || slices.Contains(q.Statuses, indexStatus(r))) {
				docs[i] = r
			}
			return nil
		})
		if err != nil {
			return store.ListPage{}, fmt.Errorf("s3store: list requests: %w", err)
		}
		for i, r := range docs {
			if len(out) > limit {
				break
			}
			if r == nil || seen[r.ID] {
				// A stale entry, or the second entry of a request
				// whose entry moved while this page read both.
				continue
			}
			seen[r.ID] = true
			out = append(out, r)
			pos, _ := s.position(batch[i].entry)
			outPos = append(outPos, pos)
		}
	}
	page := store.ListPage{Requests: out}
	if page.Requests == nil {
		page.Requests = []*store.Request{}
	}
	if len(out) > limit {
		page.Requests = out[:limit]
		page.NextCursor = encodeCursor(listCursor{
			Key:    strings.TrimPrefix(outPos[limit-1], prefix),
			Filter: filterTag(q),
		})
	}
	return page, nil
}

// ReindexResult reports what [Store.Reindex] did.
type ReindexResult struct {
	// Requests is the number of documents read under requests/.
	Requests int
	// Added is the number of list-index entries written.
	Added int
	// Removed is the number of stale entries deleted.
	Removed int
	// Unlistable names the requests that cannot be indexed: an id with
	// characters outside letters, digits, '-', '_' and '.', a document
	// whose id differs from its key, or one that cannot be read (empty,
	// not JSON). They stay readable with
	// GetRequest but are never listed.
	Unlistable []string
}

// Reindex makes the list index agree with requests/: it writes the entry
// of every request that lacks one and deletes entries that match no
// request and are older than Options.StaleIndexAge. Run it once on a
// bucket written by the original TfPilot (whose requests have no entry
// and are not listed until then), once on a bucket written by a version
// without the insights keys (see [Store.InsightsAggregate]), and after a
// crash to tidy entries left by interrupted writes. It reads every request document, so it
// costs what one list of the original system did; it is safe to run
// while the store is in use.
func (s *Store) Reindex(ctx context.Context) (ReindexResult, error) {
	var res ReindexResult
	existing, err := s.listAll(ctx, s.prefix+listDir)
	if err != nil {
		return res, fmt.Errorf("s3store: reindex: %w", err)
	}
	objects, err := s.listAll(ctx, s.prefix+requestsDir)
	if err != nil {
		return res, fmt.Errorf("s3store: reindex: %w", err)
	}
	var ids []string
	for _, o := range objects {
		name := strings.TrimPrefix(o.key, s.prefix+requestsDir)
		if id, ok := strings.CutSuffix(name, ".json"); ok && safeID(id) {
			ids = append(ids, id)
		}
	}
	have := make(map[string]bool, len(existing))
	for _, l := range existing {
		have[l.key] = true
	}
	now := s.now()
	keys := make([]string, len(ids)) // the entry each request keeps
	insightKeys := make([][]string, len(ids))
	unlistable := make([]bool, len(ids))
	var added atomic.Int64
	err = s.parallel(ctx, len(ids), func(ctx context.Context, i int) error {
		r, obj, err := s.loadRequest(ctx, s.requestKey(ids[i]))
		switch {
		case isMissing(err):
			return nil // archived meanwhile
		case isUnreadable(err):
			unlistable[i] = true // one bad document never stops a reindex
			return nil
		case err != nil:
			return err
		}
		if readMeta(obj.body).archiving {
			return nil // archived but for the last step
		}
		// The entry's status comes from the facts, never from a status
		// field the document carries (the original's may be stale).
		e := entryOfFacts(r)
		key, ok := s.indexKey(e)
		if !ok || r.ID != ids[i] {
			unlistable[i] = true
			return nil
		}
		keys[i] = key
		insightKeys[i] = s.insightKeys(r)
		if have[key] {
			return nil
		}
		if err := s.putIndex(ctx, r, e); err != nil {
			return err
		}
		added.Add(1)
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("s3store: reindex: %w", err)
	}
	res.Requests = len(ids)
	res.Added = int(added.Load())
	wanted := make(map[string]bool, len(keys))
	for i, k := range keys {
		if unlistable[i] {
			res.Unlistable = append(res.Unlistable, ids[i])
		}
		if k != "" {
			wanted[k] = true
		}
	}
	for _, l := range existing {
		if wanted[l.key] || now.Sub(l.modified) < s.staleAge {
			continue
		}
		if err := s.del(ctx, l.key, ""); err != nil {
			return res, fmt.Errorf("s3store: reindex: remove stale entry: %w", err)
		}
		res.Removed++
	}
	if err := s.reindexStatus(ctx, keys, now); err != nil { // status_index.go
		return res, fmt.Errorf("s3store: reindex: %w", err)
	}
	if err := s.reindexInsights(ctx, insightKeys, now); err != nil { // insights.go
		return res, fmt.Errorf("s3store: reindex: %w", err)
	}
	return res, nil
}
