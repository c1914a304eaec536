package tfpilot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/hclblocks"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
)

// Per-request budgets of one lifecycle (create → applied) when n requests
// of one environment run at once: every merge of another request makes
// a request rebuild its branch, re-plan and be approved again, so the
// cost per request grows linearly with n. BENCHMARKS.md has the
// measured numbers (BenchmarkOneEnvironment_CostPerRequest). Document
// writes include the event outbox's: a write that stages lifecycle
// events is followed by one that clears the flushed outbox, so the
// budget adds one write per event (at most 6 + 3n events per request).
func docWriteBudget(n int) int { return 20 + 8*n + eventBudget(n) }
func eventBudget(n int) int    { return 6 + 3*n }
func githubBudget(n int) int   { return 25 + 10*n }

// countingStore counts the request-document writes (create and
// compare-and-swap update) and the lifecycle events of a real store.
type countingStore struct {
	tfpilot.Store
	docs, events atomic.Int64
}

func withCounter(c **countingStore) envOption {
	return func(_ *tfpilot.Config, s *tfpilot.Store) {
		*c = &countingStore{Store: *s}
		*s = *c
	}
}

func (s *countingStore) CreateRequest(ctx context.Context, r *tfpilot.Request) (*tfpilot.Request, error) {
	s.docs.Add(1)
	return s.Store.CreateRequest(ctx, r)
}

func (s *countingStore) UpdateRequest(ctx context.Context, r *tfpilot.Request) (*tfpilot.Request, error) {
	s.docs.Add(1)
	return s.Store.UpdateRequest(ctx, r)
}

func (s *countingStore) AppendEvent(ctx context.Context, ev tfpilot.Event) (tfpilot.Event, error) {
	s.events.Add(1)
	return s.Store.AppendEvent(ctx, ev)
}

// completeRuns finishes every unfinished run on the fake with success,
// as GitHub Actions would, and lets a minute pass.
func (e *env) completeRuns() {
	e.t.Helper()
	for _, r := range e.fake.Runs("acme", "infra") {
		if r.Status != "completed" {
			if err := e.fake.Complete(r.ID, "success"); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	e.clock.Advance(time.Minute)
}

// step makes the one API call a client would make for request id now,
// and reports whether it is applied. Refusals a client expects while
// other requests move (a gate, a lock) are not failures.
func (e *env) step(id string) (bool, error) {
	v, err := e.pilot.Get(e.ctx, dev.Principal, id)
	if err != nil {
		return false, err
	}
	switch v.Status {
	case lifecycle.Applied:
		return true, nil
	case lifecycle.PlanReady:
		_, err = e.pilot.Approve(e.ctx, approver, id)
	case lifecycle.Approved:
		_, err = e.pilot.Merge(e.ctx, approver, id)
	case lifecycle.Merged:
		_, err = e.pilot.Apply(e.ctx, approver, id)
	case lifecycle.RequestCreated, lifecycle.Planning, lifecycle.Applying:
		_, err = e.pilot.Sync(e.ctx, dev, id)
	default:
		return false, fmt.Errorf("%s: unexpected status %s", id, v.Status)
	}
	if errors.Is(err, tfpilot.ErrPrecondition) || errors.Is(err, tfpilot.ErrLocked) {
		err = nil
	}
	return false, err
}

// driveConcurrently creates n requests in payments/dev at once and drives
// each through the API as soon as each step is allowed, all requests in
// parallel, until all are applied. It returns their ids.
func (e *env) driveConcurrently(n int) []string {
	e.t.Helper()
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			r, err := e.pilot.Create(e.ctx, dev, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
				Config: map[string]any{"bucket_name": fmt.Sprintf("bucket-%02d", i)}})
			if err != nil {
				errs <- err
				return
			}
			ids[i] = r.ID
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Fatalf("Create: %v", err)
	}
	for round := 0; round < 20*n; round++ {
		done := make([]bool, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() { done[i], errs[i] = e.step(id) })
		}
		wg.Wait()
		all := true
		for i := range ids {
			if errs[i] != nil {
				e.t.Fatalf("round %d: %v", round, errs[i])
			}
			all = all && done[i]
		}
		if all {
			return ids
		}
		// Terraform's state of envs/dev is never applied by two runs at once.
		inFlight := 0
		for _, r := range e.runsOf("apply.yml") {
			if r.Status != "completed" {
				inFlight++
			}
		}
		if inFlight > 1 {
			e.t.Fatalf("round %d: %d apply runs in flight in one environment", round, inFlight)
		}
		e.completeRuns()
	}
	for _, id := range ids {
		e.t.Errorf("%s: %s", id, e.status(id))
	}
	e.t.Fatalf("not all %d requests reached applied", n)
	return nil
}

// checkBaseFile asserts that the base branch's file holds every
// request's block between its markers and is byte-identical to the
// original outside them.
func (e *env) checkBaseFile(ids []string) {
	e.t.Helper()
	file, err := e.fake.File("acme", "infra", "main", "envs/dev/tfpilot.tf")
	if err != nil {
		e.t.Fatal(err)
	}
	src := []byte(file)
	for _, id := range ids {
		reg, err := hclblocks.Find(src, id)
		if err != nil {
			e.t.Fatalf("block of %s on main: %v\n%s", id, err, file)
		}
		_ = reg
		if src, err = hclblocks.Remove(src, id); err != nil {
			e.t.Fatal(err)
		}
	}
	if string(src) != baseFile {
		e.t.Fatalf("main's file outside the requests' blocks changed:\n%s\nwant\n%s", src, baseFile)
	}
}

func TestOneEnvironment_ConcurrentRequestsAllReachApplied(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"memstore", "pgstore"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			const n = 5
			var counter *countingStore
			opts := []envOption{}
			if backend == "pgstore" {
				opts = append(opts, withPgstore(t))
			}
			opts = append(opts, withCounter(&counter))
			e := newEnv(t, opts...)
			spent0 := e.fake.RateLimitSpent()
			ids := e.driveConcurrently(n)
			e.checkBaseFile(ids)
			docs := int(counter.docs.Load()) / n
			units := (e.fake.RateLimitSpent() - spent0) / n
			t.Logf("%d concurrent requests: %d document writes, %d events and %d GitHub units per request", n, docs, int(counter.events.Load())/n, units)
			events := int(counter.events.Load()) / n
			if docs > docWriteBudget(n) || units > githubBudget(n) || events > eventBudget(n) {
				t.Fatalf("per request: %d document writes (budget %d), %d events (budget %d), %d GitHub units (budget %d)",
					docs, docWriteBudget(n), events, eventBudget(n), units, githubBudget(n))
			}
		})
	}
}

// BenchmarkOneEnvironment_CostPerRequest reports what one request's
// lifecycle (create → applied) costs when n requests of one environment
// run at once, each driven through the API as soon as each step is
// allowed: request-document writes, lifecycle events and GitHub
// rate-limit units, per request.
func BenchmarkOneEnvironment_CostPerRequest(b *testing.B) {
	for _, n := range []int{1, 5, 20} {
		b.Run(fmt.Sprintf("requests=%d", n), func(b *testing.B) {
			var docs, events, units float64
			for b.Loop() {
				var counter *countingStore
				e := newEnv(b, withCounter(&counter))
				spent0 := e.fake.RateLimitSpent()
				e.driveConcurrently(n)
				docs = float64(counter.docs.Load()) / float64(n)
				events = float64(counter.events.Load()) / float64(n)
				units = float64(e.fake.RateLimitSpent()-spent0) / float64(n)
			}
			b.ReportMetric(docs, "docwrites/req")
			b.ReportMetric(events, "events/req")
			b.ReportMetric(units, "ghunits/req")
		})
	}
}

// approvedAndConflicting creates two requests, merges the first and
// brings the second to approved: its pull request now conflicts with
// main.
func (e *env) approvedAndConflicting() (first, second *tfpilot.Request) {
	e.t.Helper()
	first, second = e.create("first-bucket"), e.create("second-bucket")
	for _, r := range []*tfpilot.Request{first, second} {
		e.finish(r.ID, runs.Plan, "success")
		if _, err := e.pilot.Approve(e.ctx, approver, r.ID); err != nil {
			e.t.Fatal(err)
		}
	}
	if _, err := e.pilot.Merge(e.ctx, approver, first.ID); err != nil {
		e.t.Fatal(err)
	}
	e.want(second.ID, lifecycle.Approved)
	pr, err := e.gh.GetPR(e.ctx, githubx.Repo{Owner: "acme", Name: "infra"}, second.PR.Number, githubx.BypassCache())
	if err != nil || pr.Mergeable == nil || *pr.Mergeable || pr.MergeableState != "dirty" {
		e.t.Fatalf("second PR after the first merged: %+v, %v; want it conflicting", pr, err)
	}
	return first, second
}

func TestMerge_BaseMovedRebuildsReplansAndAsksForApproval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, second := e.approvedAndConflicting()
	before, _ := e.store.GetRequest(e.ctx, second.ID)

	_, err := e.pilot.Merge(e.ctx, approver, second.ID)
	var ge *tfpilot.GateError
	if !errors.As(err, &ge) || !strings.Contains(err.Error(), "the base moved") || !strings.Contains(err.Error(), "approve again") {
		t.Fatalf("Merge = %v, want a failed precondition saying the base moved", err)
	}
	after, _ := e.store.GetRequest(e.ctx, second.ID)
	if after.CommitSHA == before.CommitSHA || after.Approval != nil || after.PR.HeadSHA != after.CommitSHA {
		t.Fatalf("after the rebuild: commit %s (was %s), approval %+v, head %s", after.CommitSHA, before.CommitSHA, after.Approval, after.PR.HeadSHA)
	}
	if !strings.Contains(err.Error(), after.CommitSHA[:7]) {
		t.Fatalf("error %q does not name the re-planned commit %s", err, after.CommitSHA)
	}
	if plan, _ := runs.Current(after.Runs, runs.Plan); plan.HeadSHA != after.CommitSHA || plan.Attempt != 2 {
		t.Fatalf("plan after rebuild: %+v", plan)
	}
	// The branch's file is main's file plus the block: mergeable again.
	main, _ := e.fake.File("acme", "infra", "main", "envs/dev/tfpilot.tf")
	branch, _ := e.fake.File("acme", "infra", after.BranchName, "envs/dev/tfpilot.tf")
	if want, _ := hclblocks.Remove([]byte(branch), second.ID); string(want) != main {
		t.Fatalf("branch file minus the block is not main's file:\n%s\nmain:\n%s", want, main)
	}
	// Merging again before a new plan and approval is refused by the
	// gates; after them the merge goes through.
	if _, err := e.pilot.Merge(e.ctx, approver, second.ID); !errors.Is(err, tfpilot.ErrPrecondition) {
		t.Fatalf("second Merge = %v", err)
	}
	e.finish(second.ID, runs.Plan, "success")
	if _, err := e.pilot.Approve(e.ctx, approver, second.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pilot.Merge(e.ctx, approver, second.ID); err != nil {
		t.Fatalf("Merge after re-approval: %v", err)
	}
	e.want(second.ID, lifecycle.Merged)
}

func TestSync_BaseMovedRebuildsTheBranch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, second := e.approvedAndConflicting()
	r := e.sync(second.ID)
	if r.CommitSHA == second.CommitSHA || r.Approval != nil {
		t.Fatalf("Sync did not rebuild: commit %s, approval %+v", r.CommitSHA, r.Approval)
	}
	e.want(second.ID, lifecycle.Planning)
	// A second Sync finds the branch on main and changes nothing.
	again := e.sync(second.ID)
	if again.Version != r.Version || again.CommitSHA != r.CommitSHA {
		t.Fatalf("second Sync wrote: version %d → %d", r.Version, again.Version)
	}
}

func TestMerge_RefusedWritesNothingAndRecordsOneEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("refused")
	e.finish(r.ID, runs.Plan, "success")
	if _, err := e.pilot.Approve(e.ctx, approver, r.ID); err != nil {
		t.Fatal(err)
	}
	no := false
	if err := e.fake.SetMergeable("acme", "infra", r.PR.Number, &no); err != nil {
		t.Fatal(err)
	}
	before, _ := e.store.GetRequest(e.ctx, r.ID)
	evBefore, _ := e.store.ListEvents(e.ctx, r.ID)
	_, err := e.pilot.Merge(e.ctx, approver, r.ID)
	if !errors.Is(err, tfpilot.ErrPrecondition) {
		t.Fatalf("Merge = %v, want a failed precondition", err)
	}
	after, _ := e.store.GetRequest(e.ctx, r.ID)
	evAfter, _ := e.store.ListEvents(e.ctx, r.ID)
	if after.Version != before.Version {
		t.Fatalf("a refused merge wrote the request: version %d → %d", before.Version, after.Version)
	}
	if len(evAfter) != len(evBefore)+1 || evAfter[len(evAfter)-1].Event != "merge_refused" {
		t.Fatalf("events after a refused merge: %d → %d (%+v)", len(evBefore), len(evAfter), evAfter[len(evAfter)-1])
	}
}

func TestSync_ForeignPushIsReplacedByTheRequestsBlock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("owned")
	e.finish(r.ID, runs.Plan, "success")
	// A person pushes a change of another file to the request's branch.
	if _, err := e.gh.CommitFiles(e.ctx, githubx.Repo{Owner: "acme", Name: "infra"}, r.BranchName, "sneak",
		[]githubx.FileChange{{Path: "envs/dev/extra.tf", Content: []byte("resource \"x\" \"y\" {}\n")}}); err != nil {
		t.Fatal(err)
	}
	got := e.sync(r.ID)
	if got.CommitSHA == r.CommitSHA || got.PR.HeadSHA != got.CommitSHA {
		t.Fatalf("Sync did not rebuild after a foreign push: %+v", got)
	}
	if _, err := e.fake.File("acme", "infra", r.BranchName, "envs/dev/extra.tf"); err == nil {
		t.Fatal("the foreign file is still on the request's branch")
	}
	evs, _ := e.store.ListEvents(e.ctx, r.ID)
	if last := evs[len(evs)-1]; last.Event != "plan_dispatched" && last.Event != "branch_rebuilt" {
		t.Fatalf("last event %s", last.Event)
	}
}

func TestWebhook_ForeignPushRebuildsTheBranch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hooked(t, e)
	r := e.create("pushed")
	e.flush()
	if _, err := e.gh.CommitFiles(e.ctx, githubx.Repo{Owner: "acme", Name: "infra"}, r.BranchName, "sneak",
		[]githubx.FileChange{{Path: "envs/dev/extra.tf", Content: []byte("resource \"x\" \"y\" {}\n")}}); err != nil {
		t.Fatal(err)
	}
	e.flush() // the synchronize, then the rebuild's own synchronize
	e.flush()
	got, err := e.store.GetRequest(e.ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CommitSHA == r.CommitSHA || got.PR.HeadSHA != got.CommitSHA {
		t.Fatalf("the synchronize webhook did not rebuild the branch: commit %s (was %s), head %s", got.CommitSHA, r.CommitSHA, got.PR.HeadSHA)
	}
	if _, err := e.fake.File("acme", "infra", r.BranchName, "envs/dev/extra.tf"); err == nil {
		t.Fatal("the foreign file is still on the request's branch")
	}
}

func TestApply_OneAtATimePerEnvironment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first, second := e.approvedAndConflicting() // the first is merged
	if _, err := e.pilot.Merge(e.ctx, approver, second.ID); !errors.Is(err, tfpilot.ErrPrecondition) {
		t.Fatalf("Merge after the base moved = %v", err)
	}
	e.finish(second.ID, runs.Plan, "success")
	if _, err := e.pilot.Approve(e.ctx, approver, second.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pilot.Merge(e.ctx, approver, second.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pilot.Apply(e.ctx, approver, first.ID); err != nil {
		t.Fatal(err)
	}
	before, _ := e.store.GetRequest(e.ctx, second.ID)
	_, err := e.pilot.Apply(e.ctx, approver, second.ID)
	if !errors.Is(err, tfpilot.ErrPrecondition) || !strings.Contains(err.Error(), first.ID) {
		t.Fatalf("Apply while %s applies = %v, want a failed precondition naming it", first.ID, err)
	}
	if after, _ := e.store.GetRequest(e.ctx, second.ID); after.Version != before.Version {
		t.Fatalf("the refused apply wrote: version %d → %d", before.Version, after.Version)
	}
	if n := len(e.runsOf("apply.yml")); n != 1 {
		t.Fatalf("%d apply runs while one apply is in flight", n)
	}
	e.finish(first.ID, runs.Apply, "success")
	if _, err := e.pilot.Apply(e.ctx, approver, second.ID); err != nil {
		t.Fatalf("Apply after the other finished: %v", err)
	}
}
