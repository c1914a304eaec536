package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// insightsTests check [store.InsightsStore]. They are skipped for a
// store that does not implement it.
var insightsTests = []test{
	{"Insights/AggregateAgreesWithTheScan", testInsightsAgree},
}

// scanOnly hides every extension of a store, so that
// [store.ComputeInsights] walks it.
type scanOnly struct{ store.RequestStore }

// testInsightsAgree fills a store with requests in every status, with
// attempts completed inside, outside and at the edges of the insights
// windows, destroys in flight that are stale and not, a messy legacy
// document, archived requests and requests updated after creation
// (their completions and status changed), and checks that the insights
// computed from the store's aggregate equal those computed by walking
// every request, at several times and with two sets of rules.
func testInsightsAgree(e *env) {
	is, ok := e.s.(store.InsightsStore)
	if !ok {
		e.Skipf("%T does not implement store.InsightsStore", e.s)
	}
	now := e.clock.Now()
	agree := func(what string) {
		e.Helper()
		for _, at := range []time.Time{now, now.Add(-20 * time.Hour), now.Add(30 * time.Minute), now.Add(6 * 24 * time.Hour)} {
			for _, rules := range []lifecycle.Rules{{}, {StaleDestroyAfter: 2 * time.Hour}} {
				got, err := store.ComputeInsightsWith(e.ctx, e.s, rules, at)
				if err != nil {
					e.Fatalf("%s: insights from the aggregate: %v", what, err)
				}
				want, err := store.ComputeInsightsWith(e.ctx, scanOnly{e.s}, rules, at)
				if err != nil {
					e.Fatalf("%s: insights from the scan: %v", what, err)
				}
				if !reflect.DeepEqual(got, want) {
					e.Errorf("%s, at %s with %+v:\naggregate %+v\nscan      %+v", what, at.Format(time.RFC3339), rules, got, want)
				}
			}
		}
	}
	// The empty store first: nothing to count.
	agree("empty store")
	if agg, err := is.InsightsAggregate(e.ctx, store.InsightsQuery{Since: now.Add(-time.Hour), Until: now, StaleBefore: now}); err != nil {
		e.Fatalf("InsightsAggregate on the empty store: %v", err)
	} else if n := total(agg); n != 0 || len(agg.Completions) != 0 {
		e.Errorf("InsightsAggregate on the empty store counted %d requests and %d completions", n, len(agg.Completions))
	}

	for _, r := range insightsRequests(now) {
		e.create(r)
	}
	var messy store.Request
	if err := json.Unmarshal(messyRequest, &messy); err != nil {
		e.Fatalf("decode the messy document: %v", err)
	}
	e.create(&messy)
	agree("after creating")

	// Archived requests leave the counts, completions included.
	for _, id := range []string{"applied-0", "failed-1", "destroying-stale-0"} {
		if err := e.s.ArchiveRequest(e.ctx, id, e.get(id).Version); err != nil {
			e.Fatalf("ArchiveRequest(%q): %v", id, err)
		}
	}
	// Updates move requests between statuses and add, change and drop
	// completions.
	update := func(id string, fn func(r *store.Request)) {
		e.Helper()
		r := e.get(id)
		fn(r)
		if _, err := e.s.UpdateRequest(e.ctx, r); err != nil {
			e.Fatalf("UpdateRequest(%q): %v", id, err)
		}
	}
	update("applying-0", func(r *store.Request) { // applying -> applied
		a := &r.Runs.Apply.Attempts[0]
		a.Status, a.Conclusion, a.CompletedAt = runs.StatusCompleted, runs.ConclusionSuccess, now.Add(-time.Minute)
	})
	update("destroying-fresh-0", func(r *store.Request) { // destroying -> destroyed
		a := &r.Runs.Destroy.Attempts[0]
		a.Status, a.Conclusion, a.CompletedAt = runs.StatusCompleted, runs.ConclusionSuccess, now.Add(-2*time.Minute)
	})
	update("applied-1", func(r *store.Request) { // a completion rewritten by hand
		r.Runs.Apply.Attempts[0].Conclusion = runs.ConclusionFailure
		r.Runs.Apply.Attempts[0].CompletedAt = now.Add(-3 * time.Hour)
	})
	update("plan_ready-1", func(r *store.Request) { // completions dropped
		r.Runs.Plan = runs.Op{}
	})
	update("request_created-1", func(r *store.Request) { // destroy dispatched, run id known
		r.Runs.Destroy = runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{{Attempt: 1, RunID: 77, Status: runs.StatusInProgress, DispatchedAt: now.Add(-time.Hour)}}}
	})
	update(messy.ID, func(r *store.Request) { r.BranchName = "tfpilot/messy" })
	agree("after archiving and updating")
	e.clock.Advance(time.Hour)
	agree("an hour later")
}

// total is the number of requests agg counts.
func total(agg store.InsightsAggregate) int {
	n := 0
	for _, c := range agg.StatusCounts {
		n += c
	}
	return n
}

// insightsRequests returns requests in every status, two of each, with
// attempts completed at many distances from now.
func insightsRequests(now time.Time) []*store.Request {
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	done := func(n int, conclusion string, dispatched, completed time.Time) runs.Attempt {
		return runs.Attempt{Attempt: n, RunID: int64(1000 + n), Status: runs.StatusCompleted, Conclusion: conclusion, DispatchedAt: dispatched, CompletedAt: completed}
	}
	op := func(as ...runs.Attempt) runs.Op { return runs.Op{CurrentAttempt: len(as), Attempts: as} }
	week := 7 * 24 * time.Hour
	var out []*store.Request
	for i := range 2 {
		off := time.Duration(i) * time.Minute
		add := func(name string, fn func(r *store.Request)) {
			r := newRequest(fmt.Sprintf("%s-%d", name, i))
			r.ReceivedAt = ago(10*24*time.Hour - time.Duration(len(out))*time.Second)
			fn(r)
			out = append(out, r)
		}
		add("request_created", func(r *store.Request) {})
		add("planning", func(r *store.Request) { r.PR = &store.PullRequest{Number: 1 + i, Open: true} })
		add("plan_ready", func(r *store.Request) {
			// A failed plan a day ago, retried successfully: a
			// non-current attempt counts too.
			r.Runs.Plan = op(done(1, runs.ConclusionFailure, ago(25*time.Hour), ago(24*time.Hour+off)), done(2, runs.ConclusionSuccess, ago(2*time.Hour), ago(time.Hour)))
		})
		add("approved", func(r *store.Request) {
			r.Runs.Plan = op(done(1, runs.ConclusionSuccess, ago(week+time.Hour), ago(week-off))) // at the edge of the week
			r.Approval = &store.Approval{Approved: true, Approvers: []string{"bob"}}
		})
		add("merged", func(r *store.Request) {
			r.Runs.Plan = op(done(1, runs.ConclusionSuccess, ago(8*24*time.Hour), ago(8*24*time.Hour))) // outside
			r.MergedSHA = "abc"
		})
		add("applying", func(r *store.Request) {
			r.MergedSHA = "abc"
			r.Runs.Apply = op(runs.Attempt{Attempt: 1, RunID: 5, Status: runs.StatusInProgress, DispatchedAt: ago(time.Hour)})
		})
		add("applied", func(r *store.Request) {
			r.MergedSHA = "abc"
			// Applies of several durations, one without a dispatch time,
			// one completed in the future.
			r.Runs.Apply = op(
				done(1, runs.ConclusionSuccess, time.Time{}, ago(3*time.Hour)),
				done(2, runs.ConclusionCancelled, ago(5*time.Hour), ago(4*time.Hour)),
				done(3, runs.ConclusionSuccess, ago(90*time.Minute+off), ago(30*time.Minute)),
				done(4, runs.ConclusionSuccess, ago(time.Hour), now.Add(time.Hour)),
			)
		})
		add("failed", func(r *store.Request) {
			r.Runs.Apply = op(done(1, runs.ConclusionFailure, ago(6*24*time.Hour), ago(6*24*time.Hour-off)))
			// A conclusion without a completion time is not counted.
			r.Runs.Plan = op(runs.Attempt{Attempt: 1, RunID: 9, Status: runs.StatusCompleted, Conclusion: runs.ConclusionSuccess})
		})
		add("destroying-fresh", func(r *store.Request) {
			r.Runs.Apply = op(done(1, runs.ConclusionSuccess, ago(3*24*time.Hour), ago(3*24*time.Hour-time.Minute)))
			r.Runs.Destroy = op(runs.Attempt{Attempt: 1, RunID: 6, Status: runs.StatusInProgress, DispatchedAt: ago(5 * time.Minute)})
		})
		add("destroying-stale", func(r *store.Request) {
			r.Runs.Destroy = op(runs.Attempt{Attempt: 1, RunID: 7, Status: runs.StatusQueued, DispatchedAt: ago(3*time.Hour + off)})
		})
		add("destroying-edge", func(r *store.Request) { // exactly at the default stale window: not yet stale
			r.Runs.Destroy = op(runs.Attempt{Attempt: 1, RunID: 8, Status: runs.StatusInProgress, DispatchedAt: ago(lifecycle.DefaultStaleDestroyAfter)})
		})
		add("destroying-norun", func(r *store.Request) { // no run id: never stale
			r.Runs.Destroy = op(runs.Attempt{Attempt: 1, Status: runs.StatusQueued, DispatchedAt: ago(48 * time.Hour)})
		})
		add("destroyed", func(r *store.Request) {
			r.Runs.Destroy = op(done(1, runs.ConclusionSuccess, ago(20*time.Hour), ago(19*time.Hour)))
		})
		add("destroy-failed", func(r *store.Request) {
			r.Runs.Destroy = op(done(1, runs.ConclusionTimedOut, ago(2*24*time.Hour), ago(2*24*time.Hour-time.Hour)))
		})
	}
	return out
}
