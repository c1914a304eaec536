package s3store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

var (
	_ store.LeaseStore = (*Store)(nil)
	_ store.Pruner     = (*Store)(nil)
)

// leasesDir holds one object per lease: tfpilot/leases/<name>.json.
const leasesDir = "tfpilot/leases/"

func (s *Store) leaseKey(name string) string { return s.prefix + leasesDir + keyPart(name) + ".json" }

// leaseBody is the body of a lease object. It is kept after release
// (empty holder) so that the fence only grows.
type leaseBody struct {
	Name      string    `json:"name"`
	Holder    string    `json:"holder"`
	Fence     int64     `json:"fence"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func (b leaseBody) lease() store.Lease {
	return store.Lease{Name: b.Name, Holder: b.Holder, Fence: b.Fence, ExpiresAt: b.ExpiresAt}
}

// loadLease reads lease name and its ETag; a missing object is
// store.ErrNotFound.
func (s *Store) loadLease(ctx context.Context, name string) (leaseBody, string, error) {
	obj, err := s.get(ctx, s.leaseKey(name))
	switch {
	case isMissing(err):
		return leaseBody{}, "", store.ErrNotFound
	case err != nil:
		return leaseBody{}, "", err
	}
	var b leaseBody
	if err := json.Unmarshal(obj.body, &b); err != nil {
		return leaseBody{}, "", fmt.Errorf("decode %s: %w", s.leaseKey(name), err)
	}
	return b, obj.etag, nil
}

// writeLease writes b under If-None-Match: * when etag is empty, else
// under If-Match: etag. It reports false when the precondition failed:
// someone else wrote the lease since it was read.
func (s *Store) writeLease(ctx context.Context, b leaseBody, etag string) (bool, error) {
	body, err := json.Marshal(b)
	if err != nil {
		return false, err
	}
	_, err = s.put(ctx, s.leaseKey(b.Name), body, cond{ifMatch: etag, ifNoneMatch: etag == ""})
	switch {
	case err == nil:
		return true, nil
	case isPrecondition(err):
		return false, nil
	}
	return false, err
}

// AcquireLease implements [store.LeaseStore]: a read, then a
// conditional write (If-None-Match: * for a new lease, If-Match on the
// ETag read for a takeover), so that of concurrent acquirers exactly one
// writes; the others' preconditions fail and they are refused.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (store.Lease, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return store.Lease{}, fmt.Errorf("s3store: acquire lease %q for %q for %v: empty name or holder, or ttl <= 0: %w", name, holder, ttl, store.ErrInvalid)
	}
	cur, etag, err := s.loadLease(ctx, name)
	if err != nil && err != store.ErrNotFound {
		return store.Lease{}, fmt.Errorf("s3store: acquire lease %q: %w", name, err)
	}
	now := s.now()
	if cur.lease().Held(now) {
		return store.Lease{}, fmt.Errorf("s3store: acquire lease %q: held by %q until %s: %w", name, cur.Holder, cur.ExpiresAt.Format(time.RFC3339Nano), store.ErrAlreadyExists)
	}
	next := leaseBody{Name: name, Holder: holder, Fence: cur.Fence + 1, ExpiresAt: now.Add(ttl)}
	ok, err := s.writeLease(ctx, next, etag)
	switch {
	case err != nil:
		return store.Lease{}, fmt.Errorf("s3store: acquire lease %q: %w", name, err)
	case !ok:
		return store.Lease{}, fmt.Errorf("s3store: acquire lease %q: taken by a concurrent acquirer: %w", name, store.ErrAlreadyExists)
	}
	return next.lease(), nil
}

// checkHeld returns the stored lease and its ETag if l is still held as
// presented, else an error wrapping store.ErrConflict.
func (s *Store) checkHeld(ctx context.Context, l store.Lease, needUnexpired bool) (leaseBody, string, error) {
	cur, etag, err := s.loadLease(ctx, l.Name)
	switch {
	case err == store.ErrNotFound:
		return leaseBody{}, "", fmt.Errorf("never acquired: %w", store.ErrConflict)
	case err != nil:
		return leaseBody{}, "", err
	case cur.Fence != l.Fence || cur.Holder == "" || cur.Holder != l.Holder:
		return leaseBody{}, "", fmt.Errorf("stored holder %q at fence %d: %w", cur.Holder, cur.Fence, store.ErrConflict)
	case needUnexpired && !cur.lease().Held(s.now()):
		return leaseBody{}, "", fmt.Errorf("expired at %s: %w", cur.ExpiresAt.Format(time.RFC3339Nano), store.ErrConflict)
	}
	return cur, etag, nil
}

// RenewLease implements [store.LeaseStore]: a read, a check of the
// fence, and a write under If-Match.
func (s *Store) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	if ttl <= 0 {
		return store.Lease{}, fmt.Errorf("s3store: renew lease %q: ttl %v <= 0: %w", l.Name, ttl, store.ErrInvalid)
	}
	cur, etag, err := s.checkHeld(ctx, l, true)
	if err != nil {
		return store.Lease{}, fmt.Errorf("s3store: renew lease %q at fence %d: %w", l.Name, l.Fence, err)
	}
	cur.ExpiresAt = s.now().Add(ttl)
	ok, err := s.writeLease(ctx, cur, etag)
	switch {
	case err != nil:
		return store.Lease{}, fmt.Errorf("s3store: renew lease %q at fence %d: %w", l.Name, l.Fence, err)
	case !ok:
		return store.Lease{}, fmt.Errorf("s3store: renew lease %q at fence %d: changed concurrently: %w", l.Name, l.Fence, store.ErrConflict)
	}
	return cur.lease(), nil
}

// ReleaseLease implements [store.LeaseStore]: the object is kept with
// no holder, written under If-Match.
func (s *Store) ReleaseLease(ctx context.Context, l store.Lease) error {
	cur, etag, err := s.checkHeld(ctx, l, false)
	if err != nil {
		return fmt.Errorf("s3store: release lease %q at fence %d: %w", l.Name, l.Fence, err)
	}
	ok, err := s.writeLease(ctx, leaseBody{Name: cur.Name, Fence: cur.Fence, ExpiresAt: s.now()}, etag)
	switch {
	case err != nil:
		return fmt.Errorf("s3store: release lease %q at fence %d: %w", l.Name, l.Fence, err)
	case !ok:
		return fmt.Errorf("s3store: release lease %q at fence %d: changed concurrently: %w", l.Name, l.Fence, store.ErrConflict)
	}
	return nil
}

// GetLease implements [store.LeaseStore].
func (s *Store) GetLease(ctx context.Context, name string) (store.Lease, error) {
	b, _, err := s.loadLease(ctx, name)
	if err != nil {
		return store.Lease{}, fmt.Errorf("s3store: get lease %q: %w", name, err)
	}
	return b.lease(), nil
}

// Prune implements [store.Pruner]: it lists the idempotency, delivery
// and rate-limit prefixes, reads each object and deletes the ones past
// the horizon under If-Match on the ETag read, so that an object
// rewritten meanwhile (a key reused, a delivery reclaimed) is kept.
func (s *Store) Prune(ctx context.Context, horizon time.Time) (store.PruneResult, error) {
	var out store.PruneResult
	for _, d := range []struct {
		n      *int
		dir    string
		prunes func(obj object) bool
	}{
		{&out.Idempotency, idempotencyDir, func(obj object) bool {
			var b idempotencyBody
			return json.Unmarshal(obj.body, &b) == nil && !b.ExpiresAt.IsZero() && !b.ExpiresAt.After(horizon)
		}},
		{&out.Deliveries, deliveriesDir, func(obj object) bool {
			d := decodeDelivery("", obj)
			return !d.CompletedAt.IsZero() && !d.CompletedAt.After(horizon)
		}},
		{&out.Backoffs, rateLimitDir, func(obj object) bool {
			var l struct{ Until, BackoffUntil, ResetAt json.RawMessage }
			if json.Unmarshal(obj.body, &l) != nil {
				return false
			}
			until := legacyTime(time.Time{}, l.Until, l.BackoffUntil, l.ResetAt)
			return !until.IsZero() && !until.After(horizon)
		}},
	} {
		n, err := s.pruneDir(ctx, s.prefix+d.dir, d.prunes)
		*d.n = n
		if err != nil {
			return out, fmt.Errorf("s3store: prune %s as of %s: %w", strings.TrimSuffix(d.dir, "/"), horizon.Format(time.RFC3339Nano), err)
		}
	}
	return out, nil
}

// pruneDir deletes every object under prefix for which prunes is true,
// and returns how many it deleted.
func (s *Store) pruneDir(ctx context.Context, prefix string, prunes func(object) bool) (int, error) {
	keys, err := s.listAll(ctx, prefix)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		obj, err := s.get(ctx, k.key)
		switch {
		case isMissing(err):
			continue
		case err != nil:
			return n, err
		case !prunes(obj):
			continue
		}
		switch err := s.del(ctx, k.key, obj.etag); {
		case err == nil:
			n++
		case isPrecondition(err):
			// Rewritten or deleted since it was read: not ours to drop.
		default:
			return n, err
		}
	}
	return n, nil
}
