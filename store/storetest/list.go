package storetest

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

var listTests = []test{
	{"ListRequests/EmptyStoreGivesEmptyLastPage", testListEmpty},
	{"ListRequests/NewestFirstTiesByIDDescending", testListOrder},
	{"ListRequests/PagesNeitherSkipNorRepeatWhileInserting", testListStableWalk},
	{"ListRequests/FiltersMatchEveryCombination", testListFilters},
	{"ListRequests/StatusFilterMatchesClockFreeIndexStatus", testListIndexStatus},
	{"ListRequests/PageSizeDefaultsAndIsClamped", testListPageSize},
}

// newestFirst sorts rs as ListRequests must.
func newestFirst(rs []*store.Request) {
	slices.SortFunc(rs, func(a, b *store.Request) int {
		if c := b.ReceivedAt.Compare(a.ReceivedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
}

func testListEmpty(e *env) {
	p, err := e.s.ListRequests(e.ctx, store.ListQuery{})
	if err != nil || len(p.Requests) != 0 || p.NextCursor != "" {
		e.Fatalf("ListRequests on an empty store = %d requests, cursor %q, %v; want none, no cursor", len(p.Requests), p.NextCursor, err)
	}
}

func testListOrder(e *env) {
	base := e.clock.Now()
	var want []*store.Request
	// Created out of order; three share a timestamp.
	for i, at := range []int{3, 1, 2, 2, 0, 2} {
		r := newRequest("r" + pad(i))
		r.ReceivedAt = base.Add(time.Duration(at) * time.Second)
		want = append(want, e.create(r))
	}
	newestFirst(want)
	for _, limit := range []int{0, 1, 2, 4} {
		got := e.walk(store.ListQuery{Limit: limit})
		if !reflect.DeepEqual(ids(got), ids(want)) {
			e.Errorf("walk with page size %d = %v, want %v", limit, ids(got), ids(want))
		}
	}
	p, err := e.s.ListRequests(e.ctx, store.ListQuery{Limit: len(want)})
	if err != nil || p.NextCursor != "" {
		e.Errorf("a page holding every request has cursor %q, err %v; want none", p.NextCursor, err)
	}
}

// testListStableWalk walks pages while requests are created between
// pages, newer, older and tied with the walk's position: every request
// that existed when the walk began comes exactly once, nothing comes
// twice, and the order never goes backwards.
func testListStableWalk(e *env) {
	base := e.clock.Now()
	before := map[string]bool{}
	for i := range 23 {
		r := newRequest("p" + pad(i))
		r.ReceivedAt = base.Add(time.Duration(i/3) * time.Second) // ties of three
		before[e.create(r).ID] = false
	}
	q := store.ListQuery{Limit: 4}
	var walked []*store.Request
	for page := 0; ; page++ {
		if page > 100 {
			e.Fatal("walk does not end")
		}
		p, err := e.s.ListRequests(e.ctx, q)
		if err != nil {
			e.Fatalf("ListRequests page %d: %v", page, err)
		}
		walked = append(walked, p.Requests...)
		if p.NextCursor == "" {
			break
		}
		q.Cursor = p.NextCursor
		last := walked[len(walked)-1]
		for j, at := range []time.Time{
			base.Add(time.Hour),               // newer than everything
			base.Add(-time.Hour),              // older than everything
			last.ReceivedAt,                   // tied with the last item
			last.ReceivedAt.Add(-time.Second), // just older
			last.ReceivedAt.Add(time.Second),  // just newer
		} {
			r := newRequest(fmt.Sprintf("n%02d-%d", page, j))
			r.ReceivedAt = at
			e.create(r)
		}
	}
	seen := map[string]bool{}
	for i, r := range walked {
		if seen[r.ID] {
			e.Errorf("request %q listed twice", r.ID)
		}
		seen[r.ID] = true
		if _, ok := before[r.ID]; ok {
			before[r.ID] = true
		}
		if i > 0 {
			prev := walked[i-1]
			if c := prev.ReceivedAt.Compare(r.ReceivedAt); c < 0 || c == 0 && prev.ID <= r.ID {
				e.Errorf("order goes backwards at %d: %q (%v) then %q (%v)", i, prev.ID, prev.ReceivedAt, r.ID, r.ReceivedAt)
			}
		}
	}
	for id, ok := range before {
		if !ok {
			e.Errorf("request %q existed before the walk but was skipped", id)
		}
	}
}

func testListFilters(e *env) {
	var all []*store.Request
	status := map[string]lifecycle.Status{}
	for _, project := range []string{"alpha", "beta"} {
		for _, env := range []string{"dev", "prod"} {
			for _, st := range []lifecycle.Status{lifecycle.RequestCreated, lifecycle.Planning, lifecycle.Failed} {
				for n := range 2 {
					e.clock.Advance(time.Second)
					r := newRequest(fmt.Sprintf("%s-%s-%s-%d", project, env, st, n))
					r.Project, r.Environment = project, env
					withStatus(r, st, e.clock.Now())
					if got := r.Status(e.clock.Now()); got != st {
						e.Fatalf("suite bug: %s derives as %s", r.ID, got)
					}
					all = append(all, e.create(r))
					status[r.ID] = st
				}
			}
		}
	}
	newestFirst(all)
	statusSets := [][]lifecycle.Status{nil, {lifecycle.Planning}, {lifecycle.Planning, lifecycle.Failed}, {lifecycle.Applied}}
	for _, project := range []string{"", "alpha", "beta", "gamma"} {
		for _, env := range []string{"", "dev", "prod"} {
			for _, sts := range statusSets {
				q := store.ListQuery{Project: project, Environment: env, Statuses: sts, Limit: 5}
				var want []string
				for _, r := range all {
					if (project == "" || r.Project == project) && (env == "" || r.Environment == env) &&
						(len(sts) == 0 || slices.Contains(sts, status[r.ID])) {
						want = append(want, r.ID)
					}
				}
				if got := ids(e.walk(q)); !slices.Equal(got, want) {
					e.Errorf("ListRequests(project %q, environment %q, statuses %v) = %v, want %v", project, env, sts, got, want)
				}
			}
		}
	}
}

// testListIndexStatus: status filters match [lifecycle.IndexStatus], the
// status derived from the facts without the clock, so what a store keeps
// never goes out of date: a stuck destroy is destroying in the store
// before and after a write however old it is (the Pilot, not the store,
// turns it failed once stale, with its Rules), and an apply or destroy
// GitHub reported completed without a conclusion is in flight (issue 13).
func testListIndexStatus(e *env) {
	now := e.clock.Now()
	stuck := withStatus(newRequest("r1"), lifecycle.Destroying, now)
	e.create(stuck)
	inFlight := func(id string, kind string) *store.Request {
		r := newRequest(id)
		r.PR = &store.PullRequest{Number: 1, Merged: true}
		r.Runs.Plan = runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{{Attempt: 1, RunID: 1, Status: runs.StatusCompleted, Conclusion: runs.ConclusionSuccess}}}
		done := runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{{Attempt: 1, RunID: 2, Status: runs.StatusCompleted, Conclusion: runs.ConclusionSuccess}}}
		open := runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{{Attempt: 1, RunID: 3, Status: runs.StatusCompleted, DispatchedAt: now}}}
		if kind == "apply" {
			r.Runs.Apply = open
		} else {
			r.Runs.Apply, r.Runs.Destroy = done, open
		}
		return e.create(r)
	}
	inFlight("r2", "apply")
	inFlight("r3", "destroy")
	list := func(st lifecycle.Status) []string {
		e.Helper()
		got := ids(e.walk(store.ListQuery{Statuses: []lifecycle.Status{st}}))
		slices.Sort(got)
		return got
	}
	check := func(when string) {
		e.Helper()
		for st, want := range map[lifecycle.Status][]string{
			lifecycle.Destroying: {"r1", "r3"},
			lifecycle.Applying:   {"r2"},
			lifecycle.Failed:     nil,
			lifecycle.Merged:     nil,
			lifecycle.Applied:    nil,
		} {
			if got := list(st); !slices.Equal(got, want) {
				e.Errorf("%s: status filter %s = %v, want %v", when, st, got, want)
			}
		}
	}
	check("at creation")
	later := e.clock.Advance(lifecycle.DefaultStaleDestroyAfter + time.Hour)
	if got := e.get("r1").Status(later); got != lifecycle.Failed {
		e.Fatalf("suite bug: stuck destroy derives as %s", got)
	}
	check("once the destroys are stale, before a write")
	for _, id := range []string{"r1", "r3"} {
		cur := e.get(id)
		cur.BranchName = "b"
		if _, err := e.s.UpdateRequest(e.ctx, cur); err != nil {
			e.Fatalf("UpdateRequest: %v", err)
		}
	}
	check("once the destroys are stale, after a write")
}

func testListPageSize(e *env) {
	n := store.MaxPageSize + 1
	base := e.clock.Now()
	for i := range n {
		r := newRequest("r" + fmt.Sprintf("%04d", i))
		r.ReceivedAt = base.Add(time.Duration(i) * time.Millisecond)
		e.create(r)
	}
	for _, tc := range []struct {
		limit, want int
	}{{0, store.DefaultPageSize}, {7, 7}, {store.MaxPageSize, store.MaxPageSize}, {store.MaxPageSize * 3, store.MaxPageSize}} {
		p, err := e.s.ListRequests(e.ctx, store.ListQuery{Limit: tc.limit})
		if err != nil {
			e.Fatalf("ListRequests(limit %d): %v", tc.limit, err)
		}
		if len(p.Requests) != tc.want || p.NextCursor == "" {
			e.Errorf("ListRequests(limit %d) among %d = %d requests, cursor %q; want %d and a cursor", tc.limit, n, len(p.Requests), p.NextCursor, tc.want)
		}
	}
}
