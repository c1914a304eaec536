package pgstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

var (
	_ store.Exporter = (*Store)(nil)
	_ store.Importer = (*Store)(nil)
)

// exportPage is how many rows one export query reads. A page is read
// whole and its rows closed before fn sees them, so fn may use the
// store and no connection is held while it runs.
const exportPage = 500

// exportQueries are keyset walks over each table's primary key: each
// takes the last key of the previous page and the page size.
var exportQueries = map[store.ItemKind]string{
	store.KindRequest: `SELECT id, version, doc, raw FROM tfpilot_requests
		WHERE id > $1 ORDER BY id LIMIT $2`,
	store.KindArchivedRequest: `SELECT id, version, doc, raw FROM tfpilot_request_history
		WHERE id > $1 ORDER BY id LIMIT $2`,
	store.KindEvent: `SELECT request_id, id, doc, raw FROM tfpilot_events
		WHERE (request_id, id) > ($1, $2) ORDER BY request_id, id LIMIT $3`,
	store.KindRunIndex: `SELECT kind, run_id, request_id FROM tfpilot_run_index
		WHERE (kind, run_id) > ($1, $2) ORDER BY kind, run_id LIMIT $3`,
	store.KindPRIndex: `SELECT owner, repo, number, request_id FROM tfpilot_pr_index
		WHERE (owner, repo, number) > ($1, $2, $3) ORDER BY owner, repo, number LIMIT $4`,
	store.KindDelivery: `SELECT id, event, claimed_at, completed_at, outcome, raw FROM tfpilot_deliveries
		WHERE id > $1 ORDER BY id LIMIT $2`,
	store.KindIdempotency: `SELECT operation, key, fingerprint, request_id, response, created_at, expires_at FROM tfpilot_idempotency
		WHERE (operation, key) > ($1, $2) ORDER BY operation, key LIMIT $3`,
	store.KindCost: `SELECT request_id, estimate, diff FROM tfpilot_costs
		WHERE request_id > $1 ORDER BY request_id LIMIT $2`,
}

// Export implements [store.Exporter]: it walks each table in primary
// key order, one page of rows at a time.
func (s *Store) Export(ctx context.Context, kind store.ItemKind, fn func(store.Item) error) error {
	query, ok := exportQueries[kind]
	if !ok {
		return wrap(fmt.Sprintf("export %q", kind), store.ErrInvalid)
	}
	op := fmt.Sprintf("export %s", kind)
	// after holds the key of the last row read, in the query's order.
	var after []any
	switch kind {
	case store.KindEvent, store.KindIdempotency:
		after = []any{"", ""}
	case store.KindRunIndex:
		after = []any{"", int64(0)}
	case store.KindPRIndex:
		after = []any{"", "", 0}
	default:
		after = []any{""}
	}
	for {
		items, err := s.exportPage(ctx, kind, query, append(after, exportPage))
		if err != nil {
			return wrap(op, err)
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if len(items) < exportPage {
			return nil
		}
		after = exportKey(items[len(items)-1])
	}
}

// exportKey returns the primary key of it, as the export queries take it.
func exportKey(it store.Item) []any {
	switch it.Kind {
	case store.KindEvent:
		return []any{it.Event.RequestID, it.Event.ID}
	case store.KindRunIndex:
		return []any{string(it.Run.Kind), it.Run.RunID}
	case store.KindPRIndex:
		return []any{it.PR.PR.Owner, it.PR.PR.Repo, it.PR.PR.Number}
	case store.KindIdempotency:
		return []any{it.Idempotency.Operation, it.Idempotency.Key}
	case store.KindCost:
		return []any{it.Cost.RequestID}
	case store.KindDelivery:
		return []any{it.Delivery.ID}
	}
	return []any{it.Request.ID}
}

// exportPage reads one page of kind. Request documents, the costly
// ones to decode, are decoded on as many goroutines as GOMAXPROCS once
// the page's rows are read.
func (s *Store) exportPage(ctx context.Context, kind store.ItemKind, query string, args []any) ([]store.Item, error) {
	rows, err := s.db.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if kind == store.KindRequest || kind == store.KindArchivedRequest {
		return scanRequests(kind, rows)
	}
	var items []store.Item
	for rows.Next() {
		it, err := scanItem(kind, rows)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, rows.Err()
}

// exportedRequest is a request row as stored, not yet decoded.
type exportedRequest struct {
	id      string
	version int64
	doc     []byte
	raw     *string
}

// scanRequests reads rows of request documents and decodes them in
// parallel.
func scanRequests(kind store.ItemKind, rows *sql.Rows) ([]store.Item, error) {
	var stored []exportedRequest
	for rows.Next() {
		var r exportedRequest
		if err := rows.Scan(&r.id, &r.version, &r.doc, &r.raw); err != nil {
			return nil, err
		}
		stored = append(stored, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	items := make([]store.Item, len(stored))
	errs := make([]error, len(stored))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(stored)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(stored); i = int(next.Add(1) - 1) {
				r := stored[i]
				req, err := decodeRequest(r.doc, r.raw, r.version)
				if err != nil {
					errs[i] = fmt.Errorf("decode request %q: %w", r.id, err)
					continue
				}
				items[i] = store.Item{Kind: kind, Request: req}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return items, nil
}

// scanItem reads one row of an export or import query of kind.
func scanItem(kind store.ItemKind, row interface{ Scan(...any) error }) (store.Item, error) {
	it := store.Item{Kind: kind}
	switch kind {
	case store.KindRequest, store.KindArchivedRequest:
		var id string
		var version int64
		var doc []byte
		var raw *string
		if err := row.Scan(&id, &version, &doc, &raw); err != nil {
			return it, err
		}
		r, err := decodeRequest(doc, raw, version)
		if err != nil {
			return it, fmt.Errorf("decode request %q: %w", id, err)
		}
		it.Request = r
	case store.KindEvent:
		var requestID, id string
		var doc []byte
		var raw *string
		if err := row.Scan(&requestID, &id, &doc, &raw); err != nil {
			return it, err
		}
		var e store.Event
		if err := json.Unmarshal(eventDoc(doc, raw), &e); err != nil {
			return it, fmt.Errorf("decode event %q of request %q: %w", id, requestID, err)
		}
		it.Event = &e
	case store.KindRunIndex:
		var e store.RunIndexEntry
		var k string
		if err := row.Scan(&k, &e.RunID, &e.RequestID); err != nil {
			return it, err
		}
		e.Kind = runs.Kind(k)
		it.Run = &e
	case store.KindPRIndex:
		var e store.PRIndexEntry
		if err := row.Scan(&e.PR.Owner, &e.PR.Repo, &e.PR.Number, &e.RequestID); err != nil {
			return it, err
		}
		it.PR = &e
	case store.KindDelivery:
		var d store.Delivery
		var completed sql.NullTime
		var raw *string
		if err := row.Scan(&d.ID, &d.Event, &d.ClaimedAt, &completed, &d.Outcome, &raw); err != nil {
			return it, err
		}
		d = deliveryOf(d.ID, d.Event, d.ClaimedAt, completed.Time, d.Outcome, raw)
		it.Delivery = &d
	case store.KindIdempotency:
		var r store.IdempotencyRecord
		var resp []byte
		if err := row.Scan(&r.Operation, &r.Key, &r.Fingerprint, &r.RequestID, &resp, &r.CreatedAt, &r.ExpiresAt); err != nil {
			return it, err
		}
		if resp != nil {
			r.Response = resp
		}
		it.Idempotency = &r
	case store.KindCost:
		var c store.Cost
		var est, diff []byte
		if err := row.Scan(&c.RequestID, &est, &diff); err != nil {
			return it, err
		}
		if est != nil {
			c.Estimate = est
		}
		if diff != nil {
			c.Diff = diff
		}
		it.Cost = &c
	}
	return it, nil
}

// Import statements. Each inserts the item only if its key is free and
// returns a row when it did. A request is also refused when its id is
// on the other side of the archive.
const (
	importRequestSQL = `INSERT INTO tfpilot_requests (id, project, environment, status, received_at, updated_at, version, doc, raw)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8::jsonb - 'version', $9
		WHERE NOT EXISTS (SELECT 1 FROM tfpilot_request_history WHERE id = $1)
		ON CONFLICT (id) DO NOTHING RETURNING 1`
	importHistorySQL = `INSERT INTO tfpilot_request_history (id, project, environment, received_at, archived_at, version, doc, raw)
		SELECT $1, $2, $3, $4, $5, $6, $7::jsonb - 'version', $8
		WHERE NOT EXISTS (SELECT 1 FROM tfpilot_requests WHERE id = $1)
		ON CONFLICT (id) DO NOTHING RETURNING 1`
	importEventSQL = `INSERT INTO tfpilot_events (request_id, id, ts, doc, raw) VALUES ($1, $2, $3, $4::jsonb, $5)
		ON CONFLICT DO NOTHING RETURNING 1`
	importRunSQL = `INSERT INTO tfpilot_run_index (kind, run_id, request_id, indexed_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING RETURNING 1`
	importPRSQL = `INSERT INTO tfpilot_pr_index (owner, repo, number, request_id, indexed_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING RETURNING 1`
	importDeliverySQL = `INSERT INTO tfpilot_deliveries (id, event, claimed_at, completed_at, outcome, raw) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT DO NOTHING RETURNING 1`
	importIdempotencySQL = `INSERT INTO tfpilot_idempotency (operation, key, fingerprint, request_id, response, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING 1`
	importCostSQL = `INSERT INTO tfpilot_costs (request_id, estimate, diff) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING RETURNING 1`
)

// Look-ups of the stored item under an import's key.
const (
	lookupRequestSQL     = `SELECT id, version, doc, raw FROM tfpilot_requests WHERE id = $1`
	lookupHistorySQL     = `SELECT id, version, doc, raw FROM tfpilot_request_history WHERE id = $1`
	lookupEventSQL       = `SELECT request_id, id, doc, raw FROM tfpilot_events WHERE request_id = $1 AND id = $2`
	lookupRunSQL         = `SELECT kind, run_id, request_id FROM tfpilot_run_index WHERE kind = $1 AND run_id = $2`
	lookupPRSQL          = `SELECT owner, repo, number, request_id FROM tfpilot_pr_index WHERE owner = $1 AND repo = $2 AND number = $3`
	lookupDeliverySQL    = `SELECT id, event, claimed_at, completed_at, outcome, raw FROM tfpilot_deliveries WHERE id = $1`
	lookupIdempotencySQL = `SELECT operation, key, fingerprint, request_id, response, created_at, expires_at FROM tfpilot_idempotency WHERE operation = $1 AND key = $2`
	lookupCostSQL        = `SELECT request_id, estimate, diff FROM tfpilot_costs WHERE request_id = $1`
)

// Import implements [store.Importer] with one INSERT … ON CONFLICT DO
// NOTHING per item; only when it inserts nothing is the stored item read
// and compared. A request's status column is derived at the store's
// clock and its updated_at column is that clock, as on every write; an
// archived request's archived_at is the clock too. Index entries are
// stamped indexed_at with the clock.
func (s *Store) Import(ctx context.Context, it store.Item) (bool, error) {
	if err := it.Check(); err != nil {
		return false, wrap("import", err)
	}
	op := fmt.Sprintf("import %s %s", it.Kind, it.Key())
	now := s.now()
	var query string
	var args []any
	switch it.Kind {
	case store.KindRequest, store.KindArchivedRequest:
		r := it.Request
		b, err := json.Marshal(r)
		if err != nil {
			return false, wrap(op, fmt.Errorf("encode: %w", err))
		}
		doc, raw := requestForms(r, b)
		if it.Kind == store.KindArchivedRequest {
			query, args = importHistorySQL, []any{r.ID, r.Project, r.Environment, r.ReceivedAt, now, r.Version, string(doc), raw}
		} else {
			query, args = importRequestSQL, []any{r.ID, r.Project, r.Environment, string(lifecycle.IndexStatus(r.Facts())), r.ReceivedAt, now, r.Version, string(doc), raw}
		}
	case store.KindEvent:
		doc, err := json.Marshal(it.Event)
		if err != nil {
			return false, wrap(op, fmt.Errorf("encode: %w: %w", store.ErrInvalid, err))
		}
		doc, raw := storedForms(doc) // see rawdoc.go
		query, args = importEventSQL, []any{it.Event.RequestID, it.Event.ID, it.Event.Timestamp, string(doc), raw}
	case store.KindRunIndex:
		query, args = importRunSQL, []any{string(it.Run.Kind), it.Run.RunID, it.Run.RequestID, now}
	case store.KindPRIndex:
		pr := it.PR.PR
		query, args = importPRSQL, []any{pr.Owner, pr.Repo, pr.Number, it.PR.RequestID, now}
	case store.KindDelivery:
		d := it.Delivery
		raw, err := deliveryRaw(*d)
		if err != nil {
			return false, wrap(op, fmt.Errorf("encode: %w: %w", store.ErrInvalid, err))
		}
		query, args = importDeliverySQL, []any{d.ID, d.Event, d.ClaimedAt, sql.NullTime{Time: d.CompletedAt, Valid: !d.CompletedAt.IsZero()}, d.Outcome, raw}
	case store.KindIdempotency:
		r := it.Idempotency
		query, args = importIdempotencySQL, []any{r.Operation, r.Key, r.Fingerprint, r.RequestID, nilIfEmpty(r.Response), r.CreatedAt, r.ExpiresAt}
	case store.KindCost:
		c := it.Cost
		query, args = importCostSQL, []any{c.RequestID, nilIfEmpty(c.Estimate), nilIfEmpty(c.Diff)}
	}
	var one int
	err := s.db.DB.QueryRowContext(ctx, query, args...).Scan(&one)
	switch {
	case err == nil:
		return true, nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, wrap(op, err)
	}
	// Only an import that finds its key taken compares forms.
	want, err := it.Canonical()
	if err != nil {
		return false, wrap(op, err)
	}
	cur, err := s.lookup(ctx, it)
	if err != nil {
		return false, wrap(op, err)
	}
	got, err := cur.Canonical()
	if err != nil {
		return false, wrap(op, fmt.Errorf("stored item: %w", err))
	}
	if cur.Kind != it.Kind || !bytes.Equal(got, want) {
		return false, wrap(op, fmt.Errorf("a different %s is stored: %w", cur.Kind, store.ErrAlreadyExists))
	}
	return false, nil
}

// lookup reads the stored item with it's key (for a request, live or
// archived).
func (s *Store) lookup(ctx context.Context, it store.Item) (store.Item, error) {
	type q struct {
		kind  store.ItemKind
		query string
		args  []any
	}
	var qs []q
	switch it.Kind {
	case store.KindRequest, store.KindArchivedRequest:
		qs = []q{{store.KindRequest, lookupRequestSQL, []any{it.Request.ID}}, {store.KindArchivedRequest, lookupHistorySQL, []any{it.Request.ID}}}
	case store.KindEvent:
		qs = []q{{it.Kind, lookupEventSQL, []any{it.Event.RequestID, it.Event.ID}}}
	case store.KindRunIndex:
		qs = []q{{it.Kind, lookupRunSQL, []any{string(it.Run.Kind), it.Run.RunID}}}
	case store.KindPRIndex:
		qs = []q{{it.Kind, lookupPRSQL, []any{it.PR.PR.Owner, it.PR.PR.Repo, it.PR.PR.Number}}}
	case store.KindDelivery:
		qs = []q{{it.Kind, lookupDeliverySQL, []any{it.Delivery.ID}}}
	case store.KindIdempotency:
		qs = []q{{it.Kind, lookupIdempotencySQL, []any{it.Idempotency.Operation, it.Idempotency.Key}}}
	case store.KindCost:
		qs = []q{{it.Kind, lookupCostSQL, []any{it.Cost.RequestID}}}
	}
	for _, q := range qs {
		cur, err := scanItem(q.kind, s.db.DB.QueryRowContext(ctx, q.query, q.args...))
		switch {
		case err == nil:
			return cur, nil
		case !errors.Is(err, sql.ErrNoRows):
			return store.Item{}, err
		}
	}
	// Inserted nothing, yet nothing is stored: the item was deleted
	// between the two statements, or the insert was refused for a
	// reason a read cannot see.
	return store.Item{}, fmt.Errorf("insert refused but no stored item found: %w", store.ErrConflict)
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
