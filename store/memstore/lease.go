package memstore

import (
	"context"
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

var (
	_ store.LeaseStore = (*Store)(nil)
	_ store.Pruner     = (*Store)(nil)
)

// AcquireLease implements [store.LeaseStore]; the mutex makes the
// check and the takeover one step.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (store.Lease, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return store.Lease{}, fmt.Errorf("memstore: acquire lease %q for %q for %v: empty name or holder, or ttl <= 0: %w", name, holder, ttl, store.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return store.Lease{}, fmt.Errorf("memstore: acquire lease %q: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	cur := s.leases[name]
	if cur.Held(now) {
		return store.Lease{}, fmt.Errorf("memstore: acquire lease %q: held by %q until %s: %w", name, cur.Holder, cur.ExpiresAt.Format(time.RFC3339Nano), store.ErrAlreadyExists)
	}
	l := store.Lease{Name: name, Holder: holder, Fence: cur.Fence + 1, ExpiresAt: now.Add(ttl)}
	if s.leases == nil {
		s.leases = make(map[string]store.Lease)
	}
	s.leases[name] = l
	return l, nil
}

// RenewLease implements [store.LeaseStore].
func (s *Store) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	if ttl <= 0 {
		return store.Lease{}, fmt.Errorf("memstore: renew lease %q: ttl %v <= 0: %w", l.Name, ttl, store.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return store.Lease{}, fmt.Errorf("memstore: renew lease %q: %w", l.Name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	cur, ok := s.leases[l.Name]
	if !ok || cur.Fence != l.Fence || cur.Holder != l.Holder || !cur.Held(now) {
		return store.Lease{}, fmt.Errorf("memstore: renew lease %q at fence %d: %s: %w", l.Name, l.Fence, lost(cur, ok, now), store.ErrConflict)
	}
	cur.ExpiresAt = now.Add(ttl)
	s.leases[l.Name] = cur
	return cur, nil
}

// ReleaseLease implements [store.LeaseStore].
func (s *Store) ReleaseLease(ctx context.Context, l store.Lease) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: release lease %q: %w", l.Name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	cur, ok := s.leases[l.Name]
	if !ok || cur.Fence != l.Fence || cur.Holder == "" || cur.Holder != l.Holder {
		return fmt.Errorf("memstore: release lease %q at fence %d: %s: %w", l.Name, l.Fence, lost(cur, ok, now), store.ErrConflict)
	}
	s.leases[l.Name] = store.Lease{Name: l.Name, Fence: cur.Fence, ExpiresAt: now}
	return nil
}

// GetLease implements [store.LeaseStore].
func (s *Store) GetLease(ctx context.Context, name string) (store.Lease, error) {
	if err := ctx.Err(); err != nil {
		return store.Lease{}, fmt.Errorf("memstore: get lease %q: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.leases[name]
	if !ok {
		return store.Lease{}, fmt.Errorf("memstore: get lease %q: %w", name, store.ErrNotFound)
	}
	return cur, nil
}

// lost says why a lease is not held as presented.
func lost(cur store.Lease, ok bool, now time.Time) string {
	switch {
	case !ok:
		return "never acquired"
	case cur.Holder == "":
		return fmt.Sprintf("released (stored fence %d)", cur.Fence)
	case !cur.Held(now):
		return fmt.Sprintf("expired at %s (stored fence %d)", cur.ExpiresAt.Format(time.RFC3339Nano), cur.Fence)
	}
	return fmt.Sprintf("held by %q at fence %d", cur.Holder, cur.Fence)
}

// Prune implements [store.Pruner].
func (s *Store) Prune(ctx context.Context, horizon time.Time) (store.PruneResult, error) {
	if err := ctx.Err(); err != nil {
		return store.PruneResult{}, fmt.Errorf("memstore: prune: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var res store.PruneResult
	for k, rec := range s.idem {
		if !rec.ExpiresAt.After(horizon) {
			delete(s.idem, k)
			res.Idempotency++
		}
	}
	for id, d := range s.deliveries {
		if !d.CompletedAt.IsZero() && !d.CompletedAt.After(horizon) {
			delete(s.deliveries, id)
			res.Deliveries++
		}
	}
	for scope, b := range s.backoffs {
		if !b.Until.After(horizon) {
			delete(s.backoffs, scope)
			res.Backoffs++
		}
	}
	return res, nil
}
