package tfpilot_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/runs"
)

func totalCalls(f *githubtest.Fake) int {
	n := 0
	for _, c := range f.Calls() {
		n += c
	}
	return n
}

// BenchmarkGitHubCost_Lifecycle reports the GitHub calls and rate-limit
// units one request costs from Create to archived, with one Sync after
// every step (as a UI polling each transition would).
func BenchmarkGitHubCost_Lifecycle(b *testing.B) {
	var calls, units int
	for b.Loop() {
		e := newEnv(b)
		c0, u0 := totalCalls(e.fake), e.fake.RateLimitSpent()
		r := e.create("reports")
		e.sync(r.ID)
		e.finish(r.ID, runs.Plan, "success")
		mustOKB(b, e, e.pilot.Approve, approver, r.ID)
		e.sync(r.ID)
		mustOKB(b, e, e.pilot.Merge, approver, r.ID)
		e.sync(r.ID)
		mustOKB(b, e, e.pilot.Apply, approver, r.ID)
		e.sync(r.ID)
		e.finish(r.ID, runs.Apply, "success")
		mustOKB(b, e, e.pilot.Destroy, dev, r.ID)
		e.sync(r.ID)
		e.finish(r.ID, runs.Destroy, "success")
		calls, units = totalCalls(e.fake)-c0, e.fake.RateLimitSpent()-u0
	}
	b.ReportMetric(float64(calls), "calls/lifecycle")
	b.ReportMetric(float64(units), "units/lifecycle")
}

func mustOKB(b *testing.B, e *env, op func(ctxT, tfpilot.Caller, string) (tfpilot.View, error), c tfpilot.Caller, id string) {
	b.Helper()
	if _, err := op(e.ctx, c, id); err != nil {
		b.Fatal(err)
	}
}

// idle returns an env with one approved request (plan done, waiting for a
// person to merge): the state a request sits in longest while a UI polls.
func idle(b *testing.B) (*env, *tfpilot.Request) {
	e := newEnv(b)
	r := e.create("reports")
	e.finish(r.ID, runs.Plan, "success")
	mustOKB(b, e, e.pilot.Approve, approver, r.ID)
	r, _ = e.store.GetRequest(e.ctx, r.ID)
	return e, r
}

// BenchmarkGitHubCost_IdleHourAtActiveInterval reports the GitHub calls
// and rate-limit units of polling one idle request every 10 s (the active
// interval) for an hour: 360 syncs. "tfpilot" is Pilot.Sync. The "seed"
// variants replay what the original system's sync fetched, per its audit
// (shared/seeds): the pull request, its reviews and the branch's workflow
// runs through a TTL cache (30 s, 30 s, 15 s) without conditional
// requests, and, in "seed+logs", the plan's jobs and job log, which it
// read uncached on every sync.
func BenchmarkGitHubCost_IdleHourAtActiveInterval(b *testing.B) {
	const syncs, interval = 360, 10 * time.Second
	b.Run("tfpilot", func(b *testing.B) {
		var calls, units int
		for b.Loop() {
			e, r := idle(b)
			c0, u0 := totalCalls(e.fake), e.fake.RateLimitSpent()
			for range syncs {
				e.clock.Advance(interval)
				e.sync(r.ID)
			}
			calls, units = totalCalls(e.fake)-c0, e.fake.RateLimitSpent()-u0
		}
		b.ReportMetric(float64(calls), "calls/hour")
		b.ReportMetric(float64(units), "units/hour")
	})
	for _, logs := range []bool{false, true} {
		name := "seed"
		if logs {
			name = "seed+logs"
		}
		b.Run(name, func(b *testing.B) {
			var calls, units int
			for b.Loop() {
				e, r := idle(b)
				s := &seedSync{base: e.fake.URL(), clock: e.clock, cached: map[string]time.Time{}}
				plan, _ := runs.Current(r.Runs, runs.Plan)
				job := firstJob(b, e, plan.RunID)
				c0, u0 := totalCalls(e.fake), e.fake.RateLimitSpent()
				for range syncs {
					e.clock.Advance(interval)
					s.get(b, fmt.Sprintf("repos/acme/infra/pulls/%d", r.PR.Number), 30*time.Second)
					s.get(b, fmt.Sprintf("repos/acme/infra/pulls/%d/reviews", r.PR.Number), 30*time.Second)
					s.get(b, "repos/acme/infra/actions/runs?branch="+r.BranchName, 15*time.Second)
					if logs {
						s.get(b, fmt.Sprintf("repos/acme/infra/actions/runs/%d/jobs", plan.RunID), 0)
						s.get(b, fmt.Sprintf("repos/acme/infra/actions/jobs/%d/logs", job), 0)
					}
				}
				calls, units = totalCalls(e.fake)-c0, e.fake.RateLimitSpent()-u0
			}
			b.ReportMetric(float64(calls), "calls/hour")
			b.ReportMetric(float64(units), "units/hour")
		})
	}
}

func firstJob(b *testing.B, e *env, runID int64) int64 {
	run, err := e.fake.Run(runID)
	if err != nil || len(run.Jobs) == 0 {
		b.Fatalf("run %d: %v, jobs %v", runID, err, run.Jobs)
	}
	return run.Jobs[0]
}

// seedSync replays the original system's GitHub reads: plain GETs behind a
// per-URL TTL cache, no ETags.
type seedSync struct {
	base   string
	clock  *githubtest.ManualClock
	cached map[string]time.Time // URL → fetched at
}

func (s *seedSync) get(b *testing.B, path string, ttl time.Duration) {
	now := s.clock.Now()
	if at, ok := s.cached[path]; ok && ttl > 0 && now.Sub(at) < ttl {
		return
	}
	req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
	req.Header.Set("Authorization", "Bearer test-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		b.Fatalf("GET %s: %s", path, resp.Status)
	}
	s.cached[path] = now
}
