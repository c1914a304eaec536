package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tfpilot/tfpilot/store"
)

var (
	_ store.LeaseStore = (*Store)(nil)
	_ store.Pruner     = (*Store)(nil)
)

type leaseRow struct {
	bun.BaseModel `bun:"table:tfpilot_leases"`

	Name      string    `bun:"name,pk"`
	Holder    string    `bun:"holder"`
	Fence     int64     `bun:"fence"`
	ExpiresAt time.Time `bun:"expires_at"`
}

func (r leaseRow) lease() store.Lease {
	return store.Lease{Name: r.Name, Holder: r.Holder, Fence: r.Fence, ExpiresAt: r.ExpiresAt}
}

// AcquireLease implements [store.LeaseStore] with one statement:
// insert at fence 1, or take over a free row with the next fence. The
// name is the primary key, so of concurrent acquirers of an absent
// lease one inserts; of concurrent takeovers of a free row the first
// locks it and the others, re-checking the row it wrote, find it held
// and change nothing.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (store.Lease, error) {
	op := fmt.Sprintf("acquire lease %q for %q", name, holder)
	if name == "" || holder == "" || ttl <= 0 {
		return store.Lease{}, wrap(op, fmt.Errorf("empty name or holder, or ttl %v <= 0: %w", ttl, store.ErrInvalid))
	}
	now := s.now()
	var row leaseRow
	err := s.db.NewRaw(`INSERT INTO tfpilot_leases AS l (name, holder, fence, expires_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, fence = l.fence + 1, expires_at = EXCLUDED.expires_at
		WHERE l.holder = '' OR l.expires_at <= ?
		RETURNING name, holder, fence, expires_at`, name, holder, now.Add(ttl), now).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		cur, gerr := s.GetLease(ctx, name)
		if gerr != nil {
			return store.Lease{}, wrap(op, fmt.Errorf("held: %w", store.ErrAlreadyExists))
		}
		return store.Lease{}, wrap(op, fmt.Errorf("held by %q until %s: %w", cur.Holder, cur.ExpiresAt.Format(time.RFC3339Nano), store.ErrAlreadyExists))
	}
	if err != nil {
		return store.Lease{}, wrap(op, err)
	}
	return row.lease(), nil
}

// RenewLease implements [store.LeaseStore] with one conditional
// update.
func (s *Store) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	op := fmt.Sprintf("renew lease %q at fence %d", l.Name, l.Fence)
	if ttl <= 0 {
		return store.Lease{}, wrap(op, fmt.Errorf("ttl %v <= 0: %w", ttl, store.ErrInvalid))
	}
	now := s.now()
	var row leaseRow
	err := s.db.NewRaw(`UPDATE tfpilot_leases SET expires_at = ?
		WHERE name = ? AND fence = ? AND holder = ? AND holder <> '' AND expires_at > ?
		RETURNING name, holder, fence, expires_at`, now.Add(ttl), l.Name, l.Fence, l.Holder, now).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Lease{}, wrap(op, fmt.Errorf("not held under this fence: %w", store.ErrConflict))
	}
	if err != nil {
		return store.Lease{}, wrap(op, err)
	}
	return row.lease(), nil
}

// ReleaseLease implements [store.LeaseStore] with one conditional
// update that keeps the row, and so the fence.
func (s *Store) ReleaseLease(ctx context.Context, l store.Lease) error {
	op := fmt.Sprintf("release lease %q at fence %d", l.Name, l.Fence)
	res, err := s.db.NewRaw(`UPDATE tfpilot_leases SET holder = '', expires_at = ?
		WHERE name = ? AND fence = ? AND holder = ? AND holder <> ''`, s.now(), l.Name, l.Fence, l.Holder).Exec(ctx)
	if err != nil {
		return wrap(op, err)
	}
	if ok, err := wrote(res); err != nil || !ok {
		return wrap(op, orElse(err, fmt.Errorf("not held under this fence: %w", store.ErrConflict)))
	}
	return nil
}

// GetLease implements [store.LeaseStore].
func (s *Store) GetLease(ctx context.Context, name string) (store.Lease, error) {
	var row leaseRow
	if err := s.db.NewSelect().Model(&row).Where("name = ?", name).Scan(ctx); err != nil {
		return store.Lease{}, wrap(fmt.Sprintf("get lease %q", name), err)
	}
	return row.lease(), nil
}

// Prune implements [store.Pruner] with one delete per table, in one
// transaction.
func (s *Store) Prune(ctx context.Context, horizon time.Time) (store.PruneResult, error) {
	var out store.PruneResult
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, d := range []struct {
			n   *int
			sql string
		}{
			{&out.Idempotency, `DELETE FROM tfpilot_idempotency WHERE expires_at <= ?`},
			{&out.Deliveries, `DELETE FROM tfpilot_deliveries WHERE completed_at IS NOT NULL AND completed_at <= ?`},
			{&out.Backoffs, `DELETE FROM tfpilot_rate_limits WHERE until <= ?`},
		} {
			res, err := tx.NewRaw(d.sql, horizon).Exec(ctx)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			*d.n = int(n)
		}
		return nil
	})
	if err != nil {
		return store.PruneResult{}, wrap(fmt.Sprintf("prune as of %s", horizon.Format(time.RFC3339Nano)), err)
	}
	return out, nil
}
