package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// InsightsBenchRecent is how many requests of every insights benchmark
// store have an attempt completed within the insights window (see
// [InsightsBenchRequest]).
const InsightsBenchRecent = 100

// InsightsBenchRequest is request i of the insights benchmarks the
// backends run side by side at 1,000 and 10,000 requests: applied, its
// apply completed within the last 100 hours for the first
// InsightsBenchRecent and 30 days before now otherwise; one in fifty of
// the first 1,000 destroying, so both sizes have the same 20 destroys in
// flight.
func InsightsBenchRequest(i int, now time.Time) *store.Request {
	r := &store.Request{ID: fmt.Sprintf("req-%05d", i), Project: "p", Environment: "dev", Module: "m", MergedSHA: "abc",
		ReceivedAt: now.Add(-time.Duration(i+1) * time.Minute)}
	done := now.Add(-30 * 24 * time.Hour)
	if i < InsightsBenchRecent {
		done = now.Add(-time.Duration(i) * time.Hour)
	}
	r.Runs.Apply = runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{{Attempt: 1, RunID: int64(i + 1), Status: runs.StatusCompleted,
		Conclusion: runs.ConclusionSuccess, DispatchedAt: done.Add(-5 * time.Minute), CompletedAt: done}}}
	if i%50 == 7 && i < 1000 {
		r.Runs.Destroy = runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{{Attempt: 1, RunID: int64(100000 + i), Status: runs.StatusInProgress, DispatchedAt: now.Add(-time.Hour)}}}
	}
	return r
}

// SeedInsightsBench creates requests 0 to n-1 of [InsightsBenchRequest]
// in s through CreateRequest, workers at a time.
func SeedInsightsBench(tb testing.TB, s store.RequestStore, n, workers int, now time.Time) {
	tb.Helper()
	var (
		wg     sync.WaitGroup
		next   atomic.Int64
		failed atomic.Value
	)
	for range workers {
		wg.Go(func() {
			for j := int(next.Add(1) - 1); j < n; j = int(next.Add(1) - 1) {
				if _, err := s.CreateRequest(context.Background(), InsightsBenchRequest(j, now)); err != nil {
					failed.Store(err)
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		tb.Fatal(err)
	}
}

// BenchInsightsSizes computes insights over each of stores, which hold
// sizes[i] requests seeded by [SeedInsightsBench], in every iteration,
// alternating which goes first so that neither always meets a warm
// cache, and reports the time of each (ns/insights@<size>) and the ratio
// of the last size's time to the first's.
func BenchInsightsSizes(b *testing.B, stores []store.RequestStore, sizes []int, now time.Time) {
	spent := make([]time.Duration, len(sizes))
	for it := 0; b.Loop(); it++ {
		for k := range sizes {
			i := (k + it) % len(sizes)
			start := time.Now()
			in, err := store.ComputeInsights(context.Background(), stores[i], now)
			spent[i] += time.Since(start)
			if err != nil || in.Total != sizes[i] || in.AppliesLast7d != InsightsBenchRecent {
				b.Fatalf("insights over %d: %+v, %v", sizes[i], in, err)
			}
		}
	}
	for i, n := range sizes {
		b.ReportMetric(float64(spent[i].Nanoseconds())/float64(b.N), fmt.Sprintf("ns/insights@%d", n))
	}
	b.ReportMetric(float64(spent[len(sizes)-1])/float64(spent[0]), "ratio")
}
