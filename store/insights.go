package store

import (
	"context"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
)

// A backend may offer one more optional extension of [Store], found by
// type assertion like [Exporter]:
//
//	agg, ok := s.(store.InsightsStore)
//
// [ComputeInsights] uses it when present, so that insights cost what the
// aggregate costs instead of a read of every live request; without it,
// ComputeInsights walks every request ([ScanInsightsAggregate]). memstore,
// pgstore and s3store implement it, and store/storetest checks that it
// agrees with the walk.

// InsightsStore is a [Store] that gathers what [Insights] are computed
// from without handing out every request.
type InsightsStore interface {
	// InsightsAggregate returns the aggregate of every live request
	// (archived requests are not counted) as q asks for it. It must
	// equal what [ScanInsightsAggregate] returns for the same store
	// contents, up to the order of Completions.
	InsightsAggregate(ctx context.Context, q InsightsQuery) (InsightsAggregate, error)
}

// InsightsQuery says which part of the recent past an
// [InsightsAggregate] covers.
type InsightsQuery struct {
	// Since and Until bound the completions returned, both included: an
	// attempt is returned when its CompletedAt t is non-zero and
	// Since <= t <= Until.
	Since, Until time.Time
	// StaleBefore decides which requests in status [lifecycle.Destroying]
	// (clock-free, [lifecycle.IndexStatus]) count as stale: those whose
	// in-flight destroy has a run id and a dispatch time before
	// StaleBefore (see [InsightFacts.DestroyDispatchedAt]).
	StaleBefore time.Time
}

// InsightsAggregate is what [Insights] are computed from.
type InsightsAggregate struct {
	// StatusCounts counts live requests by their clock-free status
	// ([lifecycle.IndexStatus]); statuses with no request may be absent.
	StatusCounts map[lifecycle.Status]int
	// StaleDestroys is how many of StatusCounts[lifecycle.Destroying]
	// are stale by InsightsQuery.StaleBefore (they derive as failed).
	StaleDestroys int
	// Completions are the attempts of live requests completed in the
	// query's window, in no particular order.
	Completions []AttemptCompletion
}

// AttemptCompletion is one completed attempt as insights count it.
type AttemptCompletion struct {
	Kind         runs.Kind
	Conclusion   string
	CompletedAt  time.Time
	DispatchedAt time.Time // zero when unknown
}

// InsightFacts is what one request contributes to insights: what a
// backend keeps beside the request to answer [InsightsStore] without
// reading it.
type InsightFacts struct {
	// Status is [lifecycle.IndexStatus] of the request's facts.
	Status lifecycle.Status
	// DestroyDispatchedAt is, when Status is [lifecycle.Destroying] and
	// the current destroy attempt has a run id, that attempt's dispatch
	// time; zero otherwise. Such a request derives as failed once now is
	// more than the stale window after it ([lifecycle.Rules.Stale]); a
	// zero value is never stale.
	DestroyDispatchedAt time.Time
	// Completions are every attempt, of every kind, with a conclusion and
	// a non-zero CompletedAt, in kind order then attempt order (the
	// attempts list as stored, not by attempt number).
	Completions []AttemptCompletion
}

// InsightFactsOf returns what r contributes to insights.
func InsightFactsOf(r *Request) InsightFacts {
	f := r.Facts()
	out := InsightFacts{Status: lifecycle.IndexStatus(f)}
	if out.Status == lifecycle.Destroying {
		if d, ok := runs.Current(f.Runs, runs.Destroy); ok && d.RunID != 0 {
			out.DestroyDispatchedAt = d.DispatchedAt
		}
	}
	for _, k := range runs.Kinds() {
		for _, a := range r.Runs.Op(k).Attempts {
			if a.Conclusion == "" || a.CompletedAt.IsZero() {
				continue
			}
			out.Completions = append(out.Completions, AttemptCompletion{Kind: k, Conclusion: a.Conclusion, CompletedAt: a.CompletedAt, DispatchedAt: a.DispatchedAt})
		}
	}
	return out
}

// Stale reports whether f's request counts as a stale destroy for q.
func (f InsightFacts) Stale(q InsightsQuery) bool {
	return f.Status == lifecycle.Destroying && !f.DestroyDispatchedAt.IsZero() && f.DestroyDispatchedAt.Before(q.StaleBefore)
}

// Within reports whether c is in q's window.
func (c AttemptCompletion) Within(q InsightsQuery) bool {
	return !c.CompletedAt.IsZero() && !c.CompletedAt.Before(q.Since) && !c.CompletedAt.After(q.Until)
}

// Add adds f to a, for q.
func (a *InsightsAggregate) Add(f InsightFacts, q InsightsQuery) {
	if a.StatusCounts == nil {
		a.StatusCounts = make(map[lifecycle.Status]int)
	}
	a.StatusCounts[f.Status]++
	if f.Stale(q) {
		a.StaleDestroys++
	}
	for _, c := range f.Completions {
		if c.Within(q) {
			a.Completions = append(a.Completions, c)
		}
	}
}

// ScanInsightsAggregate computes the aggregate by walking every live
// request page by page: what [ComputeInsights] does for a store that is
// not an [InsightsStore], and what one may fall back to. Memory stays
// bounded by a page plus the completions in q's window.
func ScanInsightsAggregate(ctx context.Context, s RequestStore, q InsightsQuery) (InsightsAggregate, error) {
	agg := InsightsAggregate{StatusCounts: make(map[lifecycle.Status]int)}
	lq := ListQuery{Limit: MaxPageSize}
	for {
		page, err := s.ListRequests(ctx, lq)
		if err != nil {
			return InsightsAggregate{}, err
		}
		for _, r := range page.Requests {
			agg.Add(InsightFactsOf(r), q)
		}
		if page.NextCursor == "" {
			return agg, nil
		}
		lq.Cursor = page.NextCursor
	}
}
