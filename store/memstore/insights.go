package memstore

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/store"
)

var _ store.InsightsStore = (*Store)(nil)

// insightsIndex is kept beside the live requests, under Store.mu, so
// that [Store.InsightsAggregate] reads counters instead of requests:
// every write of a live request removes what its previous version
// contributed ([store.InsightFactsOf]) and adds what the new one does.
type insightsIndex struct {
	// counts counts live requests by clock-free status.
	counts map[lifecycle.Status]int
	// destroying holds the dispatch time of every live request whose
	// in-flight destroy has a run id and a dispatch time.
	destroying map[string]time.Time
	// byDay holds the completions of live requests by the UTC day
	// (days since the Unix epoch) they completed on.
	byDay map[int64]map[doneKey]store.AttemptCompletion
}

// doneKey names one completion: the request and its place in the
// request's [store.InsightFacts.Completions].
type doneKey struct {
	id string
	n  int
}

// dayOf is the day t falls on, counted from the Unix epoch (negative
// before it).
func dayOf(t time.Time) int64 {
	sec := t.Unix()
	d := sec / 86400
	if sec%86400 < 0 {
		d--
	}
	return d
}

// apply adds f (sign +1) or removes it (sign -1) for request id.
func (x *insightsIndex) apply(id string, f store.InsightFacts, sign int) {
	if x.counts == nil {
		x.counts = make(map[lifecycle.Status]int)
		x.destroying = make(map[string]time.Time)
		x.byDay = make(map[int64]map[doneKey]store.AttemptCompletion)
	}
	x.counts[f.Status] += sign
	if x.counts[f.Status] == 0 {
		delete(x.counts, f.Status)
	}
	if f.Status == lifecycle.Destroying && !f.DestroyDispatchedAt.IsZero() {
		if sign > 0 {
			x.destroying[id] = f.DestroyDispatchedAt
		} else {
			delete(x.destroying, id)
		}
	}
	for n, c := range f.Completions {
		d := dayOf(c.CompletedAt)
		if sign > 0 {
			if x.byDay[d] == nil {
				x.byDay[d] = make(map[doneKey]store.AttemptCompletion)
			}
			x.byDay[d][doneKey{id, n}] = c
			continue
		}
		delete(x.byDay[d], doneKey{id, n})
		if len(x.byDay[d]) == 0 {
			delete(x.byDay, d)
		}
	}
}

// putLocked stores e as the live request id, keeping the insights
// index current. s.mu must be held.
func (s *Store) putLocked(id string, e *stored) {
	if old, ok := s.requests[id]; ok {
		s.insights.apply(id, old.facts, -1)
	}
	e.facts = store.InsightFactsOf(e.req)
	s.insights.apply(id, e.facts, +1)
	s.requests[id] = e
}

// dropLocked removes the live request id. s.mu must be held.
func (s *Store) dropLocked(id string) {
	if old, ok := s.requests[id]; ok {
		s.insights.apply(id, old.facts, -1)
		delete(s.requests, id)
	}
}

// InsightsAggregate implements [store.InsightsStore] from counters
// kept at every write: it reads the status counts, the in-flight
// destroys with a run id, and the completions of the days q's window
// touches, never the requests themselves, so its cost does not grow
// with the number of requests.
func (s *Store) InsightsAggregate(ctx context.Context, q store.InsightsQuery) (store.InsightsAggregate, error) {
	if err := ctx.Err(); err != nil {
		return store.InsightsAggregate{}, fmt.Errorf("memstore: insights: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	agg := store.InsightsAggregate{StatusCounts: maps.Clone(s.insights.counts)}
	if agg.StatusCounts == nil {
		agg.StatusCounts = make(map[lifecycle.Status]int)
	}
	for _, t := range s.insights.destroying {
		if t.Before(q.StaleBefore) {
			agg.StaleDestroys++
		}
	}
	if q.Until.Before(q.Since) {
		return agg, nil
	}
	collect := func(day map[doneKey]store.AttemptCompletion) {
		for _, c := range day {
			if c.Within(q) {
				agg.Completions = append(agg.Completions, c)
			}
		}
	}
	first, last := dayOf(q.Since), dayOf(q.Until)
	if last-first+1 > int64(len(s.insights.byDay)) {
		for d, day := range s.insights.byDay {
			if d >= first && d <= last {
				collect(day)
			}
		}
		return agg, nil
	}
	for d := first; d <= last; d++ {
		collect(s.insights.byDay[d])
	}
	return agg, nil
}
