package store

import (
	"context"
	"time"
)

// A backend may offer two more optional extensions of [Store], found by
// type assertion like [Exporter] and [Importer]:
//
//	leases, ok := s.(store.LeaseStore) // leader election
//	pruner, ok := s.(store.Pruner)     // retention
//
// memstore, pgstore and s3store implement both, and store/storetest
// checks them. The reconcile package elects its leader through
// LeaseStore and calls Pruner.

// Lease is a named, time-limited right held by one holder at a time, as
// [LeaseStore] hands it out.
type Lease struct {
	// Name is the lease's name, e.g. "tfpilot/reconciler".
	Name string
	// Holder is who acquired it; empty once released.
	Holder string
	// Fence is the lease's fencing value: it grows with every
	// acquisition of Name (a takeover, or an acquisition after a
	// release) and is never handed out twice, so a holder that lost the
	// lease without noticing presents an old Fence and is refused.
	Fence int64
	// ExpiresAt is when the lease stops holding, by the store's clock:
	// from that instant on (now >= ExpiresAt) anyone may acquire it.
	ExpiresAt time.Time
}

// Held reports whether l is held at now: it has a holder and has not
// expired.
func (l Lease) Held(now time.Time) bool { return l.Holder != "" && now.Before(l.ExpiresAt) }

// LeaseStore is a [Store] that can elect one holder of a named lease
// among any number of processes sharing it. Time is the store's clock.
// A holder keeps its lease by renewing it before it expires, and must
// stop acting as the holder when a renewal is refused or its own view
// of the expiry passes.
type LeaseStore interface {
	// AcquireLease gives lease name to holder for ttl if nobody holds
	// it: it was never acquired, was released, or has expired (now >=
	// ExpiresAt). The returned Lease carries a Fence greater than any
	// the name had before. Of concurrent acquirers of a free lease
	// exactly one wins. A held lease (by anyone, holder included: use
	// RenewLease) is [ErrAlreadyExists], wrapped with its holder. An
	// empty name or holder, or ttl <= 0, is [ErrInvalid].
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (Lease, error)
	// RenewLease extends l to now+ttl if it is still held under l.Fence
	// (by l.Holder, unexpired) and returns it. A lease that expired, was
	// released, or was acquired again since (a different Fence) is
	// [ErrConflict]: the caller is no longer the holder. ttl <= 0 is
	// [ErrInvalid].
	RenewLease(ctx context.Context, l Lease, ttl time.Duration) (Lease, error)
	// ReleaseLease frees l so that the next AcquireLease wins at once.
	// The stored Fence is kept, so the next holder's is greater. It is
	// [ErrConflict] when the lease was acquired again since (a
	// different Fence), already released, or never acquired; releasing
	// an expired lease nobody took over frees it.
	ReleaseLease(ctx context.Context, l Lease) error
	// GetLease returns lease name as stored, held or not (use
	// [Lease.Held]), or [ErrNotFound] when it was never acquired.
	GetLease(ctx context.Context, name string) (Lease, error)
}

// Pruner is a [Store] that can drop records nobody needs any longer.
// The reconcile package calls it once in a while on the leader.
type Pruner interface {
	// Prune deletes, as of horizon: idempotency records whose window
	// ended at or before it (ExpiresAt <= horizon), deliveries completed
	// at or before it (CompletedAt <= horizon; a claim in progress is
	// never pruned, whatever its age), and rate-limit backoffs, reconcile
	// cooldowns included, that ended at or before it (Until <= horizon).
	// It reports how many of each it deleted. Records written while it
	// runs may or may not be considered; pruning twice is harmless.
	Prune(ctx context.Context, horizon time.Time) (PruneResult, error)
}

// PruneResult counts what a [Pruner.Prune] deleted.
type PruneResult struct {
	Idempotency int
	Deliveries  int
	Backoffs    int
}
