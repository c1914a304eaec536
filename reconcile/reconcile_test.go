package reconcile_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/lock"
	"github.com/tfpilot/tfpilot/reconcile"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// panicking is an embedder's Authorizer with a bug: it panics when asked
// about syncing one request.
type panicking struct {
	tfpilot.RoleAuthorizer
	id string
}

func (a panicking) Authorize(ctx context.Context, p tfpilot.Principal, act tfpilot.Action, r *tfpilot.Request) error {
	if act == tfpilot.ActionSync && r != nil && r.ID == a.id {
		panic("authorizer bug on " + r.ID)
	}
	return a.RoleAuthorizer.Authorize(ctx, p, act, r)
}

// env is one deployment: a memstore, the fake GitHub and an engine.
type env struct {
	t     *testing.T
	ctx   context.Context
	clock *githubtest.ManualClock // the one clock of a test: the store's, the engine's and the reconcilers'
	store *memstore.Store
	fake  *githubtest.Fake
	pilot *tfpilot.Pilot
	auth  *panicking
	admin tfpilot.Caller
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clk := githubtest.NewManualClock(time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC))
	fake := githubtest.New(githubtest.Options{})
	t.Cleanup(fake.Close)
	if _, err := fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra", Files: map[string]string{"envs/dev/main.tf": "# dev\n"}}); err != nil {
		t.Fatal(err)
	}
	gh, err := githubx.New(githubx.Options{BaseURL: fake.URL(), Token: "test", AllowInsecureHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := tfpilot.NewCatalog(tfpilot.Module{Name: "s3_bucket", Source: "terraform-aws-modules/s3-bucket/aws",
		Fields: []tfpilot.Field{{Name: "bucket", Type: tfpilot.FieldString, Required: true}}})
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New(&memstore.Options{Now: clk.Now})
	auth := &panicking{}
	pilot, err := tfpilot.New(store, gh, tfpilot.Config{
		Targets:    tfpilot.StaticTargets{"payments/dev": {Owner: "acme", Repo: "infra", EnvPath: "envs/dev"}},
		Catalog:    cat,
		Authorizer: auth,
		Now:        clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: t.Context(), clock: clk, store: store, fake: fake, pilot: pilot, auth: auth,
		admin: tfpilot.Caller{Principal: tfpilot.Principal{Login: "admin", Roles: []tfpilot.Role{tfpilot.RoleAdmin}}}}
}

func (e *env) create(bucket string) *tfpilot.Request {
	e.t.Helper()
	r, err := e.pilot.Create(e.ctx, e.admin, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
		Config: map[string]any{"bucket": bucket}})
	if err != nil {
		e.t.Fatalf("Create(%s): %v", bucket, err)
	}
	return r.Request
}

// finishPlan completes the request's plan run in GitHub; no webhook
// tells the engine.
func (e *env) finishPlan(id string) {
	e.t.Helper()
	r, err := e.store.GetRequest(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	a, ok := runs.Current(r.Runs, runs.Plan)
	if !ok || a.RunID == 0 {
		e.t.Fatalf("request %s has no plan run: %+v", id, r.Runs)
	}
	if err := e.fake.Complete(a.RunID, "success"); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) status(id string) lifecycle.Status {
	e.t.Helper()
	v, err := e.pilot.Get(e.ctx, e.admin.Principal, id)
	if err != nil {
		e.t.Fatalf("Get(%s): %v", id, err)
	}
	return v.Status
}

// reconciler returns a reconciler named holder on e's store and clock,
// with a 30 s lease, recording its leadership changes in events.
func (e *env) reconciler(holder string, events *[]string) *reconcile.Reconciler {
	var mu sync.Mutex
	return &reconcile.Reconciler{Pilot: e.pilot, Store: e.store, Holder: holder, LeaseTTL: 30 * time.Second, Now: e.clock.Now,
		Logger: slog.New(slog.DiscardHandler),
		Hooks: reconcile.Hooks{Leadership: func(leading bool, fence int64) {
			mu.Lock()
			defer mu.Unlock()
			if events != nil {
				if leading {
					*events = append(*events, holder+" leads")
				} else {
					*events = append(*events, holder+" deposed")
				}
			}
		}}}
}

// TestReconciler_ExactlyOneLeadsAndTheOtherTakesOverAtExpiry: of two
// reconcilers on one store only the lease holder syncs; when it stops
// renewing, the other takes over once the lease expires (by the store's
// clock), and the old leader, back, is refused and syncs nothing.
func TestReconciler_ExactlyOneLeadsAndTheOtherTakesOverAtExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.create("reports").ID
	var events []string
	a, b := e.reconciler("a", &events), e.reconciler("b", &events)

	if res := a.Pass(e.ctx); !res.Leading || res.Synced != 1 {
		t.Fatalf("a's first pass = %+v, want leading with 1 request synced", res)
	}
	if res := b.Pass(e.ctx); res.Leading || res.Synced != 0 {
		t.Fatalf("b's pass while a leads = %+v, want a follower that syncs nothing", res)
	}
	e.clock.Advance(29 * time.Second) // a's lease has 1 s left
	if res := b.Pass(e.ctx); res.Leading {
		t.Fatalf("b led 1 s before a's lease expired: %+v", res)
	}
	// a died: it never renews. A minute on, a's lease has expired and
	// the run's reconcile cooldown (60 s) has passed.
	e.clock.Advance(31 * time.Second)
	e.finishPlan(id)
	if res := b.Pass(e.ctx); !res.Leading || res.Synced != 1 {
		t.Fatalf("b's pass after a's lease expired = %+v, want b leading with 1 request synced", res)
	}
	if st := e.status(id); st != lifecycle.PlanReady {
		t.Errorf("after b's pass the request is %s, want plan_ready", st)
	}
	if res := a.Pass(e.ctx); res.Leading || res.Synced != 0 {
		t.Fatalf("a's pass after b took over = %+v, want a refused (stale fence) and syncing nothing", res)
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.Leading || !sb.Leading || sa.Fence != 1 || sb.Fence != 2 || sa.Elected != 1 || sa.Deposed != 1 || sb.Elected != 1 {
		t.Errorf("stats: a %+v, b %+v; want a deposed at fence 1, b leading at fence 2", sa, sb)
	}
	want := []string{"a leads", "b leads", "a deposed"}
	if len(events) != len(want) || events[0] != want[0] || events[1] != want[1] || events[2] != want[2] {
		t.Errorf("leadership hooks = %q, want %q", events, want)
	}
	l, err := e.store.GetLease(e.ctx, reconcile.DefaultLeaseName)
	if err != nil || l.Holder != "b" || l.Fence != 2 {
		t.Errorf("stored lease = %+v, %v; want b's at fence 2", l, err)
	}
}

// TestReconciler_LeaderRenewsAndKeepsLeading: a leader that passes
// regularly renews its lease, so a follower never takes over however
// long it runs.
func TestReconciler_LeaderRenewsAndKeepsLeading(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.reconciler("a", nil), e.reconciler("b", nil)
	for i := range 10 {
		if res := a.Pass(e.ctx); !res.Leading {
			t.Fatalf("pass %d: a stopped leading", i)
		}
		e.clock.Advance(20 * time.Second) // more than the 10 s renewal point, less than the TTL
		if res := b.Pass(e.ctx); res.Leading {
			t.Fatalf("pass %d: b took over a lease a renews", i)
		}
	}
	if s := a.Stats(); s.Elected != 1 || s.Fence != 1 {
		t.Errorf("a's stats = %+v, want elected once at fence 1", s)
	}
}

// TestReconciler_ResignHandsOverAtOnce: a reconciler that stops cleanly
// releases the lease, and the next one leads without waiting for it to
// expire.
func TestReconciler_ResignHandsOverAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.reconciler("a", nil), e.reconciler("b", nil)
	if !a.Pass(e.ctx).Leading {
		t.Fatal("a did not lead")
	}
	a.Resign(e.ctx)
	if res := b.Pass(e.ctx); !res.Leading {
		t.Fatalf("b's pass right after a resigned = %+v, want leading", res)
	}
}

// TestReconciler_CoversRequestsWaitingOnPeople: a request at plan_ready
// whose PR is merged in GitHub's UI, the webhook lost, is moved on by
// the reconciler: no status short of terminal is left alone.
func TestReconciler_CoversRequestsWaitingOnPeople(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	e.finishPlan(r.ID)
	rec := e.reconciler("a", nil)
	if res := rec.Pass(e.ctx); res.Synced != 1 {
		t.Fatalf("pass = %+v, want 1 synced", res)
	}
	if st := e.status(r.ID); st != lifecycle.PlanReady {
		t.Fatalf("status %s, want plan_ready", st)
	}
	if _, err := e.fake.As("octocat").Merge("acme", "infra", r.PR.Number); err != nil {
		t.Fatal(err)
	}
	if res := rec.Pass(e.ctx); res.Synced != 1 || res.Failed != 0 {
		t.Fatalf("pass over the plan_ready request = %+v, want it synced", res)
	}
	if st := e.status(r.ID); st != lifecycle.Merged {
		t.Errorf("after the pass the request merged in GitHub's UI is %s, want merged", st)
	}
	for _, s := range []lifecycle.Status{lifecycle.PlanReady, lifecycle.Approved, lifecycle.Merged, lifecycle.Destroyed} {
		found := false
		for _, d := range reconcile.DefaultStatuses() {
			found = found || d == s
		}
		if !found {
			t.Errorf("DefaultStatuses() lacks %s", s)
		}
	}
}

// TestReconciler_PanicInOneSyncIsRecoveredCountedAndThePassGoesOn: a
// panic while syncing one request does not end the pass or the process;
// it is counted, reported to the hook with the request id, and the
// other requests are synced.
func TestReconciler_PanicInOneSyncIsRecoveredCountedAndThePassGoesOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := []string{e.create("one").ID, e.create("two").ID, e.create("three").ID}
	e.auth.id = ids[1]
	var panicked []string
	rec := e.reconciler("a", nil)
	rec.Hooks.Panic = func(id string, v any) { panicked = append(panicked, id) }
	res := rec.Pass(e.ctx)
	if res.Panics != 1 || res.Failed != 1 || res.Synced != 2 {
		t.Errorf("pass = %+v, want 1 panic, 1 failed, 2 synced", res)
	}
	if len(panicked) != 1 || panicked[0] != ids[1] {
		t.Errorf("panic hook got %q, want [%s]", panicked, ids[1])
	}
	if s := rec.Stats(); s.Panics != 1 || s.Failed != 1 || s.Synced != 2 {
		t.Errorf("stats = %+v", s)
	}
}

// TestReconciler_PrunesAsLeaderOnceDue: the leader prunes what ended
// before the retention horizon, once per PruneEvery.
func TestReconciler_PrunesAsLeaderOnceDue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.store.SetRateLimitBackoff(e.ctx, tfpilot.RateLimitBackoff{Scope: "global", Until: e.clock.Now(), Reason: "x"}); err != nil {
		t.Fatal(err)
	}
	rec := e.reconciler("a", nil)
	rec.Retention, rec.PruneEvery = time.Hour, time.Hour
	if res := rec.Pass(e.ctx); res.Pruned.Backoffs != 0 {
		t.Fatalf("pruned %+v before the retention passed", res.Pruned)
	}
	e.clock.Advance(time.Hour)
	if res := rec.Pass(e.ctx); res.Pruned.Backoffs != 1 {
		t.Fatalf("pass an hour on pruned %+v, want the ended backoff", res.Pruned)
	}
	if _, err := e.store.GetRateLimitBackoff(e.ctx, "global"); !errors.Is(err, tfpilot.ErrNotFound) {
		t.Errorf("GetRateLimitBackoff after the prune: %v, want ErrNotFound", err)
	}
	if s := rec.Stats(); s.Pruned.Backoffs != 1 {
		t.Errorf("stats.Pruned = %+v", s.Pruned)
	}
}

// TestReconciler_RunNeedsALeaseStore: a store that cannot elect a leader
// is refused rather than letting every replica reconcile.
func TestReconciler_RunNeedsALeaseStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := &reconcile.Reconciler{Pilot: e.pilot, Store: struct{ tfpilot.Store }{e.store}}
	if err := rec.Run(e.ctx); !errors.Is(err, reconcile.ErrNoLeases) {
		t.Errorf("Run on a store without leases = %v, want ErrNoLeases", err)
	}
}

// TestReconciler_ClearsALockLeftByADeadHolderOnceItExpires: a process
// killed while holding a request's lock leaves the lock behind, and the
// request may meanwhile move to a status the pass no longer lists (its
// run completed without the holder). The reconciler revisits a request it
// last saw locked once the lock has expired, whatever its status, and
// Sync clears the expired lock: no lock is left behind for good.
func TestReconciler_ClearsALockLeftByADeadHolderOnceItExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	now := e.clock.Now()
	if _, err := tfpilot.Mutate(e.ctx, e.store, r.ID, func(r *tfpilot.Request) error {
		r.Lock = &lock.Lock{Holder: "killed-replica/apply/x", Operation: "apply", AcquiredAt: now, ExpiresAt: now.Add(2 * time.Minute)}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.finishPlan(r.ID) // the run completes while the dead holder's lock stands
	rec := e.reconciler("a", nil)
	rec.Statuses = []lifecycle.Status{lifecycle.Planning}
	if res := rec.Pass(e.ctx); res.Synced != 1 {
		t.Fatalf("first pass = %+v, want the planning request synced", res)
	}
	if st := e.status(r.ID); st != lifecycle.PlanReady {
		t.Fatalf("status %s, want plan_ready (no longer listed by the pass)", st)
	}
	e.clock.Advance(2*time.Minute + time.Second)
	rec.Pass(e.ctx)
	got, err := e.store.GetRequest(e.ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lock != nil {
		t.Errorf("lock %+v left after it expired; want it cleared by the reconciler's revisit", got.Lock)
	}
}

// TestReconciler_NewLeaderSweepsUnlistedStatusesForExpiredLocks: a lock
// left by a dead holder on a request the passes no longer list, which the
// previous leader (dead too) never saw, is found by the new leader's
// first sweep and cleared.
func TestReconciler_NewLeaderSweepsUnlistedStatusesForExpiredLocks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	e.finishPlan(r.ID)
	if _, err := e.pilot.Sync(e.ctx, e.admin, r.ID); err != nil {
		t.Fatal(err)
	}
	if st := e.status(r.ID); st != lifecycle.PlanReady {
		t.Fatalf("status %s, want plan_ready", st)
	}
	now := e.clock.Now()
	if _, err := tfpilot.Mutate(e.ctx, e.store, r.ID, func(r *tfpilot.Request) error {
		r.Lock = &lock.Lock{Holder: "killed-replica/approve/x", Operation: "approve", AcquiredAt: now.Add(-3 * time.Minute), ExpiresAt: now.Add(-time.Minute)}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rec := e.reconciler("new-leader", nil)
	rec.Statuses = []lifecycle.Status{lifecycle.Planning}
	if res := rec.Pass(e.ctx); !res.Leading || res.Synced != 0 {
		t.Fatalf("pass = %+v, want leading with nothing listed", res)
	}
	got, err := e.store.GetRequest(e.ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lock != nil {
		t.Errorf("expired lock %+v left on a request in an unlisted status; want the new leader's sweep to clear it", got.Lock)
	}
}
