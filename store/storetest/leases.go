package storetest

import (
	"errors"
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

// leaseTests check [store.LeaseStore]. They are skipped for a store
// that does not implement it.
var leaseTests = []test{
	{"Leases/AcquireFreeLeaseStartsAtFenceOne", testLeaseAcquire},
	{"Leases/HeldLeaseRefusesEveryOtherAcquire", testLeaseHeld},
	{"Leases/ExpiresExactlyAtTTL", testLeaseExpiry},
	{"Leases/StaleHolderIsRefusedAfterTakeover", testLeaseStaleHolder},
	{"Leases/RenewExtendsFromNow", testLeaseRenew},
	{"Leases/RenewAfterExpiryIsRefused", testLeaseRenewExpired},
	{"Leases/ReleaseFreesAndFenceKeepsGrowing", testLeaseRelease},
	{"Leases/ConcurrentAcquiresExactlyOneWins", testLeaseRace},
	{"Leases/NamesAreIndependent", testLeaseNames},
	{"Leases/InvalidArguments", testLeaseInvalid},
}

const leaseTTL = 30 * time.Second

func (e *env) leases() store.LeaseStore {
	e.Helper()
	ls, ok := e.s.(store.LeaseStore)
	if !ok {
		e.Skipf("%T does not implement store.LeaseStore", e.s)
	}
	return ls
}

func (e *env) acquire(ls store.LeaseStore, name, holder string) store.Lease {
	e.Helper()
	l, err := ls.AcquireLease(e.ctx, name, holder, leaseTTL)
	if err != nil {
		e.Fatalf("AcquireLease(%q, %q): %v", name, holder, err)
	}
	return l
}

// sameLease fails unless got is want (ExpiresAt compared as instants).
func (e *env) sameLease(what string, got, want store.Lease) {
	e.Helper()
	if got.Name != want.Name || got.Holder != want.Holder || got.Fence != want.Fence || !got.ExpiresAt.Equal(want.ExpiresAt) {
		e.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

func (e *env) storedLease(ls store.LeaseStore, name string) store.Lease {
	e.Helper()
	l, err := ls.GetLease(e.ctx, name)
	if err != nil {
		e.Fatalf("GetLease(%q): %v", name, err)
	}
	return l
}

func testLeaseAcquire(e *env) {
	ls := e.leases()
	_, err := ls.GetLease(e.ctx, "leader")
	e.wantErr("GetLease of a lease never acquired", err, store.ErrNotFound, "leader")
	now := e.clock.Now()
	l := e.acquire(ls, "leader", "a")
	want := store.Lease{Name: "leader", Holder: "a", Fence: 1, ExpiresAt: now.Add(leaseTTL)}
	e.sameLease("AcquireLease", l, want)
	e.sameLease("GetLease", e.storedLease(ls, "leader"), want)
	if !l.Held(now) || l.Held(now.Add(leaseTTL)) {
		e.Errorf("Lease.Held: want held at %v and not at %v", now, now.Add(leaseTTL))
	}
}

func testLeaseHeld(e *env) {
	ls := e.leases()
	l := e.acquire(ls, "leader", "a")
	e.clock.Advance(leaseTTL / 2)
	for _, holder := range []string{"b", "a"} {
		_, err := ls.AcquireLease(e.ctx, "leader", holder, leaseTTL)
		e.wantErr(fmt.Sprintf("AcquireLease by %q of a lease %q holds", holder, "a"), err, store.ErrAlreadyExists, "leader")
	}
	e.sameLease("GetLease after refused acquires", e.storedLease(ls, "leader"), l)
}

// testLeaseExpiry: a lease holds until 1µs before ExpiresAt and is free
// from ExpiresAt on; the takeover gets the next fence.
func testLeaseExpiry(e *env) {
	ls := e.leases()
	e.acquire(ls, "leader", "a")
	e.clock.Advance(leaseTTL - time.Microsecond)
	_, err := ls.AcquireLease(e.ctx, "leader", "b", leaseTTL)
	e.wantErr("AcquireLease 1µs before expiry", err, store.ErrAlreadyExists, "leader")
	at := e.clock.Advance(time.Microsecond)
	l := e.acquire(ls, "leader", "b")
	e.sameLease("AcquireLease at expiry", l, store.Lease{Name: "leader", Holder: "b", Fence: 2, ExpiresAt: at.Add(leaseTTL)})
}

// testLeaseStaleHolder: once another holder took the lease over, the old
// holder's renew and release are refused and change nothing.
func testLeaseStaleHolder(e *env) {
	ls := e.leases()
	old := e.acquire(ls, "leader", "a")
	e.clock.Advance(leaseTTL + time.Second)
	cur := e.acquire(ls, "leader", "b")
	_, err := ls.RenewLease(e.ctx, old, leaseTTL)
	e.wantErr("RenewLease by the stale holder", err, store.ErrConflict, "leader")
	err = ls.ReleaseLease(e.ctx, old)
	e.wantErr("ReleaseLease by the stale holder", err, store.ErrConflict, "leader")
	// Same holder name, old fence: a restarted process reusing its name.
	_, err = ls.RenewLease(e.ctx, store.Lease{Name: "leader", Holder: "b", Fence: old.Fence}, leaseTTL)
	e.wantErr("RenewLease with the current holder's name and an old fence", err, store.ErrConflict, "leader")
	e.sameLease("GetLease after the stale holder's attempts", e.storedLease(ls, "leader"), cur)
	if _, err := ls.RenewLease(e.ctx, cur, leaseTTL); err != nil {
		e.Errorf("RenewLease by the current holder: %v", err)
	}
}

func testLeaseRenew(e *env) {
	ls := e.leases()
	l := e.acquire(ls, "leader", "a")
	at := e.clock.Advance(leaseTTL / 2)
	r, err := ls.RenewLease(e.ctx, l, 2*leaseTTL)
	if err != nil {
		e.Fatalf("RenewLease: %v", err)
	}
	want := store.Lease{Name: "leader", Holder: "a", Fence: l.Fence, ExpiresAt: at.Add(2 * leaseTTL)}
	e.sameLease("RenewLease", r, want)
	e.sameLease("GetLease after RenewLease", e.storedLease(ls, "leader"), want)
	e.clock.Advance(leaseTTL) // past the first expiry, before the renewed one
	_, err = ls.AcquireLease(e.ctx, "leader", "b", leaseTTL)
	e.wantErr("AcquireLease of a renewed lease after its first expiry", err, store.ErrAlreadyExists, "leader")
}

func testLeaseRenewExpired(e *env) {
	ls := e.leases()
	l := e.acquire(ls, "leader", "a")
	e.clock.Advance(leaseTTL)
	_, err := ls.RenewLease(e.ctx, l, leaseTTL)
	e.wantErr("RenewLease at expiry", err, store.ErrConflict, "leader")
	_, err = ls.RenewLease(e.ctx, store.Lease{Name: "never", Holder: "a", Fence: 1}, leaseTTL)
	e.wantErr("RenewLease of a lease never acquired", err, store.ErrConflict, "never")
	if got := e.acquire(ls, "leader", "a"); got.Fence != l.Fence+1 {
		e.Errorf("AcquireLease after a refused renewal: fence %d, want %d", got.Fence, l.Fence+1)
	}
}

func testLeaseRelease(e *env) {
	ls := e.leases()
	a := e.acquire(ls, "leader", "a")
	at := e.clock.Advance(time.Second)
	if err := ls.ReleaseLease(e.ctx, a); err != nil {
		e.Fatalf("ReleaseLease: %v", err)
	}
	got := e.storedLease(ls, "leader")
	if got.Holder != "" || got.Fence != a.Fence || got.Held(at) {
		e.Errorf("GetLease after release = %+v, want no holder, fence %d, not held", got, a.Fence)
	}
	err := ls.ReleaseLease(e.ctx, a)
	e.wantErr("ReleaseLease twice", err, store.ErrConflict, "leader")
	_, err = ls.RenewLease(e.ctx, a, leaseTTL)
	e.wantErr("RenewLease of a released lease", err, store.ErrConflict, "leader")
	b := e.acquire(ls, "leader", "b") // at once: no wait for the TTL
	if b.Fence != a.Fence+1 {
		e.Errorf("AcquireLease after release: fence %d, want %d", b.Fence, a.Fence+1)
	}
	err = ls.ReleaseLease(e.ctx, store.Lease{Name: "never", Holder: "a", Fence: 1})
	e.wantErr("ReleaseLease of a lease never acquired", err, store.ErrConflict, "never")
	// An expired lease nobody took over may still be released.
	e.clock.Advance(2 * leaseTTL)
	if err := ls.ReleaseLease(e.ctx, b); err != nil {
		e.Errorf("ReleaseLease of an expired lease nobody took over: %v", err)
	}
}

// testLeaseRace: of concurrent acquirers of a free lease, and then of
// the expired lease, exactly one wins each time, and the stored lease is
// the winner's with the next fence.
func testLeaseRace(e *env) {
	ls := e.leases()
	holder := func(round, i int) string { return fmt.Sprintf("r%d-h%02d", round, i) }
	for round := range 3 {
		got := make([]store.Lease, concurrency)
		errs := race(concurrency, func(i int) error {
			var err error
			got[i], err = ls.AcquireLease(e.ctx, "leader", holder(round, i), leaseTTL)
			return err
		})
		won := e.winners(errs, store.ErrAlreadyExists)
		if len(won) != 1 {
			e.Fatalf("round %d: %d of %d concurrent acquires won, want exactly 1", round, len(won), concurrency)
		}
		w := got[won[0]]
		want := store.Lease{Name: "leader", Holder: holder(round, won[0]), Fence: int64(round + 1), ExpiresAt: e.clock.Now().Add(leaseTTL)}
		e.sameLease(fmt.Sprintf("round %d: the winner's lease", round), w, want)
		e.sameLease(fmt.Sprintf("round %d: GetLease", round), e.storedLease(ls, "leader"), want)
		e.clock.Advance(leaseTTL)
	}
}

func testLeaseNames(e *env) {
	ls := e.leases()
	a := e.acquire(ls, "one", "a")
	b := e.acquire(ls, "two", "b")
	if a.Fence != 1 || b.Fence != 1 {
		e.Errorf("fences of two fresh names = %d, %d; want 1, 1", a.Fence, b.Fence)
	}
	if err := ls.ReleaseLease(e.ctx, a); err != nil {
		e.Fatalf("ReleaseLease(one): %v", err)
	}
	if got := e.storedLease(ls, "two"); got.Holder != "b" {
		e.Errorf("releasing one freed two: %+v", got)
	}
}

func testLeaseInvalid(e *env) {
	ls := e.leases()
	for _, c := range []struct {
		name, holder string
		ttl          time.Duration
	}{{"", "a", leaseTTL}, {"leader", "", leaseTTL}, {"leader", "a", 0}, {"leader", "a", -time.Second}} {
		_, err := ls.AcquireLease(e.ctx, c.name, c.holder, c.ttl)
		if !errors.Is(err, store.ErrInvalid) {
			e.Errorf("AcquireLease(%q, %q, %v) = %v, want ErrInvalid", c.name, c.holder, c.ttl, err)
		}
	}
	l := e.acquire(ls, "leader", "a")
	if _, err := ls.RenewLease(e.ctx, l, 0); !errors.Is(err, store.ErrInvalid) {
		e.Errorf("RenewLease with ttl 0 = %v, want ErrInvalid", err)
	}
}
