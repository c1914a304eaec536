package tfpilot_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/webhook/webhooktest"
)

// inFlight is how many deliveries BenchmarkWebhookInFlight serves at
// once.
const inFlight = 8

// benchInFlight serves b.N workflow_run "completed" deliveries with h,
// inFlight at a time, each one a new delivery that patches its own
// request (seed stores the b.N requests beforehand, with the timer
// stopped; nil stores nothing).
func benchInFlight(b *testing.B, h http.Handler, seed func(ctx context.Context, n int64)) {
	tmpl := run{action: "completed", path: planYML, id: runIDBase, title: "Plan", branch: "main", sha: "abc"}.body(b)
	placeholder := fmt.Appendf(nil, "%d", runIDBase)
	// Each call of the benchmark function uses run ids of its own.
	base := benchEpoch.Add(int64(b.N) + 1)
	reqs := make([]*http.Request, b.N)
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range inFlight {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				n := base - int64(b.N) + i
				if seed != nil {
					seed(context.Background(), n)
				}
				body := bytes.ReplaceAll(tmpl, placeholder, fmt.Appendf(nil, "%d", runIDBase+n))
				reqs[i] = webhooktest.Request(hookSecret, "workflow_run", fmt.Sprint("bench-", n), body)
			}
		})
	}
	wg.Wait()
	next.Store(0)
	b.ResetTimer()
	for range inFlight {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, reqs[i])
				if rec.Code != http.StatusOK {
					b.Errorf("delivery: %d %q", rec.Code, rec.Body.String())
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}

// benchEpoch hands out request numbers, so that the requests of one
// benchmark call never collide with an earlier call's.
var benchEpoch atomic.Int64

// BenchmarkWebhookInFlight measures deliveries per second with inFlight
// (8) deliveries in flight: the handler with no store (verify+decode,
// the floor) and the handler with a WebhookSink over pgstore (claim,
// run index lookup with the read, one statement writing the attempt,
// its event and the delivery's completion). Run both in one go test
// invocation and compare their deliveries/s.
func BenchmarkWebhookInFlight(b *testing.B) {
	b.Run("verify+decode", func(b *testing.B) {
		benchInFlight(b, verifyDecodeHandler(b), nil)
	})
	b.Run("pgstore", func(b *testing.B) {
		store := newPGStore(b)
		benchInFlight(b, newHook(b, store), seedIndexedRun(b, store))
	})
	// The same store with its DeliveryWriter hidden: the outbox path
	// every other backend takes (write, then flush the events, then
	// complete), for the ratio of the two in one run.
	b.Run("pgstore-without-DeliveryWriter", func(b *testing.B) {
		store := newPGStore(b)
		plain := struct{ tfpilot.Store }{store}
		benchInFlight(b, newHook(b, plain), seedIndexedRun(b, store))
	})
}
