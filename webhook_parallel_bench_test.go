package tfpilot_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/store/pgstore"
	"github.com/tfpilot/tfpilot/webhook/webhooktest"
)

// inFlight is how many deliveries BenchmarkWebhookInFlight serves at
// once.
const inFlight = 8

// benchInFlight serves b.N workflow_run "completed" deliveries with h,
// inFlight at a time, each one a new delivery that patches its own
// request (seed stores the b.N requests beforehand, with the timer
// stopped; nil stores nothing). Besides deliveries/s it reports the CPU
// time per delivery of this process and, when db is not nil and its
// server runs on this machine, of db's PostgreSQL backends; and
// cpu-bound-deliveries/s, the rate all of this machine's cores would
// allow at that CPU cost, which other load on the machine does not
// change as it changes deliveries/s.
func benchInFlight(b *testing.B, h http.Handler, seed func(ctx context.Context, n int64), db *sql.DB) {
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
	pg0, pgOK := backendsCPU(db)
	self0 := processCPU()
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
	self := processCPU() - self0
	pg1, pgOK1 := backendsCPU(db)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
	perDelivery := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) }
	b.ReportMetric(perDelivery(self), "test-cpu-µs/delivery")
	total := perDelivery(self)
	if pgOK && pgOK1 {
		b.ReportMetric(perDelivery(pg1-pg0), "pg-cpu-µs/delivery")
		total += perDelivery(pg1 - pg0)
	}
	if total > 0 {
		b.ReportMetric(float64(runtime.NumCPU())*1e6/total, "cpu-bound-deliveries/s")
	}
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendsCPU is the CPU time the PostgreSQL backends connected to db's
// database have used, read from /proc: false when db is nil or its
// server is not a process on this machine (a container, another host).
func backendsCPU(db *sql.DB) (time.Duration, bool) {
	if db == nil {
		return 0, false
	}
	rows, err := db.Query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return 0, false
	}
	defer rows.Close()
	var ticks int64
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			return 0, false
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, false
		}
		// After the command name in parentheses: state is field 3,
		// utime and stime fields 14 and 15.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 || !strings.Contains(string(stat[:i]), "postgres") {
			return 0, false
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 13 {
			return 0, false
		}
		u, err1 := strconv.ParseInt(f[11], 10, 64)
		s, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		ticks += u + s
	}
	if rows.Err() != nil {
		return 0, false
	}
	// Linux reports them in USER_HZ, 100 a second on every platform Go
	// supports.
	return time.Duration(ticks) * (time.Second / 100), true
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
		benchInFlight(b, verifyDecodeHandler(b), nil, nil)
	})
	b.Run("pgstore", func(b *testing.B) {
		store := newPGStore(b)
		benchInFlight(b, newHook(b, store), seedIndexedRun(b, store), store.(*pgstore.Store).DB().DB)
	})
	// The same store with its DeliveryWriter hidden: the outbox path
	// every other backend takes (write, then flush the events, then
	// complete), for the ratio of the two in one run.
	b.Run("pgstore-without-DeliveryWriter", func(b *testing.B) {
		store := newPGStore(b)
		plain := struct{ tfpilot.Store }{store}
		benchInFlight(b, newHook(b, plain), seedIndexedRun(b, store), store.(*pgstore.Store).DB().DB)
	})
}
