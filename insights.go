package tfpilot

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
)

// Insights are operational metrics over all live requests, as the
// original TfPilot's insights page showed them.
type Insights struct {
	Total        int
	StatusCounts map[lifecycle.Status]int
	// Failures, applies and destroys count attempts that completed in the
	// window: failed attempts of any kind, successful applies, successful
	// destroys.
	FailuresLast24h, FailuresLast7d int
	AppliesLast24h, AppliesLast7d   int
	DestroysLast24h, DestroysLast7d int
	// AvgApplySecondsLast7d and P95ApplySecondsLast7d are over successful
	// applies completed in the last 7 days, from dispatch to completion
	// (0 when there were none).
	AvgApplySecondsLast7d float64
	P95ApplySecondsLast7d float64
	// ApplySuccessRateLast7d and PlanSuccessRateLast7d are successes over
	// completed attempts in the last 7 days, in [0, 1]; -1 when no
	// attempt completed.
	ApplySuccessRateLast7d float64
	PlanSuccessRateLast7d  float64
	GeneratedAt            time.Time
}

// ComputeInsights computes [Insights] at now, with statuses derived by
// the default [lifecycle.Rules]. When s is an [InsightsStore] it asks
// the store for the aggregate (what that costs is the backend's: it does
// not read every request); otherwise it walks every live request page
// by page ([ScanInsightsAggregate]; memory stays bounded by a page plus
// the apply durations of the last 7 days).
func ComputeInsights(ctx context.Context, s RequestStore, now time.Time) (Insights, error) {
	return ComputeInsightsWith(ctx, s, lifecycle.Rules{}, now)
}

// ComputeInsightsWith is [ComputeInsights] with statuses derived by rules,
// as [Pilot.Get] derives them: [Pilot.Insights] passes Config.Rules, so
// its StatusCounts agree with Get and List.
func ComputeInsightsWith(ctx context.Context, s RequestStore, rules lifecycle.Rules, now time.Time) (Insights, error) {
	q := insightsQuery(rules, now)
	var (
		agg InsightsAggregate
		err error
	)
	if is, ok := s.(InsightsStore); ok {
		agg, err = is.InsightsAggregate(ctx, q)
	} else {
		agg, err = ScanInsightsAggregate(ctx, s, q)
	}
	if err != nil {
		return Insights{}, err
	}
	return insightsFrom(agg, now), nil
}

// insightsWindow is the longest window [Insights] report on.
const insightsWindow = 7 * 24 * time.Hour

// insightsQuery is the aggregate [Insights] at now need, with rules'
// stale-destroy window.
func insightsQuery(rules lifecycle.Rules, now time.Time) InsightsQuery {
	stale := rules.StaleDestroyAfter
	if stale <= 0 {
		stale = lifecycle.DefaultStaleDestroyAfter
	}
	return InsightsQuery{Since: now.Add(-insightsWindow), Until: now, StaleBefore: now.Add(-stale)}
}

// insightsFrom computes [Insights] at now from agg.
func insightsFrom(agg InsightsAggregate, now time.Time) Insights {
	in := Insights{StatusCounts: make(map[lifecycle.Status]int), GeneratedAt: now}
	for st, n := range agg.StatusCounts {
		if n == 0 {
			continue
		}
		in.Total += n
		in.StatusCounts[st] += n
	}
	if agg.StaleDestroys > 0 {
		// A stale destroy derives as failed (lifecycle.Rules.Derive).
		in.StatusCounts[lifecycle.Destroying] -= agg.StaleDestroys
		in.StatusCounts[lifecycle.Failed] += agg.StaleDestroys
		if in.StatusCounts[lifecycle.Destroying] == 0 {
			delete(in.StatusCounts, lifecycle.Destroying)
		}
	}
	var (
		durations          []float64
		applyDone, applyOK int
		planDone, planOK   int
		day, week          = now.Add(-24 * time.Hour), now.Add(-insightsWindow)
	)
	within := func(t, since time.Time) bool { return !t.IsZero() && !t.Before(since) && !t.After(now) }
	for _, a := range agg.Completions {
		done := a.CompletedAt
		failed := runs.IsFailedConclusion(a.Conclusion)
		ok := a.Conclusion == runs.ConclusionSuccess
		if failed && within(done, day) {
			in.FailuresLast24h++
		}
		if failed && within(done, week) {
			in.FailuresLast7d++
		}
		switch a.Kind {
		case runs.Apply:
			if within(done, week) {
				applyDone++
				if ok {
					applyOK++
					in.AppliesLast7d++
					if !a.DispatchedAt.IsZero() {
						durations = append(durations, done.Sub(a.DispatchedAt).Seconds())
					}
				}
			}
			if ok && within(done, day) {
				in.AppliesLast24h++
			}
		case runs.Destroy:
			if ok && within(done, week) {
				in.DestroysLast7d++
			}
			if ok && within(done, day) {
				in.DestroysLast24h++
			}
		case runs.Plan:
			if within(done, week) {
				planDone++
				if ok {
					planOK++
				}
			}
		}
	}
	in.ApplySuccessRateLast7d = rate(applyOK, applyDone)
	in.PlanSuccessRateLast7d = rate(planOK, planDone)
	if len(durations) > 0 {
		// Sorted first, so that the sum (and the average) does not
		// depend on the order a backend returned the completions in.
		slices.Sort(durations)
		var sum float64
		for _, d := range durations {
			sum += d
		}
		in.AvgApplySecondsLast7d = sum / float64(len(durations))
		// Nearest-rank p95.
		idx := int(math.Ceil(0.95*float64(len(durations)))) - 1
		in.P95ApplySecondsLast7d = durations[max(idx, 0)]
	}
	return in
}

func rate(ok, total int) float64 {
	if total == 0 {
		return -1
	}
	return float64(ok) / float64(total)
}
