package pgstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/internal/listquery"
)

// requestRow is a row of tfpilot_requests. Doc holds the document
// without its version, which is the Version column.
type requestRow struct {
	bun.BaseModel `bun:"table:tfpilot_requests"`

	ID          string          `bun:"id,pk"`
	Project     string          `bun:"project"`
	Environment string          `bun:"environment"`
	Status      string          `bun:"status"`
	ReceivedAt  time.Time       `bun:"received_at"`
	UpdatedAt   time.Time       `bun:"updated_at"`
	Version     int64           `bun:"version"`
	Doc         json.RawMessage `bun:"doc,type:jsonb"`
	// Raw is the document as written when doc is not exact (rawdoc.go).
	Raw *string `bun:"raw"`
	// DoneUntil bounds the completion times of its attempts, for
	// insights (insights.go); nil (NULL) when not known.
	DoneUntil *time.Time `bun:"done_until"`
}

// historyRow is a row of tfpilot_request_history.
type historyRow struct {
	bun.BaseModel `bun:"table:tfpilot_request_history"`

	ID          string          `bun:"id,pk"`
	Project     string          `bun:"project"`
	Environment string          `bun:"environment"`
	ReceivedAt  time.Time       `bun:"received_at"`
	ArchivedAt  time.Time       `bun:"archived_at"`
	Version     int64           `bun:"version"`
	Doc         json.RawMessage `bun:"doc,type:jsonb"`
	Raw         *string         `bun:"raw"`
}

// docExpr is the SQL value of a document argument as stored: JSONB
// without the version key.
const docExpr = "?::jsonb - 'version'"

// decodeRequest decodes a stored document: raw, the exact text, when
// the row has one, else doc.
func decodeRequest(doc json.RawMessage, raw *string, version int64) (*store.Request, error) {
	if raw != nil {
		doc = json.RawMessage(*raw)
	}
	var r store.Request
	if err := json.Unmarshal(doc, &r); err != nil {
		return nil, err
	}
	r.Version = version
	return &r, nil
}

// checkRequest checks r as [store.PrepareUpdate] does, for a write
// that prepares r itself (CommitRequest).
func checkRequest(op string, r *store.Request) error {
	if r == nil {
		return fmt.Errorf("pgstore: %s request: nil request: %w", op, store.ErrInvalid)
	}
	if err := r.ValidateID(); err != nil {
		return fmt.Errorf("pgstore: %s request %q: %w", op, r.ID, err)
	}
	return nil
}

// row returns r's row at version, written at now; its status column is
// the clock-free [lifecycle.IndexStatus].
func row(r *store.Request, version int64, now time.Time) (*requestRow, string, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, "", err
	}
	doc, raw := requestForms(r, b)
	done := doneUntil(r)
	return &requestRow{
		ID: r.ID, Project: r.Project, Environment: r.Environment,
		Status:     string(lifecycle.IndexStatus(r.Facts())),
		ReceivedAt: r.ReceivedAt, UpdatedAt: now, Version: version, Raw: raw,
		DoneUntil: &done,
	}, string(doc), nil
}

// GetRequest implements [store.RequestStore].
func (s *Store) GetRequest(ctx context.Context, id string) (*store.Request, error) {
	op := fmt.Sprintf("get request %q", id)
	var rr requestRow
	err := s.db.DB.QueryRowContext(ctx, getRequestSQL, id).Scan(&rr.Version, &rr.Doc, &rr.Raw) // hotsql.go: a text without the id
	if err != nil {
		return nil, wrap(op, err)
	}
	r, err := decodeRequest(rr.Doc, rr.Raw, rr.Version)
	if err != nil {
		return nil, wrap(op, err)
	}
	return r, nil
}

// CreateRequest implements [store.RequestStore]. The insert and the
// check that the id was never archived run in one transaction; the check
// follows the insert, so it sees an archive that committed while the
// insert waited on the same id.
func (s *Store) CreateRequest(ctx context.Context, r *store.Request) (*store.Request, error) {
	now := s.now()
	w, err := store.PrepareCreate(r, now)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	op := fmt.Sprintf("create request %q", r.ID)
	c := w.Request
	rr, doc, err := row(c, 1, now)
	if err != nil {
		return nil, wrap(op, fmt.Errorf("encode: %w: %w", store.ErrInvalid, err))
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewInsert().Model(rr).Value("doc", docExpr, doc).On("CONFLICT (id) DO NOTHING").Exec(ctx)
		if err != nil {
			return err
		}
		if ok, err := wrote(res); err != nil || !ok {
			return orElse(err, store.ErrAlreadyExists)
		}
		archived, err := tx.NewSelect().Model((*historyRow)(nil)).Where("id = ?", r.ID).Exists(ctx)
		if err != nil {
			return err
		}
		if archived {
			return fmt.Errorf("archived: %w", store.ErrAlreadyExists)
		}
		return nil
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return c, nil
}

// updateSQL is the compare-and-swap. It writes only when the version
// matches, the document differs (JSONB equality, which ignores key order
// and spacing) and the ReceivedAt sent ($6, RFC 3339 text, NULL when
// zero) is the stored one (see receivedSame). The document keeps the
// stored receivedAt as it was, and received_at is never set: ReceivedAt
// never changes after creation. It runs with real placeholders on the
// *sql.DB under bun, not through bun's query builder, which inlines
// arguments: inlined, the ~3 KB document is parsed twice per statement,
// and the benchmark (BENCHMARKS.md) measured twice the time.
var updateSQL = updateStmt("$10") + `
RETURNING doc->'receivedAt', received_at`

// updateStmt is updateSQL without its RETURNING clause, with done_until
// from parameter doneParam (commitSQL has more parameters and returns
// more).
func updateStmt(doneParam string) string {
	return `UPDATE tfpilot_requests
SET project = $3, environment = $4, status = $5, updated_at = $7, done_until = ` + doneParam + `,
    version = version + 1, doc = ` + nextDocExpr + `, raw = ` + nextRawExpr + `
WHERE id = $1 AND version = $2 AND ` + receivedSame("$6") + ` AND doc <> ` + nextDocExpr
}

// nextDocExpr is the document $8 as stored by an update: without the
// version key and with the stored receivedAt (absent when the stored
// document has none, and then $8 has none either, see receivedSame).
const nextDocExpr = `(CASE WHEN tfpilot_requests.doc ? 'receivedAt'
    THEN jsonb_set($8::jsonb - 'version', '{receivedAt}', tfpilot_requests.doc->'receivedAt')
    ELSE $8::jsonb - 'version' END)`

// nextRawExpr is the exact text $9 of the document, or NULL when doc is
// exact. When the update sent no receivedAt ($6 NULL) and the stored
// document has one, $9 lacks it, and the row keeps no raw text: reads
// fall back to doc, which has it.
const nextRawExpr = `(CASE WHEN $6::text IS NULL AND tfpilot_requests.doc ? 'receivedAt' THEN NULL ELSE $9::text END)`

// receivedSame is the condition that ReceivedAt param (a placeholder
// whose value is RFC 3339 text, or NULL for zero) may be written over
// the stored document: it is NULL, or it and the stored receivedAt are
// the same timestamptz. Both sides are parsed from text by PostgreSQL,
// so both are rounded to microseconds the same way: the value
// GetRequest returns always passes, whatever its nanoseconds, and so
// does any value equal to it at microsecond precision.
func receivedSame(param string) string {
	return `(` + param + `::text IS NULL OR ` + storedReceived + ` IS NOT DISTINCT FROM ` + param + `::text::timestamptz)`
}

// storedReceived is the stored receivedAt as a timestamptz: parsed from
// the document's text when that is RFC 3339, else (a legacy form such as
// an epoch number, which the document keeps as written) the
// received_at column, which holds the instant it was read as; NULL when
// the document has none.
const storedReceived = `(CASE
    WHEN tfpilot_requests.doc->>'receivedAt' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$'
    THEN (tfpilot_requests.doc->>'receivedAt')::timestamptz
    WHEN tfpilot_requests.doc ? 'receivedAt' THEN tfpilot_requests.received_at END)`

// receivedParam is t as the parameter of receivedSame.
func receivedParam(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(time.RFC3339Nano)
}

// currentSQL reads what tells apart the reasons updateSQL wrote nothing
// ($1 the id, $2 the ReceivedAt sent).
var currentSQL = `SELECT version, doc, raw, ` + receivedSame("$2") + ` FROM tfpilot_requests WHERE id = $1`

// UpdateRequest implements [store.RequestStore]. One statement writes
// (see updateSQL); only when it writes nothing does a second read tell a
// conflict, an absent request, a changed ReceivedAt and an unchanged
// document apart. A non-zero ReceivedAt must equal the stored one at
// microsecond precision, the precision of PostgreSQL's timestamptz
// ([store.SameReceivedAt] at a microsecond, rounded by PostgreSQL); the
// stored value, to the nanosecond, is what is kept. [store.PrepareUpdate]
// checks and copies r; the version check, that ReceivedAt rule and the
// no-op check are in the statement, because they must be atomic with
// the write ([store.Write.Against] is their definition for backends that
// read before they swap).
func (s *Store) UpdateRequest(ctx context.Context, r *store.Request) (*store.Request, error) {
	w, err := store.PrepareUpdate(r)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	op := fmt.Sprintf("update request %q", r.ID)
	now := s.now()
	rr, doc, err := row(w.Request, w.Request.Version, now)
	if err != nil {
		return nil, wrap(op, fmt.Errorf("encode: %w: %w", store.ErrInvalid, err))
	}
	var (
		received   []byte
		receivedAt time.Time
	)
	err = s.db.DB.QueryRowContext(ctx, updateSQL,
		rr.ID, r.Version, rr.Project, rr.Environment, rr.Status, receivedParam(r.ReceivedAt), rr.UpdatedAt, doc, rr.Raw, rr.DoneUntil).Scan(&received, &receivedAt)
	return s.updated(ctx, op, r, received, receivedAt, err)
}

// updated is the result of an update of r whose statement returned the
// stored receivedAt (received, receivedAt) or err: the stored document,
// or, when the statement wrote nothing (sql.ErrNoRows), a second read
// tells why.
func (s *Store) updated(ctx context.Context, op string, r *store.Request, received []byte, receivedAt time.Time, err error) (*store.Request, error) {
	switch {
	case err == nil:
		c := r.Clone()
		c.Version = r.Version + 1
		c.ReceivedAt = time.Time{}
		if received != nil {
			if err := json.Unmarshal(received, &c.ReceivedAt); err != nil {
				// A legacy form (an epoch number, say) that the
				// document keeps as written: the column holds the
				// instant it was read as.
				c.ReceivedAt = receivedAt
			}
		}
		return c, nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, wrap(op, err)
	}
	var (
		cur  requestRow
		same sql.NullBool
	)
	err = s.db.DB.QueryRowContext(ctx, currentSQL, r.ID, receivedParam(r.ReceivedAt)).Scan(&cur.Version, &cur.Doc, &cur.Raw, &same)
	if err != nil {
		return nil, wrap(op, err)
	}
	stored, err := decodeRequest(cur.Doc, cur.Raw, cur.Version)
	switch {
	case cur.Version != r.Version:
		return nil, wrap(fmt.Sprintf("%s at version %d (stored %d)", op, r.Version, cur.Version), store.ErrConflict)
	case err != nil:
		return nil, wrap(op, err)
	case !same.Valid || !same.Bool:
		return nil, wrap(fmt.Sprintf("%s: receivedAt %s differs from the stored %s and never changes",
			op, r.ReceivedAt.Format(time.RFC3339Nano), stored.ReceivedAt.Format(time.RFC3339Nano)), store.ErrInvalid)
	}
	return stored, nil
}

// ArchiveRequest implements [store.RequestStore]: the delete from
// tfpilot_requests and the insert into tfpilot_request_history are one
// transaction.
func (s *Store) ArchiveRequest(ctx context.Context, id string, version int64) error {
	op := fmt.Sprintf("archive request %q", id)
	now := s.now()
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var gone []requestRow
		err := tx.NewDelete().Model(&gone).Where("id = ?", id).Where("version = ?", version).Returning("*").Scan(ctx)
		if err != nil {
			return err
		}
		if len(gone) == 0 {
			var cur int64
			if err := tx.NewSelect().Model((*requestRow)(nil)).Column("version").Where("id = ?", id).Scan(ctx, &cur); err != nil {
				return err
			}
			return fmt.Errorf("at version %d (stored %d): %w", version, cur, store.ErrConflict)
		}
		g := gone[0]
		h := &historyRow{ID: g.ID, Project: g.Project, Environment: g.Environment, ReceivedAt: g.ReceivedAt, ArchivedAt: now, Version: g.Version, Doc: g.Doc, Raw: g.Raw}
		_, err = tx.NewInsert().Model(h).Exec(ctx)
		return err
	})
	if err != nil {
		return wrap(op, err)
	}
	return nil
}

// GetArchivedRequest implements [store.RequestStore].
func (s *Store) GetArchivedRequest(ctx context.Context, id string) (*store.Request, error) {
	op := fmt.Sprintf("get archived request %q", id)
	var h historyRow
	if err := s.db.NewSelect().Model(&h).Column("version", "doc", "raw").Where("id = ?", id).Scan(ctx); err != nil {
		return nil, wrap(op, err)
	}
	r, err := decodeRequest(h.Doc, h.Raw, h.Version)
	if err != nil {
		return nil, wrap(op, err)
	}
	return r, nil
}

// ListRequests implements [store.RequestStore] with a keyset query:
// WHERE (received_at, id) < (cursor) ORDER BY received_at DESC, id DESC
// LIMIT n+1, served by the (…, received_at DESC, id DESC) indexes.
func (s *Store) ListRequests(ctx context.Context, q store.ListQuery) (store.ListPage, error) {
	limit, after, err := listquery.Parse(q)
	if err != nil {
		return store.ListPage{}, wrap("list requests", err)
	}
	var rows []requestRow
	sel := s.db.NewSelect().Model(&rows).Column("id", "received_at", "version", "doc", "raw")
	if q.Project != "" {
		sel = sel.Where("project = ?", q.Project)
	}
	if q.Environment != "" {
		sel = sel.Where("environment = ?", q.Environment)
	}
	if len(q.Statuses) > 0 {
		sts := make([]string, len(q.Statuses))
		for i, st := range q.Statuses {
			sts[i] = string(st)
		}
		sel = sel.Where("status IN (?)", bun.List(sts))
	}
	if after != nil {
		sel = sel.Where("(received_at, id) < (?, ?)", after.ReceivedAt, after.ID)
	}
	if err := sel.OrderExpr("received_at DESC, id DESC").Limit(int64(limit) + 1).Scan(ctx); err != nil {
		return store.ListPage{}, wrap("list requests", err)
	}
	var page store.ListPage
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		page.NextCursor = listquery.Encode(listquery.Cursor{ReceivedAt: last.ReceivedAt, ID: last.ID})
	}
	page.Requests = make([]*store.Request, len(rows))
	for i, rr := range rows {
		r, err := decodeRequest(rr.Doc, rr.Raw, rr.Version)
		if err != nil {
			return store.ListPage{}, wrap(fmt.Sprintf("list requests: decode %q", rr.ID), err)
		}
		page.Requests[i] = r
	}
	return page, nil
}
