package storetest

import (
	"maps"
	"slices"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
)

var agreeTests = []test{
	{"Pilot/GetListAndInsightsAgreeForEveryRules", testAgreeForEveryRules},
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
	applied := func(r *tfpilot.Request) *tfpilot.Request {
		r.PR = &tfpilot.PullRequest{Number: 1, Merged: true}
		r.Runs.Plan, r.Runs.Apply = op(success(1)), op(success(2))
		return r
	}
	destroy := func(id string, a runs.Attempt) *tfpilot.Request {
		r := applied(newRequest(id))
		r.Runs.Destroy = op(a)
		return r
	}
	for _, r := range []*tfpilot.Request{
		destroy("destroy-30m", runs.Attempt{RunID: 3, Status: runs.StatusInProgress, DispatchedAt: t0}),
		destroy("destroy-3h", runs.Attempt{RunID: 3, Status: runs.StatusQueued, DispatchedAt: t0.Add(-150 * time.Minute)}),
		destroy("destroy-completed-30m", runs.Attempt{RunID: 3, Status: runs.StatusCompleted, DispatchedAt: t0}),
		destroy("destroy-no-dispatch-time", runs.Attempt{RunID: 3, Status: runs.StatusInProgress}),
		destroy("destroy-no-run-id", runs.Attempt{Status: runs.StatusQueued, DispatchedAt: t0.Add(-150 * time.Minute)}),
		destroy("destroyed", success(3)),
		applied(newRequest("applied")),
		func() *tfpilot.Request {
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
		for _, r := range e.walk(tfpilot.ListQuery{}) {
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
				q := tfpilot.ListQuery{Statuses: sts, Limit: limit}
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
