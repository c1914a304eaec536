package pgstore_test

import (
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/storetest"
)

type scanOnly struct{ store.RequestStore }

// BenchmarkInsights computes insights over 1,000 and over 10,000
// requests (storetest.InsightsBenchRequest, created through CreateRequest; the same 100 recent
// completions and 20 in-flight destroys in both) in every iteration,
// alternating which goes first, from the aggregate (InsightsStore: one
// statement over the status index and the done_until index) and by
// walking every request (the fallback), and reports the time of each
// and the ratios 10k / 1k. Run:
//
//	go test -run '^$' -bench Insights -benchtime 20x -count 3 ./store/pgstore/
func BenchmarkInsights(b *testing.B) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	sizes := []int{1_000, 10_000}
	aggregate := make([]store.RequestStore, len(sizes))
	scan := make([]store.RequestStore, len(sizes))
	for i, n := range sizes {
		s := openStore(b, testenv.PostgresDSN(b), func() time.Time { return now })
		storetest.SeedInsightsBench(b, s, n, 8, now)
		if _, err := s.DB().ExecContext(b.Context(), `ANALYZE tfpilot_requests`); err != nil {
			b.Fatal(err)
		}
		aggregate[i], scan[i] = s, scanOnly{s}
	}
	b.Run("aggregate", func(b *testing.B) { storetest.BenchInsightsSizes(b, aggregate, sizes, now) })
	b.Run("scan", func(b *testing.B) { storetest.BenchInsightsSizes(b, scan, sizes, now) })
}
