package pgstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/pgstore"
)

// benchRecent is how many requests of every benchmark store have an
// attempt completed within the insights window; the others completed
// theirs 30 days ago.
const benchRecent = 100

// insightsBenchRequest is request i: applied, with its apply completed
// within the last 100 hours for the first benchRecent, 30 days ago
// otherwise; one in fifty of the first 1,000 destroying (so both sizes
// have the same 20 destroys in flight).
func insightsBenchRequest(i int, now time.Time) *store.Request {
	r := &store.Request{ID: fmt.Sprintf("req-%05d", i), Project: "p", Environment: "dev", Module: "m", MergedSHA: "abc",
		ReceivedAt: now.Add(-time.Duration(i+1) * time.Minute)}
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

type scanOnly struct{ store.RequestStore }

// BenchmarkInsights computes insights over 1,000 and over 10,000
// requests (created through CreateRequest; the same 100 recent
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
	stores := make([]*pgstore.Store, len(sizes))
	for i, n := range sizes {
		s := openStore(b, testenv.PostgresDSN(b), func() time.Time { return now })
		var (
			wg     sync.WaitGroup
			next   atomic.Int64
			failed atomic.Value
		)
		for range 8 {
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
		if _, err := s.DB().ExecContext(b.Context(), `ANALYZE tfpilot_requests`); err != nil {
			b.Fatal(err)
		}
		stores[i] = s
	}
	for _, mode := range []struct {
		name string
		wrap func(s *pgstore.Store) store.RequestStore
	}{
		{"aggregate", func(s *pgstore.Store) store.RequestStore { return s }},
		{"scan", func(s *pgstore.Store) store.RequestStore { return scanOnly{s} }},
	} {
		b.Run(mode.name, func(b *testing.B) {
			spent := make([]time.Duration, len(sizes))
			for it := 0; b.Loop(); it++ {
				for k := range sizes {
					i := (k + it) % len(sizes)
					start := time.Now()
					in, err := store.ComputeInsights(context.Background(), mode.wrap(stores[i]), now)
					spent[i] += time.Since(start)
					if err != nil || in.Total != sizes[i] || in.AppliesLast7d != benchRecent {
						b.Fatalf("insights over %d: %+v, %v", sizes[i], in, err)
					}
				}
			}
			for i, n := range sizes {
				b.ReportMetric(float64(spent[i].Nanoseconds())/float64(b.N), fmt.Sprintf("ns/insights@%d", n))
			}
			b.ReportMetric(float64(spent[1])/float64(spent[0]), "ratio")
		})
	}
}
