package reconcile

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/store"
)

// Defaults of [Reconciler]'s fields.
const (
	DefaultInterval   = 30 * time.Second
	DefaultLeaseName  = "tfpilot/reconciler"
	DefaultRetention  = 7 * 24 * time.Hour
	DefaultPruneEvery = time.Hour
)

// ErrNoLeases is returned by [Reconciler.Run] and [Reconciler.Pass] when
// the store does not implement [tfpilot.LeaseStore], so no leader can be
// elected.
var ErrNoLeases = errors.New("reconcile: the store does not implement tfpilot.LeaseStore")

// DefaultStatuses returns the statuses a [Reconciler] syncs by default:
// every status that is not terminal (request_created, planning,
// plan_ready, approved, merged, applying, destroying), and destroyed, so
// that a destroyed request is cleaned up and archived.
func DefaultStatuses() []lifecycle.Status {
	var out []lifecycle.Status
	for _, s := range lifecycle.Statuses() {
		if !lifecycle.IsTerminal(s) || s == lifecycle.Destroyed {
			out = append(out, s)
		}
	}
	return out
}

// Reconciler syncs, on the elected leader only, every request that may
// still move. Set the exported fields before the first call; a
// Reconciler is safe for concurrent use afterwards.
type Reconciler struct {
	// Pilot is the engine. Required.
	Pilot *tfpilot.Pilot
	// Store is the store the Pilot was built on, unwrapped: it must
	// implement [tfpilot.LeaseStore]; when it implements
	// [store.Pruner], the leader prunes through it. Required.
	Store tfpilot.Store
	// Holder names this reconciler in the lease; it must differ between
	// processes. Default: host name, process id and a random suffix.
	Holder string
	// LeaseName is the lease every reconciler of a deployment contends
	// for. Default [DefaultLeaseName].
	LeaseName string
	// Interval between passes of [Reconciler.Run]. Default
	// [DefaultInterval].
	Interval time.Duration
	// LeaseTTL is how long leadership holds without a renewal. The
	// leader renews once a third of it has passed (checked before each
	// pass and between requests), and stops acting as leader when a
	// renewal is refused. Default three Intervals: a dead leader is
	// replaced within LeaseTTL plus one Interval.
	LeaseTTL time.Duration
	// Statuses are the statuses (as of each request's last write) whose
	// requests are synced. Default [DefaultStatuses].
	Statuses []lifecycle.Status
	// Retention is how long expired idempotency records, completed
	// deliveries and ended backoffs are kept: the leader prunes what
	// ended before now minus Retention. Default [DefaultRetention].
	Retention time.Duration
	// PruneEvery is how often the leader prunes. Default
	// [DefaultPruneEvery].
	PruneEvery time.Duration
	// Principal the syncs run as; it needs the viewer role. Default
	// "tfpilot-reconciler" with the viewer role.
	Principal tfpilot.Principal
	// Now is the clock deciding when to renew and prune. Default
	// time.Now. (Lease expiry itself is decided by the store's clock.)
	Now func() time.Time
	// Logger. Default: discard.
	Logger *slog.Logger
	// Hooks are called as things happen, e.g. to count them in metrics.
	Hooks Hooks

	once   sync.Once
	holder string

	mu    sync.Mutex
	lease tfpilot.Lease // Holder "" when not leading
	// revisit holds requests last seen locked, with the lock's expiry: a
	// holder that dies leaves its lock behind, possibly on a request
	// whose status the pass no longer lists (an apply that completed
	// through the webhook after its caller was killed). Each is synced
	// once its lock has expired, whatever its status, so Sync clears the
	// lock.
	revisit map[string]time.Time
	// lastSweep is when the leader last walked the statuses the passes
	// do not list, looking for locks; zero on election, so each new
	// leader sweeps once first (the previous one's revisits died with it).
	lastSweep time.Time
	renewAt   time.Time // by Now: when the lease is next renewed
	lastPrune time.Time
	stats     Stats
}

// Hooks are called synchronously, from the goroutine running the pass;
// nil hooks are skipped. They must not block.
type Hooks struct {
	// Leadership is called when this reconciler becomes the leader
	// (leading true, with the lease's fence) and when it stops being it
	// (leading false).
	Leadership func(leading bool, fence int64)
	// Panic is called after a panic in background work was recovered;
	// requestID is empty when no request was being synced.
	Panic func(requestID string, value any)
	// Synced is called after each request's sync, with its error.
	Synced func(requestID string, err error)
}

// Stats are a reconciler's counters since it was made.
type Stats struct {
	// Leading and Fence describe the lease as this reconciler last saw it.
	Leading bool
	Fence   int64
	// Elected and Deposed count the times it became and stopped being
	// the leader.
	Elected, Deposed int64
	// Passes counts passes made as leader; Synced and Failed the
	// requests synced without and with an error; Panics the panics
	// recovered.
	Passes, Synced, Failed, Panics int64
	// Pruned adds up what the prunes deleted.
	Pruned store.PruneResult
}

// PassResult is what one [Reconciler.Pass] did.
type PassResult struct {
	// Leading reports whether this reconciler led (at the pass's start).
	Leading bool
	// Synced and Failed count requests synced without and with an error
	// (a recovered panic counts as failed); Panics counts those panics.
	Synced, Failed, Panics int
	// Pruned is what a prune made during the pass deleted.
	Pruned store.PruneResult
}

func (r *Reconciler) init() {
	r.once.Do(func() {
		r.holder = r.Holder
		if r.holder == "" {
			host, _ := os.Hostname()
			r.holder = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), rand.Text()[:8])
		}
	})
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) log() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (r *Reconciler) interval() time.Duration {
	if r.Interval > 0 {
		return r.Interval
	}
	return DefaultInterval
}

func (r *Reconciler) ttl() time.Duration {
	if r.LeaseTTL > 0 {
		return r.LeaseTTL
	}
	return 3 * r.interval()
}

func (r *Reconciler) leaseName() string {
	if r.LeaseName != "" {
		return r.LeaseName
	}
	return DefaultLeaseName
}

func (r *Reconciler) leases() (tfpilot.LeaseStore, error) {
	switch ls, ok := r.Store.(tfpilot.LeaseStore); {
	case r.Pilot == nil || r.Store == nil:
		return nil, errors.New("reconcile: Reconciler.Pilot and Reconciler.Store are required")
	case !ok:
		return nil, fmt.Errorf("%w (%T)", ErrNoLeases, r.Store)
	default:
		return ls, nil
	}
}

// HolderName returns the name this reconciler holds the lease under.
func (r *Reconciler) HolderName() string {
	r.init()
	return r.holder
}

// Stats returns the reconciler's counters.
func (r *Reconciler) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Run makes a pass every Interval until ctx is done, then resigns the
// lease (so another process takes over at once) and returns nil. It
// returns an error at once when the store cannot elect a leader.
func (r *Reconciler) Run(ctx context.Context) error {
	if _, err := r.leases(); err != nil {
		return err
	}
	t := time.NewTicker(r.interval())
	defer t.Stop()
	for {
		r.Pass(ctx)
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			r.Resign(rctx)
			return nil
		case <-t.C:
		}
	}
}

// Resign gives the lease up, if held, so that another reconciler leads
// at once rather than after the lease expires.
func (r *Reconciler) Resign(ctx context.Context) {
	ls, err := r.leases()
	if err != nil {
		return
	}
	r.mu.Lock()
	l := r.lease
	r.mu.Unlock()
	if l.Holder == "" {
		return
	}
	if err := ls.ReleaseLease(ctx, l); err != nil {
		r.log().WarnContext(ctx, "reconcile: release the leader lease", "lease", l.Name, "fence", l.Fence, "err", err)
	}
	r.depose(l.Fence)
}

// depose records that the lease of fence is no longer held.
func (r *Reconciler) depose(fence int64) {
	r.mu.Lock()
	was := r.lease.Holder != "" && r.lease.Fence == fence
	if was {
		r.lease = tfpilot.Lease{}
		r.stats.Leading = false
		r.stats.Deposed++
	}
	r.mu.Unlock()
	if was && r.Hooks.Leadership != nil {
		r.Hooks.Leadership(false, fence)
	}
}

// lead makes sure this reconciler holds the lease: it renews a lease it
// holds once renewal is due, and otherwise tries to acquire it. It
// reports whether this reconciler leads.
func (r *Reconciler) lead(ctx context.Context, ls tfpilot.LeaseStore) bool {
	now := r.now()
	r.mu.Lock()
	l, renewAt := r.lease, r.renewAt
	r.mu.Unlock()
	if l.Holder != "" {
		if now.Before(renewAt) {
			return true
		}
		renewed, err := ls.RenewLease(ctx, l, r.ttl())
		switch {
		case err == nil:
			r.mu.Lock()
			r.lease, r.renewAt = renewed, now.Add(r.ttl()/3)
			r.mu.Unlock()
			return true
		case errors.Is(err, tfpilot.ErrConflict):
			r.log().WarnContext(ctx, "reconcile: lost the leader lease", "lease", l.Name, "fence", l.Fence, "err", err)
			r.depose(l.Fence)
		default:
			// The lease may still hold, but this reconciler cannot tell:
			// it does not act as leader until a renewal succeeds.
			r.log().WarnContext(ctx, "reconcile: renew the leader lease", "lease", l.Name, "fence", l.Fence, "err", err)
			if !now.Before(l.ExpiresAt) {
				r.depose(l.Fence)
			}
			return false
		}
	}
	got, err := ls.AcquireLease(ctx, r.leaseName(), r.HolderName(), r.ttl())
	switch {
	case errors.Is(err, tfpilot.ErrAlreadyExists):
		return false
	case err != nil:
		r.log().WarnContext(ctx, "reconcile: acquire the leader lease", "lease", r.leaseName(), "err", err)
		return false
	}
	r.mu.Lock()
	r.lease, r.renewAt = got, now.Add(r.ttl()/3)
	r.lastSweep = time.Time{}
	r.stats.Leading, r.stats.Fence = true, got.Fence
	r.stats.Elected++
	r.mu.Unlock()
	r.log().InfoContext(ctx, "reconcile: elected leader", "lease", got.Name, "holder", got.Holder, "fence", got.Fence)
	if r.Hooks.Leadership != nil {
		r.Hooks.Leadership(true, got.Fence)
	}
	return true
}

// Pass makes one round: it makes sure of leadership and, as the leader,
// syncs every request in Statuses once, renewing the lease between
// requests when due and stopping as soon as leadership is lost; then it
// prunes when a prune is due. A follower does nothing else. A panic in a
// request's sync is recovered, logged with the request id and counted,
// and the pass goes on with the next request.
func (r *Reconciler) Pass(ctx context.Context) (res PassResult) {
	ls, err := r.leases()
	if err != nil {
		r.log().ErrorContext(ctx, "reconcile: cannot elect a leader", "err", err)
		return res
	}
	defer func() {
		if v := recover(); v != nil {
			res.Panics++
			r.recovered(ctx, "", v)
		}
	}()
	if res.Leading = r.lead(ctx, ls); !res.Leading {
		return res
	}
	r.mu.Lock()
	r.stats.Passes++
	r.mu.Unlock()
	r.syncAll(ctx, ls, &res)
	if ctx.Err() == nil && r.lead(ctx, ls) {
		r.sweepIfDue(ctx, ls)
	}
	if ctx.Err() == nil && r.lead(ctx, ls) {
		res.Pruned = r.pruneIfDue(ctx)
	}
	return res
}

// sweepIfDue walks, once per election and then once per PruneEvery, the
// requests in the statuses the passes do not list (applied, failed, ...)
// for locks: an expired one is cleared by a Sync, an active one is noted
// for a revisit once it expires. It reads the store only; GitHub is
// called just for the few requests that hold an expired lock.
func (r *Reconciler) sweepIfDue(ctx context.Context, ls tfpilot.LeaseStore) {
	if !r.dueEvery(&r.lastSweep, r.PruneEvery) {
		return
	}
	listed := r.Statuses
	if len(listed) == 0 {
		listed = DefaultStatuses()
	}
	var rest []lifecycle.Status
	for _, st := range lifecycle.Statuses() {
		if !slices.Contains(listed, st) {
			rest = append(rest, st)
		}
	}
	if len(rest) == 0 {
		return
	}
	r.walk(ctx, ls, rest, "sweep for locks", func(req *tfpilot.Request) {
		switch {
		case req.Lock == nil:
		case req.Lock.Active(r.now()):
			r.noteLock(req.ID, req)
		default:
			_, _ = r.syncOne(ctx, r.principal(), req.ID) // Sync drops the expired lock
		}
	})
}

// principal is who the reconciler's syncs run as.
func (r *Reconciler) principal() tfpilot.Principal {
	if r.Principal.Login != "" {
		return r.Principal
	}
	return tfpilot.Principal{Login: "tfpilot-reconciler", Roles: []tfpilot.Role{tfpilot.RoleViewer}}
}

func (r *Reconciler) syncAll(ctx context.Context, ls tfpilot.LeaseStore, res *PassResult) {
	who := r.principal()
	statuses := r.Statuses
	if len(statuses) == 0 {
		statuses = DefaultStatuses()
	}
	if !r.walk(ctx, ls, statuses, "list requests", func(req *tfpilot.Request) {
		panicked, err := r.syncOne(ctx, who, req.ID)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err == nil {
			res.Synced++
			r.stats.Synced++
		} else {
			res.Failed++
			r.stats.Failed++
		}
		if panicked {
			res.Panics++
		}
	}) {
		return
	}
	r.mu.Lock()
	var due []string
	now := r.now()
	for id, until := range r.revisit {
		if !now.Before(until) {
			due = append(due, id)
		}
	}
	r.mu.Unlock()
	slices.Sort(due)
	for _, id := range due {
		if ctx.Err() != nil || !r.lead(ctx, ls) {
			return
		}
		if _, err := r.syncOne(ctx, who, id); errors.Is(err, tfpilot.ErrNotFound) {
			r.mu.Lock()
			delete(r.revisit, id)
			r.mu.Unlock()
		}
	}
}

// walk calls fn for every request whose status is one of statuses, page
// by page, while ctx lives and this reconciler leads; what names the walk
// in the log when listing fails. It reports whether it walked them all.
func (r *Reconciler) walk(ctx context.Context, ls tfpilot.LeaseStore, statuses []lifecycle.Status, what string, fn func(*tfpilot.Request)) bool {
	q := tfpilot.ListQuery{Statuses: slices.Clone(statuses), Limit: tfpilot.MaxPageSize}
	for {
		page, err := r.Pilot.List(ctx, r.principal(), q)
		if err != nil {
			if ctx.Err() == nil {
				r.log().WarnContext(ctx, "reconcile: "+what, "err", err)
			}
			return false
		}
		for _, req := range page.Requests {
			if ctx.Err() != nil || !r.lead(ctx, ls) {
				return false
			}
			fn(req.Request)
		}
		if page.NextCursor == "" {
			return true
		}
		q.Cursor = page.NextCursor
	}
}

// dueEvery reports whether every (default [DefaultPruneEvery]) has
// passed since *last, or *last is zero, and if so sets *last to now.
func (r *Reconciler) dueEvery(last *time.Time, every time.Duration) bool {
	if every <= 0 {
		every = DefaultPruneEvery
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !last.IsZero() && now.Before(last.Add(every)) {
		return false
	}
	*last = now
	return true
}

// noteLock records when a request synced with an active lock on it is
// due for a revisit (see Reconciler.revisit), and forgets one synced
// without. (A lock still there once expired is on an archived request,
// which Sync leaves as it is.)
func (r *Reconciler) noteLock(id string, req *tfpilot.Request) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if req == nil || !req.Lock.Active(now) {
		delete(r.revisit, id)
		return
	}
	if r.revisit == nil {
		r.revisit = map[string]time.Time{}
	}
	r.revisit[id] = req.Lock.ExpiresAt
}

// errPanicked is the error of a sync that panicked.
var errPanicked = errors.New("reconcile: sync panicked")

// syncOne syncs request id, recovering a panic.
func (r *Reconciler) syncOne(ctx context.Context, who tfpilot.Principal, id string) (panicked bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			panicked, err = true, fmt.Errorf("%w: request %q: %v", errPanicked, id, v)
			r.recovered(ctx, id, v)
		}
		if r.Hooks.Synced != nil {
			r.Hooks.Synced(id, err)
		}
	}()
	req, err := r.Pilot.Sync(ctx, tfpilot.Caller{Principal: who}, id)
	if err != nil {
		if ctx.Err() == nil {
			r.log().WarnContext(ctx, "reconcile: sync", "request", id, "err", err)
		}
		return false, err
	}
	r.noteLock(id, req.Request)
	return false, nil
}

// recovered logs and counts a recovered panic.
func (r *Reconciler) recovered(ctx context.Context, id string, v any) {
	r.mu.Lock()
	r.stats.Panics++
	r.mu.Unlock()
	r.log().ErrorContext(ctx, "reconcile: recovered a panic", "request", id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if r.Hooks.Panic != nil {
		r.Hooks.Panic(id, v)
	}
}

// pruneIfDue prunes through the store when it is a [store.Pruner] and
// PruneEvery has passed since the last prune (or none was made).
func (r *Reconciler) pruneIfDue(ctx context.Context) store.PruneResult {
	p, ok := r.Store.(store.Pruner)
	if !ok {
		return store.PruneResult{}
	}
	keep := r.Retention
	if keep <= 0 {
		keep = DefaultRetention
	}
	if !r.dueEvery(&r.lastPrune, r.PruneEvery) {
		return store.PruneResult{}
	}
	res, err := p.Prune(ctx, r.now().Add(-keep))
	if err != nil {
		r.log().WarnContext(ctx, "reconcile: prune", "err", err)
	}
	r.mu.Lock()
	r.stats.Pruned.Idempotency += res.Idempotency
	r.stats.Pruned.Deliveries += res.Deliveries
	r.stats.Pruned.Backoffs += res.Backoffs
	r.mu.Unlock()
	return res
}
