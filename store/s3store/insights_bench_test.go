package s3store_test

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

// benchRecent is how many requests of every benchmark bucket have an
// attempt completed within the insights window; the others completed
// theirs 30 days ago.
const benchRecent = 100

// insightsBenchRequest is request i: applied, with its apply completed
// within the last 100 hours for the first benchRecent, 30 days ago
// otherwise; one in fifty of the first 1,000 destroying (so both sizes
// have the same 20 destroys in flight).
func insightsBenchRequest(i int, now time.Time) *store.Request {
	r := newRequest(fmt.Sprintf("req-%05d", i))
	r.ReceivedAt = now.Add(-time.Duration(i+1) * time.Minute)
	r.MergedSHA = "abc"
	done := now.Add(-30 * 24 * time.Hour)
	if i < benchRecent {
		done = now.Add(-time.Duration(i) * time.Hour)
	}
	r.Runs.Apply = runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{{Attempt: 1, RunID: int64(i + 1), Status: runs.StatusCompleted,
		Conclusion: runs.ConclusionSuccess, DispatchedAt: done.Add(-5 * time.Minute), CompletedAt: done}}}
	if i%50 == 7 && i < 1000 {
		r.Runs.Destroy = runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{{Attempt: 1, RunID: int64(100000 + i), Status: runs.StatusInProgress, DispatchedAt: now.Add(-time.Hour)}}}
	}
	return r
}

// BenchmarkInsights computes insights over a bucket of 1,000 and one of
// 10,000 requests (created through CreateRequest, 32 at a time; the same
// 100 recent completions and 20 in-flight destroys in both) in every
// iteration, alternating which goes first, and reports the time of each,
// their ratio, and the GETs and LISTs per insights at each size.
// "aggregate" is s3store's InsightsStore (keys); "scan-1k" walks the
// 1,000-request bucket (the fallback, one GET per request) for
// comparison. Run:
//
//	go test -run '^$' -bench Insights -benchtime 10x -timeout 30m ./store/s3store/
func BenchmarkInsights(b *testing.B) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	sizes := []int{1_000, 10_000}
	stores := make([]store.Store, len(sizes))
	counters := make([]*opCounter, len(sizes))
	for i, n := range sizes {
		s, c, _ := countedStore(b, func() time.Time { return now })
		if _, err := store.ComputeInsights(b.Context(), s, now); err != nil { // empty: ready.json
			b.Fatal(err)
		}
		start := time.Now()
		var (
			wg     sync.WaitGroup
			next   atomic.Int64
			failed atomic.Value
		)
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := int(next.Add(1) - 1); j < n; j = int(next.Add(1) - 1) {
					if _, err := s.CreateRequest(context.Background(), insightsBenchRequest(j, now)); err != nil {
						failed.Store(err)
					}
				}
			}()
		}
		wg.Wait()
		if err := failed.Load(); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d requests in %v", n, time.Since(start).Round(time.Second))
		stores[i], counters[i] = s, c
	}
	b.Run("aggregate", func(b *testing.B) {
		spent := make([]time.Duration, len(sizes))
		for _, c := range counters {
			c.reset()
		}
		for it := 0; b.Loop(); it++ {
			for k := range sizes {
				i := (k + it) % len(sizes)
				start := time.Now()
				in, err := store.ComputeInsights(context.Background(), stores[i], now)
				spent[i] += time.Since(start)
				if err != nil || in.Total != sizes[i] || in.AppliesLast7d != benchRecent {
					b.Fatalf("insights over %d: %+v, %v", sizes[i], in, err)
				}
			}
		}
		for i, n := range sizes {
			b.ReportMetric(float64(spent[i].Nanoseconds())/float64(b.N), fmt.Sprintf("ns/insights@%d", n))
			b.ReportMetric(float64(counters[i].gets.Load())/float64(b.N), fmt.Sprintf("GETs@%d", n))
			b.ReportMetric(float64(counters[i].lists.Load())/float64(b.N), fmt.Sprintf("LISTs@%d", n))
		}
		b.ReportMetric(float64(spent[1])/float64(spent[0]), "ratio")
	})
	b.Run("scan-1k", func(b *testing.B) {
		counters[0].reset()
		for b.Loop() {
			in, err := store.ComputeInsights(context.Background(), scanOnly{stores[0]}, now)
			if err != nil || in.Total != sizes[0] {
				b.Fatalf("insights over %d: %+v, %v", sizes[0], in, err)
			}
		}
		b.ReportMetric(float64(counters[0].gets.Load())/float64(b.N), "GETs")
		b.ReportMetric(float64(counters[0].lists.Load())/float64(b.N), "LISTs")
	})
}
