package store

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
)

// Insights are operational metrics over all live requests (archived
// ones are not counted), as the original TfPilot's insights page showed
// them, at GeneratedAt ("now").
//
// Every window is [now-24h, now] or [now-7d, now], both ends included,
// and counts attempts, not requests: every attempt of a live request
// (current or not, of any kind) whose conclusion is set and whose
// completedAt is known and inside the window. An attempt without a
// completion time, or completed after now, is in no window. A backend
// that implements [InsightsStore] finds these attempts through an index
// of completion times, so their cost follows the attempts completed in
// the last 7 days, not the number of requests.
type Insights struct {
	// Total is the number of live requests.
	Total int
	// StatusCounts counts live requests by status at now, derived as
	// [Pilot.Get] derives it (a destroy in flight past the stale window
	// is failed); statuses with no request are absent.
	StatusCounts map[lifecycle.Status]int
	// FailuresLast24h and FailuresLast7d count attempts of any kind with
	// a failed conclusion ([runs.IsFailedConclusion]: failure,
	// cancelled, timed_out, …) completed in the window.
	FailuresLast24h, FailuresLast7d int
	// AppliesLast24h and AppliesLast7d count successful apply attempts
	// completed in the window.
	AppliesLast24h, AppliesLast7d int
	// DestroysLast24h and DestroysLast7d count successful destroy
	// attempts completed in the window.
	DestroysLast24h, DestroysLast7d int
	// AvgApplySecondsLast7d and P95ApplySecondsLast7d are the mean and
	// the nearest-rank 95th percentile of completedAt minus dispatchedAt
	// over the successful applies completed in the last 7 days that have
	// a dispatch time (0 when there were none).
	AvgApplySecondsLast7d float64
	P95ApplySecondsLast7d float64
	// ApplySuccessRateLast7d and PlanSuccessRateLast7d are successful
	// attempts over all attempts of that kind completed in the last 7
	// days, in [0, 1]; -1 when none completed.
	ApplySuccessRateLast7d float64
	PlanSuccessRateLast7d  float64
	// GeneratedAt is the now the figures were computed at.
	GeneratedAt time.Time
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
