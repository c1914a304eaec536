package s3store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/storetest"
)

// BenchmarkInsights computes insights over a bucket of 1,000 and one of
// 10,000 requests (storetest.InsightsBenchRequest, created through
// CreateRequest, 32 at a time; the same 100 recent completions and 20
// in-flight destroys in both) in every
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
	stores := make([]store.RequestStore, len(sizes))
	counters := make([]*opCounter, len(sizes))
	for i, n := range sizes {
		s, c, _ := countedStore(b, func() time.Time { return now })
		if _, err := store.ComputeInsights(b.Context(), s, now); err != nil { // empty: ready.json
			b.Fatal(err)
		}
		start := time.Now()
		storetest.SeedInsightsBench(b, s, n, 32, now)
		b.Logf("seeded %d requests in %v", n, time.Since(start).Round(time.Second))
		stores[i], counters[i] = s, c
	}
	b.Run("aggregate", func(b *testing.B) {
		for _, c := range counters {
			c.reset()
		}
		storetest.BenchInsightsSizes(b, stores, sizes, now)
		for i, n := range sizes {
			b.ReportMetric(float64(counters[i].gets.Load())/float64(b.N), fmt.Sprintf("GETs@%d", n))
			b.ReportMetric(float64(counters[i].lists.Load())/float64(b.N), fmt.Sprintf("LISTs@%d", n))
		}
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
