package enginetest

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/storetest"
)

// Run runs the engine-over-store checks: each is a parallel subtest that
// calls newHarness with its own t and gets a fresh store from it, as
// [storetest.Run] does. They drive a [store.Pilot] (and the fake
// GitHub) over the store, so they live apart from storetest, whose
// contract suite needs only package store.
func Run(t *testing.T, newHarness func(t *testing.T) storetest.Harness) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(e *env)
	}{
		{"Pilot/GetListAndInsightsAgreeForEveryRules", testAgreeForEveryRules},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := &clock{now: time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)}
			s := newHarness(t).NewStore(t, clk.Now)
			if s == nil {
				t.Fatal("harness returned a nil store")
			}
			tc.fn(&env{T: t, ctx: t.Context(), s: s, clock: clk})
		})
	}
}

// env is what a check works with.
type env struct {
	*testing.T
	ctx   context.Context
	s     store.Store
	clock *clock
}

// clock is the store's and the engine's clock, moved only by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newRequest(id string) *store.Request {
	return &store.Request{ID: id, Project: "payments", Environment: "dev", Module: "s3-bucket", Config: map[string]any{"bucket_name": id}}
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
	case lifecycle.Failed:
		r.Runs.Plan = attempt(runs.StatusCompleted, runs.ConclusionFailure)
	}
	return r
}

func (e *env) create(r *store.Request) {
	e.Helper()
	if _, err := e.s.CreateRequest(e.ctx, r); err != nil {
		e.Fatalf("CreateRequest(%q): %v", r.ID, err)
	}
}

func (e *env) get(id string) *store.Request {
	e.Helper()
	got, err := e.s.GetRequest(e.ctx, id)
	if err != nil {
		e.Fatalf("GetRequest(%q): %v", id, err)
	}
	return got
}

func ids(rs []tfpilot.View) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// walk lists every page of q and returns the requests in order.
func (e *env) walk(q store.ListQuery) []*store.Request {
	e.Helper()
	all, err := storetest.ListAll(e.ctx, e.s, q)
	if err != nil {
		e.Fatal(err)
	}
	return all
}

// testAgreeForEveryRules: one derivation everywhere (issue 13; seed 000
// §8 "List vs detail status consistency" and §3 "Comparisons against
// lifecycle strings": list, detail and the insights all derive the
// status). Over this store, for the default and two other stale-destroy
// windows, the status Pilot.Get reports, the requests Pilot.List returns
// for every status filter, and Pilot.Insights' StatusCounts agree — also
// for destroys the store last wrote when the default window would already
// have called them failed.
func testAgreeForEveryRules(e *env) {
	t0 := e.clock.Now()
	op := func(a runs.Attempt) runs.Op {
		a.Attempt = 1
		return runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{a}}
	}
	success := func(id int64) runs.Attempt {
		return runs.Attempt{RunID: id, Status: runs.StatusCompleted, Conclusion: runs.ConclusionSuccess, DispatchedAt: t0, CompletedAt: t0}
	}
	applied := func(r *store.Request) *store.Request {
		r.PR = &store.PullRequest{Number: 1, Merged: true}
		r.Runs.Plan, r.Runs.Apply = op(success(1)), op(success(2))
		return r
	}
	destroy := func(id string, a runs.Attempt) *store.Request {
		r := applied(newRequest(id))
		r.Runs.Destroy = op(a)
		return r
	}
	for _, r := range []*store.Request{
		destroy("destroy-30m", runs.Attempt{RunID: 3, Status: runs.StatusInProgress, DispatchedAt: t0}),
		destroy("destroy-3h", runs.Attempt{RunID: 3, Status: runs.StatusQueued, DispatchedAt: t0.Add(-150 * time.Minute)}),
		destroy("destroy-completed-30m", runs.Attempt{RunID: 3, Status: runs.StatusCompleted, DispatchedAt: t0}),
		destroy("destroy-no-dispatch-time", runs.Attempt{RunID: 3, Status: runs.StatusInProgress}),
		destroy("destroy-no-run-id", runs.Attempt{Status: runs.StatusQueued, DispatchedAt: t0.Add(-150 * time.Minute)}),
		destroy("destroyed", success(3)),
		applied(newRequest("applied")),
		func() *store.Request {
			r := applied(newRequest("apply-no-conclusion"))
			r.Runs.Apply = op(runs.Attempt{RunID: 2, Status: runs.StatusCompleted, DispatchedAt: t0})
			return r
		}(),
		withStatus(newRequest("plan-failed"), lifecycle.Failed, t0),
		withStatus(newRequest("planning"), lifecycle.Planning, t0),
	} {
		e.create(r)
	}
	// Half an hour on, the store writes two of the destroys again: the
	// default window would call them failed now, a longer one would not.
	e.clock.Advance(30 * time.Minute)
	for _, id := range []string{"destroy-30m", "destroy-completed-30m"} {
		cur := e.get(id)
		cur.BranchName = "touched"
		if _, err := e.s.UpdateRequest(e.ctx, cur); err != nil {
			e.Fatalf("UpdateRequest(%q): %v", id, err)
		}
	}

	fake := githubtest.New(githubtest.Options{})
	defer fake.Close()
	gh, err := githubx.New(githubx.Options{BaseURL: fake.URL(), Token: "t", AllowInsecureHTTP: true})
	if err != nil {
		e.Fatal(err)
	}
	catalog, err := tfpilot.NewCatalog()
	if err != nil {
		e.Fatal(err)
	}
	who := tfpilot.Principal{Login: "viewer"}
	for _, rules := range []lifecycle.Rules{{}, {StaleDestroyAfter: time.Hour}, {StaleDestroyAfter: 5 * time.Hour}} {
		p, err := tfpilot.New(e.s, gh, tfpilot.Config{Targets: tfpilot.StaticTargets{}, Catalog: catalog, Rules: rules, Now: e.clock.Now})
		if err != nil {
			e.Fatal(err)
		}
		got := map[string]lifecycle.Status{}
		counts := map[lifecycle.Status]int{}
		for _, r := range e.walk(store.ListQuery{}) {
			v, err := p.Get(e.ctx, who, r.ID)
			if err != nil {
				e.Fatalf("Get(%q): %v", r.ID, err)
			}
			got[r.ID] = v.Status
			counts[v.Status]++
		}
		if len(got) != 10 {
			e.Fatalf("suite bug: %d requests listed, want 10", len(got))
		}
		// The statuses the seeds' rules give at 30 minutes.
		stale30 := lifecycle.Destroying
		if rules.StaleDestroyAfter == 0 {
			stale30 = lifecycle.Failed
		}
		stale3h := lifecycle.Failed
		if rules.StaleDestroyAfter > 3*time.Hour {
			stale3h = lifecycle.Destroying
		}
		for id, want := range map[string]lifecycle.Status{
			"destroy-30m": stale30, "destroy-completed-30m": stale30, "destroy-3h": stale3h,
			"destroy-no-dispatch-time": lifecycle.Destroying, "destroy-no-run-id": lifecycle.Destroying,
			"apply-no-conclusion": lifecycle.Applying, "applied": lifecycle.Applied, "destroyed": lifecycle.Destroyed,
		} {
			if got[id] != want {
				e.Errorf("rules %+v: Get(%q) = %s, want %s", rules, id, got[id], want)
			}
		}
		filters := [][]lifecycle.Status{{lifecycle.Failed, lifecycle.Applying}, {lifecycle.Destroying, lifecycle.Planning}}
		for _, st := range lifecycle.Statuses() {
			filters = append(filters, []lifecycle.Status{st})
		}
		for _, sts := range filters {
			var want []string
			for id, st := range got {
				if slices.Contains(sts, st) {
					want = append(want, id)
				}
			}
			for _, limit := range []int{1, 3, 0} {
				var listed []string
				q := store.ListQuery{Statuses: sts, Limit: limit}
				for page := 0; ; page++ {
					if page > 20 {
						e.Fatalf("rules %+v: List(%v) does not end", rules, sts)
					}
					pg, err := p.List(e.ctx, who, q)
					if err != nil {
						e.Fatalf("rules %+v: List(%v, limit %d): %v", rules, sts, limit, err)
					}
					if pg.NextCursor != "" && limit > 0 && len(pg.Requests) != limit {
						e.Errorf("rules %+v: List(%v, limit %d) page of %d with a cursor", rules, sts, limit, len(pg.Requests))
					}
					listed = append(listed, ids(pg.Requests)...)
					if pg.NextCursor == "" {
						break
					}
					q.Cursor = pg.NextCursor
				}
				slices.Sort(want)
				slices.Sort(listed)
				if !slices.Equal(listed, want) {
					e.Errorf("rules %+v: List(statuses %v, limit %d) = %v; Get says %v", rules, sts, limit, listed, want)
				}
			}
		}
		in, err := p.Insights(e.ctx, who)
		if err != nil {
			e.Fatal(err)
		}
		if !maps.Equal(in.StatusCounts, counts) {
			e.Errorf("rules %+v: Insights.StatusCounts = %v; Get gives %v", rules, in.StatusCounts, counts)
		}
	}
}
