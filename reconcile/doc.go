// Package reconcile keeps every request moving when webhooks are lost:
// a [Reconciler] syncs, at an interval, each request that may still
// change (every status but applied and failed), so a review, merge or
// run finished in GitHub's UI whose webhook never arrived is picked up.
// Sync's conditional (ETag) reads cost no rate-limit units, so an idle
// request costs next to nothing.
//
// Run one Reconciler in every replica: they elect one leader through
// the store's [tfpilot.LeaseStore] (a lease with a fencing value; every
// backend in store/ implements it), and only the leader syncs. The
// leader renews its lease as it goes and stops at once when a renewal
// is refused; a replica that dies is replaced when its lease expires,
// and one that stops cleanly resigns so another takes over at once.
// The leader also prunes expired records through [github.com/tfpilot/tfpilot/store.Pruner].
//
// No lock is left behind by a holder that died: an expired lock is no
// lock, and any write of facts drops it; beyond that, the leader revisits
// each request it last saw locked once the lock has expired, whatever
// its status, and once per election and per PruneEvery it walks the
// statuses it does not sync (reading the store only) for locks, so a new
// leader finds those its dead predecessor knew of.
//
//	rec := &reconcile.Reconciler{Pilot: pilot, Store: store, Logger: log}
//	go rec.Run(ctx)
//
// A panic in a request's sync (or anywhere in a pass) is recovered,
// logged with the request id, counted in [Stats] and reported to
// [Hooks].Panic; the pass goes on with the next request. [Hooks] and
// [Reconciler.Stats] are what a server turns into metrics.
//
// Errors: [Reconciler.Run] returns [ErrNoLeases] (check with errors.Is)
// when the store cannot elect a leader; everything else is logged, as
// background work has no caller to return it to.
package reconcile
