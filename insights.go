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

// ComputeInsights walks every live request page by page (memory stays
// bounded by a page plus the apply durations of the last 7 days) and
// computes [Insights] at now, with statuses derived by the default
// [lifecycle.Rules].
func ComputeInsights(ctx context.Context, s RequestStore, now time.Time) (Insights, error) {
	return ComputeInsightsWith(ctx, s, lifecycle.Rules{}, now)
}

// ComputeInsightsWith is [ComputeInsights] with statuses derived by rules,
// as [Pilot.Get] derives them: [Pilot.Insights] passes Config.Rules, so
// its StatusCounts agree with Get and List.
func ComputeInsightsWith(ctx context.Context, s RequestStore, rules lifecycle.Rules, now time.Time) (Insights, error) {
	in := Insights{StatusCounts: make(map[lifecycle.Status]int), GeneratedAt: now}
	var (
		durations          []float64
		applyDone, applyOK int
		planDone, planOK   int
		day, week          = now.Add(-24 * time.Hour), now.Add(-7 * 24 * time.Hour)
	)
	within := func(t, since time.Time) bool { return !t.IsZero() && !t.Before(since) && !t.After(now) }
	q := ListQuery{Limit: MaxPageSize}
	for {
		page, err := s.ListRequests(ctx, q)
		if err != nil {
			return Insights{}, err
		}
		for _, r := range page.Requests {
			in.Total++
			in.StatusCounts[rules.Derive(r.Facts(), now)]++
			for _, k := range runs.Kinds() {
				for _, a := range r.Runs.Op(k).Attempts {
					if a.Conclusion == "" {
						continue
					}
					done := a.CompletedAt
					failed := runs.IsFailedConclusion(a.Conclusion)
					ok := a.Conclusion == runs.ConclusionSuccess
					if failed && within(done, day) {
						in.FailuresLast24h++
					}
					if failed && within(done, week) {
						in.FailuresLast7d++
					}
					switch k {
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
			}
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	in.ApplySuccessRateLast7d = rate(applyOK, applyDone)
	in.PlanSuccessRateLast7d = rate(planOK, planDone)
	if len(durations) > 0 {
		var sum float64
		for _, d := range durations {
			sum += d
		}
		in.AvgApplySecondsLast7d = sum / float64(len(durations))
		slices.Sort(durations)
		// Nearest-rank p95.
		idx := int(math.Ceil(0.95*float64(len(durations)))) - 1
		in.P95ApplySecondsLast7d = durations[max(idx, 0)]
	}
	return in, nil
}

func rate(ok, total int) float64 {
	if total == 0 {
		return -1
	}
	return float64(ok) / float64(total)
}
