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
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/lock"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store/s3store"
)

// process is a second tfpilot process: its own Pilot and GitHub client
// over the env's store (possibly wrapped) and fake GitHub.
func (e *env) process(t *testing.T, store tfpilot.Store) *tfpilot.Pilot {
	t.Helper()
	gh, err := githubx.New(githubx.Options{BaseURL: e.fake.URL(), Token: "test-token", Clock: e.clock, AllowInsecureHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := tfpilot.New(store, gh, tfpilot.Config{
		Targets: tfpilot.StaticTargets{"payments/dev": {Owner: "acme", Repo: "infra", EnvPath: "envs/dev"}},
		Catalog: catalog(t),
		Authorizer: tfpilot.RoleAuthorizer{
			Developers: []string{"dana"}, Approvers: []string{"abe"},
		},
		Now: e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// strandedPlan returns a request whose current plan attempt (2) was
// persisted but whose workflow_dispatch never started a run (GitHub kept
// answering 502), with the dispatch grace passed: Sync must dispatch it
// again, once.
func strandedPlan(t *testing.T, e *env) string {
	t.Helper()
	r := e.create("reports")
	e.finish(r.ID, runs.Plan, "failure")
	// The first try and the client's three retries all fail.
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointDispatch, Kind: githubtest.FaultServerError, Times: 4})
	if _, err := e.pilot.Plan(e.ctx, dev, r.ID); !errors.Is(err, tfpilot.ErrUnavailable) {
		t.Fatalf("Plan with GitHub down: %v, want ErrUnavailable", err)
	}
	if n := e.fake.PendingFaults(); n != 0 {
		t.Fatalf("setup: %d faults left", n)
	}
	cur, _ := e.store.GetRequest(e.ctx, r.ID)
	if a, ok := runs.Current(cur.Runs, runs.Plan); !ok || a.Attempt != 2 || a.RunID != 0 || len(e.runsOf("plan.yml")) != 1 {
		t.Fatalf("setup: plan %+v, %d plan runs", cur.Runs.Plan, len(e.runsOf("plan.yml")))
	}
	e.clock.Advance(3 * time.Minute)
	return r.ID
}

// oneRunPerAttempt checks the exactly-once property on the fake and the
// store: every attempt of id has exactly one run carrying its nonce and
// that run attached; the run index names only attached runs.
func oneRunPerAttempt(t *testing.T, e *env, id string) {
	t.Helper()
	r, err := e.store.GetRequest(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	all := e.fake.Runs("acme", "infra")
	for _, k := range runs.Kinds() {
		for _, a := range r.Runs.Op(k).Attempts {
			if a.Conclusion == runs.ConclusionStartupFailure && a.RunID == 0 {
				continue // refused by GitHub: no run
			}
			var carrying []int64
			for _, run := range all {
				if strings.Contains(run.DisplayTitle, a.Nonce) {
					carrying = append(carrying, run.ID)
				}
			}
			if len(carrying) != 1 || a.RunID != carrying[0] {
				t.Fatalf("%s attempt %d (run %d): runs carrying its nonce %v, want exactly its one run", k, a.Attempt, a.RunID, carrying)
			}
		}
	}
	for _, run := range all {
		k := runs.Kind(strings.TrimSuffix(run.WorkflowFile, ".yml"))
		owner, err := e.store.LookupRun(e.ctx, k, run.ID)
		a, attached := runs.FindByRunID(r.Runs, k, run.ID)
		switch {
		case !attached:
			t.Fatalf("orphan %s run %d (%q)", k, run.ID, run.DisplayTitle)
		case err != nil || owner != id:
			t.Fatalf("%s run %d of attempt %d: index %q, %v", k, run.ID, a.Attempt, owner, err)
		}
	}
}

// hookStore runs before once, just before the first call that match
// selects, then passes every call to the real store.
type hookStore struct {
	tfpilot.Store
	match  func(method string, r *tfpilot.Request) bool
	before func()
	once   sync.Once
}

func (s *hookStore) hook(method string, r *tfpilot.Request) {
	if s.match(method, r) {
		s.once.Do(s.before)
	}
}

func (s *hookStore) UpdateRequest(ctx context.Context, r *tfpilot.Request) (*tfpilot.Request, error) {
	s.hook("UpdateRequest", r)
	return s.Store.UpdateRequest(ctx, r)
}

func (s *hookStore) LookupPR(ctx context.Context, pr tfpilot.PRRef) (string, error) {
	s.hook("LookupPR", nil)
	return s.Store.LookupPR(ctx, pr)
}

// syncLocking matches the write by which a Sync takes the lock.
func syncLocking(method string, r *tfpilot.Request) bool {
	return method == "UpdateRequest" && r.Lock != nil && strings.HasPrefix(r.Lock.Holder, "sync/")
}

// TestSync_RedispatchDecidedUnderTheLockOnAReRead: process B decides from
// its unlocked read that an attempt is stranded; before B takes the lock,
// process A re-dispatches it and releases. B must re-read the attempt
// under the lock and not dispatch it a second time.
func TestSync_RedispatchDecidedUnderTheLockOnAReRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := strandedPlan(t, e)
	a := e.pilot
	hs := &hookStore{Store: e.store, match: syncLocking}
	b := e.process(t, hs)
	hs.before = func() {
		if _, err := a.Sync(e.ctx, dev, id); err != nil {
			t.Errorf("A's Sync: %v", err)
		}
	}
	if _, err := b.Sync(e.ctx, dev, id); err != nil {
		t.Fatalf("B's Sync: %v", err)
	}
	if got := len(e.runsOf("plan.yml")); got != 2 {
		t.Fatalf("%d plan runs, want 2 (attempt 1 and the one re-dispatch of attempt 2)", got)
	}
	oneRunPerAttempt(t, e, id)
}

// TestSync_OneRunPerAttemptAcrossProcesses: several processes on one
// store, sharing one GitHub whose runs list lags dispatches, race Syncs
// on a stranded attempt. Exactly one run results, attached and indexed.
func TestSync_OneRunPerAttemptAcrossProcesses(t *testing.T) {
	t.Parallel()
	for _, be := range overlapBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, be.opt(t))
			id := strandedPlan(t, e)
			e.fake.SetRunsListLag(5 * time.Second)
			procs := []*tfpilot.Pilot{e.pilot, e.process(t, e.store), e.process(t, e.store)}
			const perProc = 4
			var wg sync.WaitGroup
			start := make(chan struct{})
			for _, p := range procs {
				for range perProc {
					wg.Go(func() {
						<-start
						if _, err := p.Sync(e.ctx, dev, id); err != nil {
							t.Errorf("Sync: %v", err)
						}
					})
				}
			}
			close(start)
			wg.Wait()
			// Let the list catch up and settle what the race left to Sync.
			e.clock.Advance(time.Minute)
			e.sync(id)
			if got := len(e.runsOf("plan.yml")); got != 2 {
				t.Fatalf("%d plan runs, want 2 (attempt 1 and one re-dispatch of attempt 2)", got)
			}
			oneRunPerAttempt(t, e, id)
		})
	}
}

// TestSync_NeverPanicsWhenTheLockIsTakenMidway: another process takes
// the request's lock between Sync's read and its own acquire, at every
// write Sync makes. Sync must answer (not panic on a nil request).
func TestSync_NeverPanicsWhenTheLockIsTakenMidway(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := strandedPlan(t, e)
	hs := &hookStore{Store: e.store, match: syncLocking}
	b := e.process(t, hs)
	hs.before = func() {
		// Another operation takes the lock first.
		if _, err := tfpilot.Mutate(e.ctx, e.store, id, func(r *tfpilot.Request) error {
			r.Lock = &lock.Lock{Holder: "dana/apply/other", Operation: "apply", AcquiredAt: e.clock.Now(), ExpiresAt: e.clock.Now().Add(time.Minute)}
			return nil
		}); err != nil {
			t.Errorf("take the lock: %v", err)
		}
	}
	r, err := b.Sync(e.ctx, dev, id)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if r.Request == nil || r.ID != id || r.Lock == nil || r.Lock.Holder != "dana/apply/other" {
		t.Fatalf("Sync answered %+v; want the request, still locked by the other operation", r)
	}
	if got := len(e.runsOf("plan.yml")); got != 1 {
		t.Fatalf("%d plan runs: Sync dispatched without the lock", got)
	}
}

// TestSync_PRMergedRecordedOnceWhenSyncRacesAMerge: two processes Sync a
// pull request merged in GitHub's UI; the second read the request before
// the first recorded the merge. pr_merged is recorded once.
func TestSync_PRMergedRecordedOnceWhenSyncRacesAMerge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	e.finish(r.ID, runs.Plan, "success")
	if err := e.fake.As("abe").Approve("acme", "infra", r.PR.Number); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.As("abe").Merge("acme", "infra", r.PR.Number); err != nil {
		t.Fatal(err)
	}
	hs := &hookStore{Store: e.store, match: func(m string, _ *tfpilot.Request) bool { return m == "LookupPR" }}
	b := e.process(t, hs)
	hs.before = func() { e.sync(r.ID) }
	if _, err := b.Sync(e.ctx, dev, r.ID); err != nil {
		t.Fatal(err)
	}
	if n := countEvents(t, e, r.ID, "pr_merged"); n != 1 {
		t.Fatalf("pr_merged recorded %d times, want 1", n)
	}
}

func countEvents(t *testing.T, e *env, id, name string) int {
	t.Helper()
	evs, err := e.store.ListEvents(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Event == name {
			n++
		}
	}
	return n
}

// appendFailingStore fails every AppendEvent while down is set: the
// event store unreachable between a write and its event.
type appendFailingStore struct {
	tfpilot.Store
	down atomic.Bool
}

func (s *appendFailingStore) AppendEvent(ctx context.Context, ev tfpilot.Event) (tfpilot.Event, error) {
	if s.down.Load() {
		return tfpilot.Event{}, fmt.Errorf("append: %w", errInjected)
	}
	return s.Store.AppendEvent(ctx, ev)
}

// TestEvents_MilestoneSurvivesAFailureBetweenWriteAndEvent: the run's
// conclusion is written but its event cannot be appended (a crash or a
// database blip right after the write). The milestone is not lost: the
// next Sync records it, once.
func TestEvents_MilestoneSurvivesAFailureBetweenWriteAndEvent(t *testing.T) {
	t.Parallel()
	for _, be := range []struct {
		name string
		opt  func(t *testing.T) envOption
	}{
		{"memstore", func(*testing.T) envOption { return func(*tfpilot.Config, *tfpilot.Store) {} }},
		{"pgstore", func(t *testing.T) envOption { return withPgstore(t) }},
		{"s3store", func(t *testing.T) envOption { return withS3store(t) }},
	} {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			var fs *appendFailingStore
			e := newEnv(t, be.opt(t), func(_ *tfpilot.Config, s *tfpilot.Store) {
				fs = &appendFailingStore{Store: *s}
				*s = fs
			})
			r := e.create("reports")
			cur, _ := e.store.GetRequest(e.ctx, r.ID)
			plan, _ := runs.Current(cur.Runs, runs.Plan)
			if err := e.fake.Complete(plan.RunID, "success"); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(time.Minute)
			fs.down.Store(true)
			e.sync(r.ID)
			fs.down.Store(false)
			if got, _ := e.store.GetRequest(e.ctx, r.ID); !runs.Succeeded(mustCurrent(t, got, runs.Plan)) {
				t.Fatal("the conclusion was not written")
			}
			e.sync(r.ID)
			e.sync(r.ID)
			if n := countEvents(t, e, r.ID, "plan_completed"); n != 1 {
				t.Fatalf("plan_completed recorded %d times, want 1", n)
			}
			if got, _ := e.store.GetRequest(e.ctx, r.ID); len(got.Outbox) != 0 {
				t.Fatalf("outbox not flushed: %+v", got.Outbox)
			}
		})
	}
}

// withS3store replaces the memstore with an s3store on a fresh bucket
// prefix (skipped, or failed under TFPILOT_TEST_REQUIRE=s3, without one).
func withS3store(t testing.TB) envOption {
	return func(cfg *tfpilot.Config, s *tfpilot.Store) {
		b := testenv.NewS3(t)
		ss, err := s3store.New(b.Client, b.Bucket, &s3store.Options{Prefix: b.Prefix, Now: cfg.Now})
		if err != nil {
			t.Fatal(err)
		}
		*s = ss
	}
}

func mustCurrent(t *testing.T, r *tfpilot.Request, k runs.Kind) runs.Attempt {
	t.Helper()
	a, ok := runs.Current(r.Runs, k)
	if !ok {
		t.Fatalf("no current %s attempt", k)
	}
	return a
}

// releaseFailingStore fails the first n lock releases: the database
// unreachable for a moment when an operation ends.
type releaseFailingStore struct {
	tfpilot.Store
	n atomic.Int64
}

func (s *releaseFailingStore) UpdateRequest(ctx context.Context, r *tfpilot.Request) (*tfpilot.Request, error) {
	if r.Lock == nil {
		if cur, err := s.Store.GetRequest(ctx, r.ID); err == nil && cur.Lock != nil && s.n.Add(-1) >= 0 {
			return nil, fmt.Errorf("release: %w", errInjected)
		}
	}
	return s.Store.UpdateRequest(ctx, r)
}

// TestRelease_RetriedAfterAStoreBlip: a release that fails a few times
// (a short database outage) is retried, so the request is not left
// locked for the full TTL.
func TestRelease_RetriedAfterAStoreBlip(t *testing.T) {
	t.Parallel()
	var fs *releaseFailingStore
	e := newEnv(t, func(_ *tfpilot.Config, s *tfpilot.Store) {
		fs = &releaseFailingStore{Store: *s}
		*s = fs
	})
	r := e.create("reports")
	e.finish(r.ID, runs.Plan, "success")
	fs.n.Store(3)
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	got, _ := e.store.GetRequest(e.ctx, r.ID)
	if got.Lock != nil {
		t.Fatalf("lock %+v left after Approve", got.Lock)
	}
	if fs.n.Load() >= 0 {
		t.Fatal("the release never failed: the test did not test anything")
	}
}

// TestErrors_GitHubDownIsErrUnavailable: GitHub unreachable or failing
// is tfpilot.ErrUnavailable, still wrapping the client's error.
func TestErrors_GitHubDownIsErrUnavailable(t *testing.T) {
	t.Parallel()
	t.Run("5xx", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		r := e.create("reports")
		e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointGetPull, Kind: githubtest.FaultServerError, Times: 10})
		_, err := e.pilot.Sync(e.ctx, dev, r.ID)
		if !errors.Is(err, tfpilot.ErrUnavailable) || !errors.Is(err, githubx.ErrUnavailable) {
			t.Fatalf("err = %v; want ErrUnavailable wrapping githubx.ErrUnavailable", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		r := e.create("reports")
		e.fake.Close()
		_, err := e.pilot.Sync(e.ctx, dev, r.ID)
		var ge *githubx.Error
		if !errors.Is(err, tfpilot.ErrUnavailable) || !errors.As(err, &ge) {
			t.Fatalf("err = %v; want ErrUnavailable wrapping a *githubx.Error", err)
		}
	})
	t.Run("rate limited", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		r := e.create("reports")
		e.fake.SetRateLimit(0, e.clock.Now().Add(time.Hour))
		_, err := e.pilot.Sync(e.ctx, dev, r.ID)
		var rl *githubx.RateLimitError
		if !errors.Is(err, tfpilot.ErrUnavailable) || !errors.As(err, &rl) {
			t.Fatalf("err = %v; want ErrUnavailable wrapping a *githubx.RateLimitError", err)
		}
	})
}

// TestView_LockLeftByADeadHolderShowsAsExpired: a process died holding
// the lock. Get shows the lock as expired once its TTL has passed, not as
// a live operation.
func TestView_LockLeftByADeadHolderShowsAsExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	if _, err := tfpilot.Mutate(e.ctx, e.store, r.ID, func(r *tfpilot.Request) error {
		r.Lock = &lock.Lock{Holder: "dana/apply/dead", Operation: "apply", AcquiredAt: e.clock.Now(), ExpiresAt: e.clock.Now().Add(time.Minute)}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		after time.Duration
		want  bool
	}{{0, false}, {59 * time.Second, false}, {time.Second, true}} {
		e.clock.Advance(c.after)
		v, err := e.pilot.Get(e.ctx, dev.Principal, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.LockExpired != c.want || v.Request.Lock == nil {
			t.Fatalf("at +%s: LockExpired %v, lock %+v; want %v and the lock shown", c.after, v.LockExpired, v.Request.Lock, c.want)
		}
	}
}

// TestGates_NoSecondApplyOrDestroyOverAnAttemptWithUnknownConclusion: an
// attempt with no conclusion is in flight whatever its status says (a
// legacy document without status, a run reported completed before its
// conclusion): Apply and Destroy must not start another over it.
func TestGates_NoSecondApplyOrDestroyOverAnAttemptWithUnknownConclusion(t *testing.T) {
	t.Parallel()
	for _, status := range []string{"", runs.StatusCompleted} {
		t.Run("status "+status, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := e.create("reports")
			e.finish(r.ID, runs.Plan, "success")
			mustOK(t, e, e.pilot.Approve, approver, r.ID)
			mustOK(t, e, e.pilot.Merge, approver, r.ID)
			mustOK(t, e, e.pilot.Apply, approver, r.ID)
			unknown := func(k runs.Kind) {
				if _, err := tfpilot.Mutate(e.ctx, e.store, r.ID, func(r *tfpilot.Request) error {
					op := r.Runs.Op(k)
					a := &op.Attempts[len(op.Attempts)-1]
					a.Status, a.Conclusion = status, ""
					switch k {
					case runs.Apply:
						r.Runs.Apply = op
					case runs.Destroy:
						r.Runs.Destroy = op
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			unknown(runs.Apply)
			if _, err := e.pilot.Apply(e.ctx, approver, r.ID); !errors.Is(err, tfpilot.ErrPrecondition) {
				t.Fatalf("second Apply over an attempt with unknown conclusion: %v, want ErrPrecondition", err)
			}
			if _, err := e.pilot.Destroy(e.ctx, dev, r.ID); !errors.Is(err, tfpilot.ErrPrecondition) {
				t.Fatalf("Destroy over an apply with unknown conclusion: %v, want ErrPrecondition", err)
			}
			if got := len(e.runsOf("apply.yml")) + len(e.runsOf("destroy.yml")); got != 1 {
				t.Fatalf("%d apply and destroy runs, want the one apply", got)
			}
		})
	}
}
