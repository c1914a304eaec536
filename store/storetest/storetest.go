package storetest

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// Harness makes stores for the suite.
type Harness interface {
	// NewStore returns an empty store that reads the time from now, its
	// only clock: the suite moves time by hand. It is called once per
	// subtest, from the subtest's goroutine, with the t that [Run]
	// handed to the harness function; free resources with t.Cleanup and
	// end the test with t.Fatal or t.Skip when no store can be made.
	// Subtests run in parallel, so NewStore is called concurrently, and
	// stores must not share data (give each its own database, schema,
	// bucket or prefix).
	NewStore(t *testing.T, now func() time.Time) store.Store
}

// test is one property of the contract.
type test struct {
	name string
	fn   func(e *env)
}

// Run runs the conformance suite: each property is a parallel subtest
// that calls newHarness with its own t and gets a fresh store from it.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	for _, group := range [][]test{requestTests, listTests, eventTests, indexTests, deliveryTests, recordTests, errorTests, mutateTests, leaseTests, pruneTests, legacyTests, insightsTests} {
		for _, tc := range group {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				clk := newClock()
				s := newHarness(t).NewStore(t, clk.Now)
				if s == nil {
					t.Fatal("harness returned a nil store")
				}
				tc.fn(&env{T: t, ctx: t.Context(), s: s, clock: clk})
			})
		}
	}
}

// env is what a property test works with.
type env struct {
	*testing.T
	ctx   context.Context
	s     store.Store
	clock *clock
}

// clock is the store's clock under the suite's control. It starts at a
// whole microsecond (what PostgreSQL keeps) and moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// concurrency is how many goroutines race in the concurrency tests.
const concurrency = 32

// race runs fn(i) for i in [0, n) on n goroutines released together and
// returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

// winners checks that every error is nil or wraps loser and returns the
// indexes of the nil ones.
func (e *env) winners(errs []error, loser error) []int {
	e.Helper()
	var won []int
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, i)
		case !errors.Is(err, loser):
			e.Errorf("contender %d: got %v, want nil or an error wrapping %v", i, err, loser)
		}
	}
	return won
}

// newRequest returns a valid request in status request_created.
func newRequest(id string) *store.Request {
	return &store.Request{
		ID:          id,
		Project:     "payments",
		Environment: "dev",
		Module:      "s3-bucket",
		Config:      map[string]any{"bucket_name": id},
	}
}

// withStatus sets the facts of r so that it derives as st at any time
// before a 15-minute destroy timeout.
func withStatus(r *store.Request, st lifecycle.Status, now time.Time) *store.Request {
	attempt := func(status, conclusion string) runs.Op {
		return runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{{Attempt: 1, RunID: 100, Status: status, Conclusion: conclusion, DispatchedAt: now}}}
	}
	switch st {
	case lifecycle.Planning:
		r.PR = &store.PullRequest{Number: 1, Open: true}
	case lifecycle.PlanReady:
		r.Runs.Plan = attempt(runs.StatusCompleted, runs.ConclusionSuccess)
	case lifecycle.Failed:
		r.Runs.Plan = attempt(runs.StatusCompleted, runs.ConclusionFailure)
	case lifecycle.Destroying:
		r.Runs.Destroy = attempt(runs.StatusInProgress, "")
	}
	return r
}

// create stores r and fails the test on error.
func (e *env) create(r *store.Request) *store.Request {
	e.Helper()
	got, err := e.s.CreateRequest(e.ctx, r)
	if err != nil {
		e.Fatalf("CreateRequest(%q): %v", r.ID, err)
	}
	return got
}

func (e *env) get(id string) *store.Request {
	e.Helper()
	got, err := e.s.GetRequest(e.ctx, id)
	if err != nil {
		e.Fatalf("GetRequest(%q): %v", id, err)
	}
	return got
}

// generic returns v's JSON encoding decoded into plain values, for
// comparing documents whatever the encoder's spacing and key order.
func generic(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return out
}

// sameDocument fails unless got and want encode to the same JSON
// document, versions included.
func (e *env) sameDocument(what string, got, want *store.Request) {
	e.Helper()
	if got == nil || want == nil {
		e.Fatalf("%s: got %v, want %v", what, got, want)
	}
	if g, w := generic(e, got), generic(e, want); !reflect.DeepEqual(g, w) {
		gb, _ := json.MarshalIndent(got, "", "  ")
		wb, _ := json.MarshalIndent(want, "", "  ")
		e.Fatalf("%s: documents differ\n got: %s\nwant: %s", what, gb, wb)
	}
}

// wantErr fails unless err wraps target and its message names key.
func (e *env) wantErr(what string, err, target error, key string) {
	e.Helper()
	switch {
	case !errors.Is(err, target):
		e.Errorf("%s: got error %v, want one wrapping %v", what, err, target)
	case err == target:
		e.Errorf("%s: got the bare sentinel %v, want it wrapped with context", what, err)
	case key != "" && !strings.Contains(err.Error(), key):
		e.Errorf("%s: error %q does not name %q", what, err, key)
	}
}

func ids(rs []*store.Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// walk lists every page of q and returns the requests in order.
func (e *env) walk(q store.ListQuery) []*store.Request {
	e.Helper()
	all, err := ListAll(e.ctx, e.s, q)
	if err != nil {
		e.Fatal(err)
	}
	return all
}

// ListAll lists every page of q from s, following NextCursor, and
// returns the requests in order. A store that never ends its pages is an
// error after 1,000 of them.
func ListAll(ctx context.Context, s store.RequestStore, q store.ListQuery) ([]*store.Request, error) {
	var all []*store.Request
	for pages := 0; ; pages++ {
		if pages > 1000 {
			return nil, fmt.Errorf("ListRequests(%+v): more than 1000 pages", q)
		}
		p, err := s.ListRequests(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("ListRequests(%+v): %w", q, err)
		}
		all = append(all, p.Requests...)
		if p.NextCursor == "" {
			return all, nil
		}
		q.Cursor = p.NextCursor
	}
}

func pad(i int) string { return fmt.Sprintf("%03d", i) }
