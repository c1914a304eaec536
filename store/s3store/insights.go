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
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// The insights index.
//
// Beside the list index (whose keys name every live request's status),
// every write of a live request keeps keys that say what it adds to
// insights ([store.InsightFactsOf]), so that [Store.InsightsAggregate]
// lists keys instead of reading documents:
//
//	tfpilot/insights/done/<inverted completedAt>_<inverted id>~<payload>
//	tfpilot/insights/destroying/<id>~<payload>
//	tfpilot/insights/ready.json
//
// A done key is one completed attempt (payload: [doneBody] as unpadded
// base64url JSON); <inverted completedAt> is math.MaxInt64 minus its
// Unix nanoseconds (clamped like ReceivedAt in the list index), 19
// digits, so done keys sort newest first and a window is one listing
// that stops at its start. A destroying key is an in-flight destroy with
// a run id ([store.InsightFacts.DestroyDispatchedAt]). Keys are a
// function of the document: a write puts the new document's keys that
// the old one lacked and deletes the old ones the new one lacks, after
// the document is written (a failure there leaves keys missing or extra
// until [Store.Reindex]); archiving deletes them.
//
// ready.json says that every live request's keys were written: Reindex
// writes it once it has indexed every request, and InsightsAggregate
// writes it on a bucket that holds no request document yet (every
// request after that is written by a version that keeps the keys).
// Without it, InsightsAggregate walks every request as
// [store.ScanInsightsAggregate] does.
const (
	insightsDoneDir       = "tfpilot/insights/done/"
	insightsDestroyingDir = "tfpilot/insights/destroying/"
	insightsReadyKey      = "tfpilot/insights/ready.json"
)

var _ store.InsightsStore = (*Store)(nil)

// doneBody is a done key's payload.
type doneBody struct {
	ID           string    `json:"i"`
	N            int       `json:"n"` // place in the request's completions
	Kind         runs.Kind `json:"k"`
	Conclusion   string    `json:"c"`
	CompletedAt  time.Time `json:"t"`
	DispatchedAt time.Time `json:"d,omitzero"`
}

// destroyingBody is a destroying key's payload.
type destroyingBody struct {
	ID           string    `json:"i"`
	DispatchedAt time.Time `json:"d"`
}

func payload(v any) (string, bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return base64.RawURLEncoding.EncodeToString(b), true
}

func readPayload(s string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && json.Unmarshal(b, v) == nil
}

// invertedNanos is t's place in the done keys: newest first.
func invertedNanos(t time.Time) string {
	return fmt.Sprintf("%019d", math.MaxInt64-receivedNanos(t))
}

// insightKeys returns the insights keys of r (a live request): its done
// keys and its destroying key.
func (s *Store) insightKeys(r *store.Request) []string {
	inv, ok := invertID(r.ID)
	if !ok {
		return nil
	}
	f := store.InsightFactsOf(r)
	var keys []string
	for n, c := range f.Completions {
		p, ok := payload(doneBody{ID: r.ID, N: n, Kind: c.Kind, Conclusion: c.Conclusion, CompletedAt: c.CompletedAt, DispatchedAt: c.DispatchedAt})
		if ok {
			keys = append(keys, s.prefix+insightsDoneDir+invertedNanos(c.CompletedAt)+"_"+inv+"~"+p)
		}
	}
	if !f.DestroyDispatchedAt.IsZero() {
		if p, ok := payload(destroyingBody{ID: r.ID, DispatchedAt: f.DestroyDispatchedAt}); ok {
			keys = append(keys, s.prefix+insightsDestroyingDir+r.ID+"~"+p)
		}
	}
	return keys
}

// syncInsightKeys moves the insights keys from those of old (nil: none)
// to those of next (nil: none), after the document was written. Errors
// are ignored: the write already happened, and Reindex repairs the keys.
func (s *Store) syncInsightKeys(ctx context.Context, old, next *store.Request) {
	var was, will []string
	if old != nil {
		was = s.insightKeys(old)
	}
	if next != nil {
		will = s.insightKeys(next)
	}
	had := make(map[string]bool, len(was))
	for _, k := range was {
		had[k] = true
	}
	for _, k := range will {
		if had[k] {
			delete(had, k)
			continue
		}
		_, _ = s.put(ctx, k, []byte("{}"), cond{})
	}
	for k := range had {
		_ = s.del(ctx, k, "")
	}
}

// insightsReady reports whether the insights keys can be trusted (see
// ready.json above), writing ready.json on a bucket without requests.
func (s *Store) insightsReady(ctx context.Context) (bool, error) {
	return s.markerReady(ctx, s.prefix+insightsReadyKey, `{"by":"insights"}`)
}

// markerReady reports whether the marker object key exists, writing it
// (with body) when the bucket holds no request yet: an empty bucket's
// indexes are complete by definition.
func (s *Store) markerReady(ctx context.Context, key, body string) (bool, error) {
	_, err := s.get(ctx, key)
	switch {
	case err == nil:
		return true, nil
	case !isMissing(err):
		return false, err
	}
	docs, _, err := s.listOnce(ctx, s.prefix+requestsDir, "", 1)
	if err != nil || len(docs) > 0 {
		return false, err
	}
	if _, err := s.put(ctx, key, []byte(body), cond{}); err != nil {
		return false, err
	}
	return true, nil
}

// InsightsAggregate implements [store.InsightsStore] from keys: it
// lists the list index (the status of every live request is in its
// key), the destroying keys and the done keys of the window, newest
// first, stopping at the window's start. It reads documents only for
// requests with more than one list-index entry (a write in flight, or
// one that lost a race, left the second; the document says which is
// current): a GET of ready.json plus those. So it costs one
// ListObjectsV2 call per 1,000 live requests, per 1,000 in-flight
// destroys and per 1,000 completions in the window, and a constant
// number of GETs. Without ready.json (a bucket written by an earlier
// version, until [Store.Reindex] runs) it walks every request.
//
// The keys are trusted: a list-index entry whose create failed after
// writing it (an entry [Store.ListRequests] skips), or keys a crash left
// out of date, count until Reindex tidies them.
func (s *Store) InsightsAggregate(ctx context.Context, q store.InsightsQuery) (store.InsightsAggregate, error) {
	const op = "s3store: insights"
	ready, err := s.insightsReady(ctx)
	if err != nil {
		return store.InsightsAggregate{}, fmt.Errorf("%s: %w", op, err)
	}
	if !ready {
		agg, err := store.ScanInsightsAggregate(ctx, s, q)
		if err != nil {
			return store.InsightsAggregate{}, fmt.Errorf("%s: %w", op, err)
		}
		return agg, nil
	}
	entries, err := s.listAll(ctx, s.prefix+listDir)
	if err != nil {
		return store.InsightsAggregate{}, fmt.Errorf("%s: %w", op, err)
	}
	// The status of every live request, by id; ids with several entries
	// are settled by their document.
	status := make(map[string]lifecycle.Status, len(entries))
	first := make(map[string]indexEntry, len(entries))
	byID := make(map[string][]indexEntry)
	for _, l := range entries {
		e, ok := s.parseIndexKey(l.key)
		if !ok {
			continue
		}
		if prev, seen := first[e.id]; seen {
			if len(byID[e.id]) == 0 {
				byID[e.id] = []indexEntry{prev}
			}
			byID[e.id] = append(byID[e.id], e)
			continue
		}
		first[e.id] = e
		status[e.id] = e.status
	}
	agg := store.InsightsAggregate{StatusCounts: make(map[lifecycle.Status]int)}
	settled := make(map[string]bool, len(byID)) // read from the document
	if len(byID) > 0 {
		ids := make([]string, 0, len(byID))
		for id := range byID {
			ids = append(ids, id)
		}
		docs := make([]*store.Request, len(ids))
		err := s.parallel(ctx, len(ids), func(ctx context.Context, i int) error {
			r, _, _, err := s.loadLive(ctx, ids[i])
			switch {
			case isMissing(err) || isUnreadable(err):
				return nil
			case err != nil:
				return err
			}
			for _, e := range byID[ids[i]] {
				if e.locates(r) {
					docs[i] = r
					break
				}
			}
			return nil
		})
		if err != nil {
			return store.InsightsAggregate{}, fmt.Errorf("%s: %w", op, err)
		}
		for i, id := range ids {
			delete(status, id)
			settled[id] = true
			if docs[i] != nil {
				agg.Add(store.InsightFactsOf(docs[i]), q)
			}
		}
	}
	for _, st := range status {
		agg.StatusCounts[st]++
	}
	// Stale destroys.
	flights, err := s.listAll(ctx, s.prefix+insightsDestroyingDir)
	if err != nil {
		return store.InsightsAggregate{}, fmt.Errorf("%s: %w", op, err)
	}
	dispatched := make(map[string]time.Time)
	for _, l := range flights {
		_, p, ok := strings.Cut(strings.TrimPrefix(l.key, s.prefix+insightsDestroyingDir), "~")
		var b destroyingBody
		if !ok || !readPayload(p, &b) || status[b.ID] != lifecycle.Destroying {
			continue
		}
		if b.DispatchedAt.After(dispatched[b.ID]) {
			dispatched[b.ID] = b.DispatchedAt
		}
	}
	for _, t := range dispatched {
		if t.Before(q.StaleBefore) {
			agg.StaleDestroys++
		}
	}
	// Completions in the window, newest first from its end.
	if q.Until.Before(q.Since) {
		return agg, nil
	}
	prefix := s.prefix + insightsDoneDir
	after := prefix + invertedNanos(q.Until)
	stop := math.MaxInt64 - receivedNanos(q.Since)
	for {
		page, more, err := s.listOnce(ctx, prefix, after, 1000)
		if err != nil {
			return store.InsightsAggregate{}, fmt.Errorf("%s: %w", op, err)
		}
		for _, l := range page {
			after = l.key
			rest := strings.TrimPrefix(l.key, prefix)
			if len(rest) < 20 {
				continue
			}
			if inv, err := strconv.ParseInt(rest[:19], 10, 64); err == nil && inv > stop {
				return agg, nil
			}
			_, p, ok := strings.Cut(rest, "~")
			var b doneBody
			if !ok || !readPayload(p, &b) || settled[b.ID] {
				continue
			}
			if _, live := status[b.ID]; !live {
				continue
			}
			c := store.AttemptCompletion{Kind: b.Kind, Conclusion: b.Conclusion, CompletedAt: b.CompletedAt, DispatchedAt: b.DispatchedAt}
			if c.Within(q) {
				agg.Completions = append(agg.Completions, c)
			}
		}
		if !more {
			return agg, nil
		}
	}
}

// reindexInsights makes the insights keys those of the live requests
// (wanted: each request's keys): it writes the missing ones, deletes the
// others older than Options.StaleIndexAge (younger ones may belong to a
// write in flight), and then writes ready.json.
func (s *Store) reindexInsights(ctx context.Context, wanted [][]string, now time.Time) error {
	want := make(map[string]bool)
	for _, ks := range wanted {
		for _, k := range ks {
			want[k] = true
		}
	}
	have := make(map[string]bool)
	for _, dir := range []string{insightsDoneDir, insightsDestroyingDir} {
		keys, err := s.listAll(ctx, s.prefix+dir)
		if err != nil {
			return fmt.Errorf("insights keys: %w", err)
		}
		for _, l := range keys {
			have[l.key] = true
			if !want[l.key] && now.Sub(l.modified) >= s.staleAge {
				if err := s.del(ctx, l.key, ""); err != nil {
					return fmt.Errorf("remove insights key: %w", err)
				}
			}
		}
	}
	var missing []string
	for k := range want {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	err := s.parallel(ctx, len(missing), func(ctx context.Context, i int) error {
		_, err := s.put(ctx, missing[i], []byte("{}"), cond{})
		return err
	})
	if err != nil {
		return fmt.Errorf("write insights key: %w", err)
	}
	if _, err := s.put(ctx, s.prefix+insightsReadyKey, []byte(`{"by":"reindex"}`), cond{}); err != nil {
		return fmt.Errorf("write %s: %w", insightsReadyKey, err)
	}
	return nil
}
