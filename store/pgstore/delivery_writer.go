package pgstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// The [store.DeliveryWriter] extension: a webhook delivery that
// changes a request costs three round trips (the claim, the index
// lookup with the read, and one statement that writes the request,
// records its events and completes the delivery) instead of one per
// step. The statements are single SQL statements (data-modifying CTEs),
// so each is atomic without an explicit transaction's BEGIN and COMMIT
// round trips.

var _ store.DeliveryWriter = (*Store)(nil)

// lookupRunRequestSQL reads the run index entry ($1 kind, $2 run id) and
// the request it names; the request columns are NULL when it is absent.
const lookupRunRequestSQL = `SELECT ix.request_id, r.version, r.doc, r.raw
FROM tfpilot_run_index ix LEFT JOIN tfpilot_requests r ON r.id = ix.request_id
WHERE ix.kind = $1 AND ix.run_id = $2`

// lookupPRRequestSQL is lookupRunRequestSQL for the pull-request index
// ($1 owner, $2 repo, $3 number).
const lookupPRRequestSQL = `SELECT ix.request_id, r.version, r.doc, r.raw
FROM tfpilot_pr_index ix LEFT JOIN tfpilot_requests r ON r.id = ix.request_id
WHERE ix.owner = $1 AND ix.repo = $2 AND ix.number = $3`

// LookupRunRequest implements [store.DeliveryWriter] with one query.
func (s *Store) LookupRunRequest(ctx context.Context, kind runs.Kind, runID int64) (string, *store.Request, error) {
	op := fmt.Sprintf("look up %s run %d", kind, runID)
	return s.lookupRequest(ctx, op, lookupRunRequestSQL, string(kind), runID)
}

// LookupPRRequest implements [store.DeliveryWriter] with one query.
func (s *Store) LookupPRRequest(ctx context.Context, pr store.PRRef) (string, *store.Request, error) {
	op := fmt.Sprintf("look up PR %s/%s#%d", pr.Owner, pr.Repo, pr.Number)
	return s.lookupRequest(ctx, op, lookupPRRequestSQL, pr.Owner, pr.Repo, pr.Number)
}

func (s *Store) lookupRequest(ctx context.Context, op, query string, args ...any) (string, *store.Request, error) {
	var (
		id      string
		version sql.NullInt64
		doc     []byte
		raw     *string
	)
	if err := s.db.DB.QueryRowContext(ctx, query, args...).Scan(&id, &version, &doc, &raw); err != nil {
		return "", nil, wrap(op, err)
	}
	if !version.Valid {
		return id, nil, nil
	}
	r, err := decodeRequest(doc, raw, version.Int64)
	if err != nil {
		return "", nil, wrap(fmt.Sprintf("%s: read request %q", op, id), err)
	}
	return id, r, nil
}

// commitSQL is updateStmt ($1–$9, done_until $18) with the events written by it
// ($10 ids, $11 timestamps, $12 JSONB-safe documents, $13 exact texts or
// NULL) and the completion of delivery $14 claimed at $15, stamped $16
// with outcome $17 ($14 NULL: none). Events and completion hang on the
// update's row, so they are made if and only if the update is. It
// returns nothing when the update wrote nothing.
var commitSQL = `WITH upd AS (` + updateStmt("$18") + `
RETURNING doc->'receivedAt' AS received_doc, received_at
), ev AS (
INSERT INTO tfpilot_events (request_id, id, ts, doc, raw)
SELECT $1, e.id, e.ts, e.doc::jsonb, e.raw
FROM upd, unnest($10::text[], $11::timestamptz[], $12::text[], $13::text[]) AS e(id, ts, doc, raw)
ON CONFLICT DO NOTHING
), done AS (
UPDATE tfpilot_deliveries SET completed_at = $16, outcome = $17
WHERE id = $14 AND claimed_at = $15 AND EXISTS (SELECT 1 FROM upd)
RETURNING 1
)
SELECT received_doc, received_at, (SELECT count(*) FROM done) FROM upd`

// CommitRequest implements [store.DeliveryWriter] with one statement
// (commitSQL); only when it writes nothing does a second read tell a
// conflict, an absent request, a changed ReceivedAt and an unchanged
// document apart, as in [Store.UpdateRequest].
func (s *Store) CommitRequest(ctx context.Context, r *store.Request, done *store.DeliveryDone) (*store.Request, bool, error) {
	if err := checkRequest("update", r); err != nil {
		return nil, false, err
	}
	op := fmt.Sprintf("update request %q", r.ID)
	now := s.now()
	events := r.Outbox
	w := r.Clone()
	if w.Outbox != nil {
		// Empty as a flush leaves it, so that the document is the one
		// the plain path (write, flush) stores.
		w.Outbox = []store.Event{}
	}
	rr, doc, err := row(w, w.Version+1, now)
	if err != nil {
		return nil, false, wrap(op, fmt.Errorf("encode: %w", err))
	}
	ids := make([]string, len(events))
	stamps := make([]time.Time, len(events))
	docs := make([]string, len(events))
	raws := make([]*string, len(events))
	for i, e := range events {
		if e.RequestID != r.ID || e.Event == "" || e.ID == "" {
			return nil, false, wrap(op, fmt.Errorf("staged event %q %q of request %q: %w", e.ID, e.Event, e.RequestID, store.ErrInvalid))
		}
		if e.Timestamp.IsZero() {
			e.Timestamp = now
		}
		b, err := json.Marshal(e)
		if err != nil {
			return nil, false, wrap(op, fmt.Errorf("encode event %q: %w: %w", e.ID, store.ErrInvalid, err))
		}
		d, raw := storedForms(b) // see rawdoc.go
		ids[i], stamps[i], docs[i], raws[i] = e.ID, e.Timestamp, string(d), raw
	}
	var (
		deliveryID, outcome any
		claim               any
	)
	if done != nil {
		deliveryID, claim, outcome = done.ID, done.Claim, done.Outcome
	}
	var (
		received   []byte
		receivedAt time.Time
		completed  int64
	)
	err = s.db.DB.QueryRowContext(ctx, commitSQL,
		rr.ID, w.Version, rr.Project, rr.Environment, rr.Status, receivedParam(w.ReceivedAt), rr.UpdatedAt, doc, rr.Raw,
		ids, stamps, docs, raws, deliveryID, claim, now, outcome, rr.DoneUntil).Scan(&received, &receivedAt, &completed)
	stored, err := s.updated(ctx, op, w, received, receivedAt, err)
	if err != nil {
		return nil, false, err
	}
	return stored, completed > 0, nil
}
