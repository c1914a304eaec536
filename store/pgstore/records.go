package pgstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

type eventRow struct {
	bun.BaseModel `bun:"table:tfpilot_events"`

	RequestID string          `bun:"request_id,pk"`
	ID        string          `bun:"id,pk"`
	TS        time.Time       `bun:"ts"`
	Doc       json.RawMessage `bun:"doc,type:jsonb"`
	Raw       *string         `bun:"raw"` // see rawdoc.go
}

type prIndexRow struct {
	bun.BaseModel `bun:"table:tfpilot_pr_index"`

	Owner     string    `bun:"owner,pk"`
	Repo      string    `bun:"repo,pk"`
	Number    int       `bun:"number,pk"`
	RequestID string    `bun:"request_id"`
	IndexedAt time.Time `bun:"indexed_at"`
}

type deliveryRow struct {
	bun.BaseModel `bun:"table:tfpilot_deliveries"`

	ID          string    `bun:"id,pk"`
	Event       string    `bun:"event"`
	ClaimedAt   time.Time `bun:"claimed_at"`
	CompletedAt time.Time `bun:"completed_at,nullzero"`
	Outcome     string    `bun:"outcome"`
	Raw         *string   `bun:"raw"` // see deliveryRaw
}

type idempotencyRow struct {
	bun.BaseModel `bun:"table:tfpilot_idempotency"`

	Operation   string    `bun:"operation,pk"`
	Key         string    `bun:"key,pk"`
	Fingerprint string    `bun:"fingerprint"`
	RequestID   string    `bun:"request_id"`
	Response    []byte    `bun:"response,type:bytea"`
	CreatedAt   time.Time `bun:"created_at"`
	ExpiresAt   time.Time `bun:"expires_at"`
}

type rateLimitRow struct {
	bun.BaseModel `bun:"table:tfpilot_rate_limits"`

	Scope  string    `bun:"scope,pk"`
	Until  time.Time `bun:"until"`
	Reason string    `bun:"reason"`
}

type costRow struct {
	bun.BaseModel `bun:"table:tfpilot_costs"`

	RequestID string `bun:"request_id,pk"`
	Estimate  []byte `bun:"estimate,type:bytea"`
	Diff      []byte `bun:"diff,type:bytea"`
}

// wrote reports whether a statement changed a row (an INSERT ... ON
// CONFLICT DO NOTHING that inserted, an UPDATE or DELETE that matched).
func wrote(res interface{ RowsAffected() (int64, error) }) (bool, error) {
	n, err := res.RowsAffected()
	return n > 0, err
}

// AppendEvent implements [store.EventStore]. An assigned id is the
// timestamp and a random suffix.
func (s *Store) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	op := fmt.Sprintf("append event %q to request %q", e.ID, e.RequestID)
	if e.RequestID == "" || e.Event == "" {
		return store.Event{}, wrap(op, fmt.Errorf("empty request id or event name: %w", store.ErrInvalid))
	}
	if e.Timestamp.IsZero() {
		e.Timestamp = s.now()
	}
	if e.ID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		e.ID = e.Timestamp.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(b[:])
		op = fmt.Sprintf("append event %q to request %q", e.ID, e.RequestID)
	}
	doc, err := json.Marshal(e)
	if err != nil {
		return store.Event{}, wrap(op, fmt.Errorf("encode: %w: %w", store.ErrInvalid, err))
	}
	exact := doc
	doc, raw := storedForms(doc)                                                                           // see rawdoc.go
	res, err := s.db.DB.ExecContext(ctx, appendEventSQL, e.RequestID, e.ID, e.Timestamp, string(doc), raw) // hotsql.go
	if err != nil {
		return store.Event{}, wrap(op, err)
	}
	if ok, err := wrote(res); err != nil || !ok {
		return store.Event{}, wrap(op, orElse(err, store.ErrAlreadyExists))
	}
	// Return what a reader gets back: Data through JSON.
	var out store.Event
	if err := json.Unmarshal(exact, &out); err != nil {
		return store.Event{}, wrap(op, err)
	}
	return out, nil
}

func orElse(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// ListEvents implements [store.EventStore].
func (s *Store) ListEvents(ctx context.Context, requestID string) ([]store.Event, error) {
	op := fmt.Sprintf("list events of request %q", requestID)
	var rows []eventRow
	if err := s.db.NewSelect().Model(&rows).Column("doc", "raw").Where("request_id = ?", requestID).OrderExpr("ts, id").Scan(ctx); err != nil {
		return nil, wrap(op, err)
	}
	out := make([]store.Event, len(rows))
	for i, r := range rows {
		if err := json.Unmarshal(eventDoc(r.Doc, r.Raw), &out[i]); err != nil {
			return nil, wrap(op, err)
		}
	}
	return out, nil
}

// IndexRun implements [store.RunIndex].
func (s *Store) IndexRun(ctx context.Context, kind runs.Kind, runID int64, requestID string) error {
	op := fmt.Sprintf("index %s run %d to request %q", kind, runID, requestID)
	if !kind.Valid() || runID <= 0 || requestID == "" {
		return wrap(op, store.ErrInvalid)
	}
	res, err := s.db.DB.ExecContext(ctx, indexRunSQL, string(kind), runID, requestID, s.now()) // hotsql.go
	if err != nil {
		return wrap(op, err)
	}
	if ok, err := wrote(res); err != nil || ok {
		return wrapIf(op, err)
	}
	cur, err := s.LookupRun(ctx, kind, runID)
	if err != nil || cur == requestID {
		return wrapIf(op, err)
	}
	return wrap(op, fmt.Errorf("held by request %q: %w", cur, store.ErrAlreadyExists))
}

func wrapIf(op string, err error) error {
	if err == nil {
		return nil
	}
	return wrap(op, err)
}

// LookupRun implements [store.RunIndex].
func (s *Store) LookupRun(ctx context.Context, kind runs.Kind, runID int64) (string, error) {
	var id string
	err := s.db.DB.QueryRowContext(ctx, runRequestSQL, string(kind), runID).Scan(&id) // hotsql.go
	if err != nil {
		return "", wrap(fmt.Sprintf("look up %s run %d", kind, runID), err)
	}
	return id, nil
}

// IndexPR implements [store.PRIndex].
func (s *Store) IndexPR(ctx context.Context, pr store.PRRef, requestID string) error {
	op := fmt.Sprintf("index PR %s/%s#%d to request %q", pr.Owner, pr.Repo, pr.Number, requestID)
	if pr.Owner == "" || pr.Repo == "" || pr.Number <= 0 || requestID == "" {
		return wrap(op, store.ErrInvalid)
	}
	res, err := s.db.DB.ExecContext(ctx, indexPRSQL, pr.Owner, pr.Repo, pr.Number, requestID, s.now()) // hotsql.go
	if err != nil {
		return wrap(op, err)
	}
	if ok, err := wrote(res); err != nil || ok {
		return wrapIf(op, err)
	}
	cur, err := s.LookupPR(ctx, pr)
	if err != nil || cur == requestID {
		return wrapIf(op, err)
	}
	return wrap(op, fmt.Errorf("held by request %q: %w", cur, store.ErrAlreadyExists))
}

// LookupPR implements [store.PRIndex].
func (s *Store) LookupPR(ctx context.Context, pr store.PRRef) (string, error) {
	var id string
	err := s.db.DB.QueryRowContext(ctx, prRequestSQL, pr.Owner, pr.Repo, pr.Number).Scan(&id) // hotsql.go
	if err != nil {
		return "", wrap(fmt.Sprintf("look up PR %s/%s#%d", pr.Owner, pr.Repo, pr.Number), err)
	}
	return id, nil
}

// ClaimDelivery implements [store.DeliveryStore] with one statement:
// insert, or take over an in-progress claim at least
// [store.DeliveryClaimTTL] old. The delivery id is the primary key, so
// of concurrent claims exactly one inserts; of concurrent reclaims of a
// stale row, the first locks it and the others, re-checking the row it
// wrote, find it fresh and change nothing. The claim time is truncated
// to the microsecond PostgreSQL keeps, so the fencing value returned is
// the one stored.
func (s *Store) ClaimDelivery(ctx context.Context, id, event string) (time.Time, error) {
	op := fmt.Sprintf("claim delivery %q", id)
	if id == "" {
		return time.Time{}, wrap(op, store.ErrInvalid)
	}
	now := s.now().Truncate(time.Microsecond)
	res, err := s.db.DB.ExecContext(ctx, claimSQL, id, event, now, now.Add(-store.DeliveryClaimTTL)) // hotsql.go
	if err != nil {
		return time.Time{}, wrap(op, err)
	}
	if ok, err := wrote(res); err != nil || !ok {
		return time.Time{}, wrap(op, orElse(err, store.ErrAlreadyExists))
	}
	return now, nil
}

// CompleteDelivery implements [store.DeliveryStore]: one update fenced
// on the claim time.
func (s *Store) CompleteDelivery(ctx context.Context, id string, claim time.Time, outcome string) error {
	op := fmt.Sprintf("complete delivery %q", id)
	res, err := s.db.DB.ExecContext(ctx, completeDeliverySQL, id, claim, s.now(), outcome) // hotsql.go
	if err != nil {
		return wrap(op, err)
	}
	if ok, err := wrote(res); err != nil || ok {
		return wrapIf(op, err)
	}
	exists, err := s.db.NewSelect().Model((*deliveryRow)(nil)).Where("id = ?", id).Exists(ctx)
	switch {
	case err != nil:
		return wrap(op, err)
	case exists:
		return wrap(op, fmt.Errorf("claimed again since %s: %w", claim.Format(time.RFC3339Nano), store.ErrConflict))
	}
	return wrap(op, store.ErrNotFound)
}

// ReleaseDelivery implements [store.DeliveryStore]: one delete fenced
// on the claim time.
func (s *Store) ReleaseDelivery(ctx context.Context, id string, claim time.Time) error {
	op := fmt.Sprintf("release delivery %q", id)
	res, err := s.db.NewDelete().Model((*deliveryRow)(nil)).Where("id = ?", id).Where("completed_at IS NULL").
		Where("claimed_at = ?", claim).Exec(ctx)
	if err != nil {
		return wrap(op, err)
	}
	if ok, err := wrote(res); err != nil || ok {
		return wrapIf(op, err)
	}
	var d deliveryRow
	err = s.db.NewSelect().Model(&d).Where("id = ?", id).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return wrap(op, err)
	case !d.CompletedAt.IsZero():
		return wrap(op, fmt.Errorf("completed: %w", store.ErrConflict))
	}
	return wrap(op, fmt.Errorf("claimed again since %s: %w", claim.Format(time.RFC3339Nano), store.ErrConflict))
}

// GetDelivery implements [store.DeliveryStore].
func (s *Store) GetDelivery(ctx context.Context, id string) (store.Delivery, error) {
	var d deliveryRow
	if err := s.db.NewSelect().Model(&d).Where("id = ?", id).Scan(ctx); err != nil {
		return store.Delivery{}, wrap(fmt.Sprintf("get delivery %q", id), err)
	}
	return deliveryOf(d.ID, d.Event, d.ClaimedAt, d.CompletedAt, d.Outcome, d.Raw), nil
}

// PutIdempotency implements [store.IdempotencyStore] with one
// statement: insert, or replace a record whose window has ended.
func (s *Store) PutIdempotency(ctx context.Context, rec store.IdempotencyRecord) error {
	op := fmt.Sprintf("put idempotency record %q/%q", rec.Operation, rec.Key)
	if rec.Operation == "" || rec.Key == "" || rec.ExpiresAt.IsZero() {
		return wrap(op, fmt.Errorf("empty operation, key or expiry: %w", store.ErrInvalid))
	}
	now := s.now()
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = now
	}
	row := &idempotencyRow{Operation: rec.Operation, Key: rec.Key, Fingerprint: rec.Fingerprint, RequestID: rec.RequestID,
		Response: rec.Response, CreatedAt: rec.CreatedAt, ExpiresAt: rec.ExpiresAt}
	res, err := s.db.NewInsert().Model(row).
		On("CONFLICT (operation, key) DO UPDATE").
		Set("fingerprint = EXCLUDED.fingerprint, request_id = EXCLUDED.request_id, response = EXCLUDED.response").
		Set("created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at").
		Where("idempotency_row.expires_at <= ?", now).
		Exec(ctx)
	if err != nil {
		return wrap(op, err)
	}
	if ok, err := wrote(res); err != nil || !ok {
		return wrap(op, orElse(err, store.ErrAlreadyExists))
	}
	return nil
}

// GetIdempotency implements [store.IdempotencyStore].
func (s *Store) GetIdempotency(ctx context.Context, operation, key string) (store.IdempotencyRecord, error) {
	var r idempotencyRow
	err := s.db.NewSelect().Model(&r).Where("operation = ?", operation).Where("key = ?", key).Where("expires_at > ?", s.now()).Scan(ctx)
	if err != nil {
		return store.IdempotencyRecord{}, wrap(fmt.Sprintf("get idempotency record %q/%q", operation, key), err)
	}
	return store.IdempotencyRecord{Operation: r.Operation, Key: r.Key, Fingerprint: r.Fingerprint, RequestID: r.RequestID,
		Response: r.Response, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}, nil
}

// SetRateLimitBackoff implements [store.RateLimitStore].
func (s *Store) SetRateLimitBackoff(ctx context.Context, b store.RateLimitBackoff) error {
	op := fmt.Sprintf("set rate-limit backoff %q", b.Scope)
	if b.Scope == "" {
		return wrap(op, fmt.Errorf("empty scope: %w", store.ErrInvalid))
	}
	_, err := s.db.NewInsert().Model(&rateLimitRow{Scope: b.Scope, Until: b.Until, Reason: b.Reason}).
		On("CONFLICT (scope) DO UPDATE").Set("until = EXCLUDED.until, reason = EXCLUDED.reason").Exec(ctx)
	return wrapIf(op, err)
}

// GetRateLimitBackoff implements [store.RateLimitStore].
func (s *Store) GetRateLimitBackoff(ctx context.Context, scope string) (store.RateLimitBackoff, error) {
	var r rateLimitRow
	if err := s.db.NewSelect().Model(&r).Where("scope = ?", scope).Scan(ctx); err != nil {
		return store.RateLimitBackoff{}, wrap(fmt.Sprintf("get rate-limit backoff %q", scope), err)
	}
	return store.RateLimitBackoff{Scope: r.Scope, Until: r.Until, Reason: r.Reason}, nil
}

// PutCost implements [store.CostStore]. The documents are kept byte
// for byte; an empty one leaves the stored one as it is.
func (s *Store) PutCost(ctx context.Context, c store.Cost) error {
	op := fmt.Sprintf("put cost of request %q", c.RequestID)
	if c.RequestID == "" {
		return wrap(op, fmt.Errorf("empty request id: %w", store.ErrInvalid))
	}
	if len(c.Estimate) == 0 && len(c.Diff) == 0 {
		if err := ctx.Err(); err != nil {
			return wrap(op, err)
		}
		return nil
	}
	row := &costRow{RequestID: c.RequestID}
	if len(c.Estimate) > 0 {
		row.Estimate = c.Estimate
	}
	if len(c.Diff) > 0 {
		row.Diff = c.Diff
	}
	_, err := s.db.NewInsert().Model(row).
		On("CONFLICT (request_id) DO UPDATE").
		Set("estimate = COALESCE(EXCLUDED.estimate, cost_row.estimate), diff = COALESCE(EXCLUDED.diff, cost_row.diff)").
		Exec(ctx)
	return wrapIf(op, err)
}

// GetCost implements [store.CostStore].
func (s *Store) GetCost(ctx context.Context, requestID string) (store.Cost, error) {
	var r costRow
	if err := s.db.NewSelect().Model(&r).Where("request_id = ?", requestID).Scan(ctx); err != nil {
		return store.Cost{}, wrap(fmt.Sprintf("get cost of request %q", requestID), err)
	}
	return store.Cost{RequestID: r.RequestID, Estimate: r.Estimate, Diff: r.Diff}, nil
}
