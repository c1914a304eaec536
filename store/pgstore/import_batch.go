package pgstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/store"
)

var _ store.BatchImporter = (*Store)(nil)

// Batched imports: the requests, events and index entries of a batch
// are each inserted by one multi-row statement (rows from unnest of one
// array per column), with the same conditions as the one-row statements
// of [Store.Import]. A statement is atomic, so a batch interrupted by a
// crash is stored whole or not at all, and importing it again writes
// what is missing. The rows a statement did not insert (the key is
// taken, possibly by an earlier item of the same batch, or by a run
// that was cut off) are read back with one statement per kind and
// compared as Import compares, which tells an identical item
// (unchanged) from a different one (ErrAlreadyExists); a rerun of a
// copy thus costs two statements per kind and batch, not one or two
// per item. A key taken elsewhere (a request id that is archived) is
// imported one by one. Other kinds (archived requests,
// deliveries, idempotency records, costs: few) are imported one by one.
const (
	batchRequestSQL = `INSERT INTO tfpilot_requests (id, project, environment, status, received_at, updated_at, version, doc, raw)
		SELECT u.id, u.project, u.environment, u.status, u.received_at, $6, u.version, u.doc::jsonb - 'version', u.raw
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $7::bigint[], $8::text[], $9::text[])
			AS u(id, project, environment, status, received_at, version, doc, raw)
		WHERE NOT EXISTS (SELECT 1 FROM tfpilot_request_history h WHERE h.id = u.id)
		ON CONFLICT (id) DO NOTHING RETURNING id`
	batchEventSQL = `INSERT INTO tfpilot_events (request_id, id, ts, doc, raw)
		SELECT u.request_id, u.id, u.ts, u.doc::jsonb, u.raw
		FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[]) AS u(request_id, id, ts, doc, raw)
		ON CONFLICT DO NOTHING RETURNING request_id || '/' || id`
	batchRunSQL = `INSERT INTO tfpilot_run_index (kind, run_id, request_id, indexed_at)
		SELECT u.kind, u.run_id, u.request_id, $4 FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u(kind, run_id, request_id)
		ON CONFLICT DO NOTHING RETURNING kind || '/' || run_id`
	batchPRSQL = `INSERT INTO tfpilot_pr_index (owner, repo, number, request_id, indexed_at)
		SELECT u.owner, u.repo, u.number, u.request_id, $5
		FROM unnest($1::text[], $2::text[], $3::int[], $4::text[]) AS u(owner, repo, number, request_id)
		ON CONFLICT DO NOTHING RETURNING owner || '/' || repo || '#' || number`
)

// ImportBatch implements [store.BatchImporter].
func (s *Store) ImportBatch(ctx context.Context, items []store.Item) ([]store.ImportResult, error) {
	results := make([]store.ImportResult, len(items))
	now := s.now()
	byKind := map[store.ItemKind][]int{}
	var single []int
	for i, it := range items {
		if err := it.Check(); err != nil {
			results[i].Err = wrap("import", err)
			continue
		}
		switch it.Kind {
		case store.KindRequest, store.KindEvent, store.KindRunIndex, store.KindPRIndex:
			byKind[it.Kind] = append(byKind[it.Kind], i)
		default:
			single = append(single, i)
		}
	}
	for kind, idx := range byKind {
		query, args, err := batchArgs(kind, items, idx, now)
		if err != nil {
			// An item that does not encode: let Import say which.
			single = append(single, idx...)
			continue
		}
		inserted, err := s.insertedKeys(ctx, query, args)
		if err != nil {
			return nil, wrap(fmt.Sprintf("import %d %s items", len(idx), kind), err)
		}
		var taken []int
		for _, i := range idx {
			if k := items[i].Key(); inserted[k] {
				results[i].Written = true
				delete(inserted, k) // a repeated key in the batch was not inserted again
				continue
			}
			taken = append(taken, i)
		}
		if len(taken) == 0 {
			continue
		}
		// The keys already taken (a rerun after a crash, a repeated
		// key): one statement reads what they hold.
		stored, err := s.storedItems(ctx, kind, items, taken)
		if err != nil {
			return nil, wrap(fmt.Sprintf("import %d %s items: look up the stored ones", len(taken), kind), err)
		}
		for _, i := range taken {
			cur, ok := stored[items[i].Key()]
			if !ok {
				single = append(single, i) // e.g. a request archived under its id: Import says so
				continue
			}
			results[i].Err = compareStored(items[i], cur)
		}
	}
	for _, i := range single {
		if results[i].Err != nil {
			continue
		}
		written, err := s.Import(ctx, items[i])
		if err != nil && ctx.Err() != nil {
			return nil, err
		}
		results[i] = store.ImportResult{Written: written, Err: err}
	}
	return results, nil
}

// Look-ups of the stored items under many keys of one kind.
const (
	batchLookupRequestSQL = `SELECT id, version, doc, raw FROM tfpilot_requests WHERE id = ANY($1::text[])`
	batchLookupEventSQL   = `SELECT e.request_id, e.id, e.doc, e.raw FROM tfpilot_events e
		JOIN unnest($1::text[], $2::text[]) AS u(request_id, id) ON e.request_id = u.request_id AND e.id = u.id`
	batchLookupRunSQL = `SELECT r.kind, r.run_id, r.request_id FROM tfpilot_run_index r
		JOIN unnest($1::text[], $2::bigint[]) AS u(kind, run_id) ON r.kind = u.kind AND r.run_id = u.run_id`
	batchLookupPRSQL = `SELECT p.owner, p.repo, p.number, p.request_id FROM tfpilot_pr_index p
		JOIN unnest($1::text[], $2::text[], $3::int[]) AS u(owner, repo, number) ON p.owner = u.owner AND p.repo = u.repo AND p.number = u.number`
)

// storedItems reads the stored items of kind under the keys of
// items[idx], by key.
func (s *Store) storedItems(ctx context.Context, kind store.ItemKind, items []store.Item, idx []int) (map[string]store.Item, error) {
	var query string
	var args []any
	n := len(idx)
	switch kind {
	case store.KindRequest:
		ids := make([]string, n)
		for j, i := range idx {
			ids[j] = items[i].Request.ID
		}
		query, args = batchLookupRequestSQL, []any{ids}
	case store.KindEvent:
		reqs, ids := make([]string, n), make([]string, n)
		for j, i := range idx {
			reqs[j], ids[j] = items[i].Event.RequestID, items[i].Event.ID
		}
		query, args = batchLookupEventSQL, []any{reqs, ids}
	case store.KindRunIndex:
		kinds, runIDs := make([]string, n), make([]int64, n)
		for j, i := range idx {
			kinds[j], runIDs[j] = string(items[i].Run.Kind), items[i].Run.RunID
		}
		query, args = batchLookupRunSQL, []any{kinds, runIDs}
	default: // store.KindPRIndex
		owners, repos, numbers := make([]string, n), make([]string, n), make([]int32, n)
		for j, i := range idx {
			pr := items[i].PR.PR
			owners[j], repos[j], numbers[j] = pr.Owner, pr.Repo, int32(pr.Number)
		}
		query, args = batchLookupPRSQL, []any{owners, repos, numbers}
	}
	rows, err := s.db.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var found []store.Item
	if kind == store.KindRequest {
		found, err = scanRequests(kind, rows) // export.go: decoded in parallel
	} else {
		for rows.Next() {
			it, serr := scanItem(kind, rows)
			if serr != nil {
				return nil, serr
			}
			found = append(found, it)
		}
		err = rows.Err()
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]store.Item, len(found))
	for _, it := range found {
		out[it.Key()] = it
	}
	return out, nil
}

// compareStored is what [Store.Import] of it returns when cur holds its
// key: nil when cur is identical, else an error wrapping
// [store.ErrAlreadyExists].
func compareStored(it, cur store.Item) error {
	op := fmt.Sprintf("import %s %s", it.Kind, it.Key())
	want, err := it.Canonical()
	if err != nil {
		return wrap(op, err)
	}
	got, err := cur.Canonical()
	if err != nil {
		return wrap(op, fmt.Errorf("stored item: %w", err))
	}
	if cur.Kind != it.Kind || !bytes.Equal(got, want) {
		return wrap(op, fmt.Errorf("a different %s is stored: %w", cur.Kind, store.ErrAlreadyExists))
	}
	return nil
}

// insertedKeys runs a batch insert and returns the keys it inserted.
func (s *Store) insertedKeys(ctx context.Context, query string, args []any) (map[string]bool, error) {
	rows, err := s.db.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	keys := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys[k] = true
	}
	return keys, rows.Err()
}

// batchArgs returns the batch statement for the items idx of one kind
// and its arguments: one array per column.
func batchArgs(kind store.ItemKind, items []store.Item, idx []int, now time.Time) (string, []any, error) {
	n := len(idx)
	switch kind {
	case store.KindRequest:
		ids, projects, envs, statuses, docs := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		received, versions, raws := make([]time.Time, n), make([]int64, n), make([]*string, n)
		for j, i := range idx {
			r := items[i].Request
			b, err := json.Marshal(r)
			if err != nil {
				return "", nil, err
			}
			doc, raw := requestForms(r, b)
			ids[j], projects[j], envs[j], statuses[j] = r.ID, r.Project, r.Environment, string(lifecycle.IndexStatus(r.Facts()))
			received[j], versions[j], docs[j], raws[j] = r.ReceivedAt, r.Version, string(doc), raw
		}
		return batchRequestSQL, []any{ids, projects, envs, statuses, received, now, versions, docs, raws}, nil
	case store.KindEvent:
		reqs, ids, docs, ts, raws := make([]string, n), make([]string, n), make([]string, n), make([]time.Time, n), make([]*string, n)
		for j, i := range idx {
			e := items[i].Event
			b, err := json.Marshal(e)
			if err != nil {
				return "", nil, err
			}
			doc, raw := storedForms(b) // see rawdoc.go
			reqs[j], ids[j], ts[j], docs[j], raws[j] = e.RequestID, e.ID, e.Timestamp, string(doc), raw
		}
		return batchEventSQL, []any{reqs, ids, ts, docs, raws}, nil
	case store.KindRunIndex:
		kinds, runIDs, reqs := make([]string, n), make([]int64, n), make([]string, n)
		for j, i := range idx {
			e := items[i].Run
			kinds[j], runIDs[j], reqs[j] = string(e.Kind), e.RunID, e.RequestID
		}
		return batchRunSQL, []any{kinds, runIDs, reqs, now}, nil
	default: // store.KindPRIndex
		owners, repos, numbers, reqs := make([]string, n), make([]string, n), make([]int32, n), make([]string, n)
		for j, i := range idx {
			e := items[i].PR
			owners[j], repos[j], numbers[j], reqs[j] = e.PR.Owner, e.PR.Repo, int32(e.PR.Number), e.RequestID
		}
		return batchPRSQL, []any{owners, repos, numbers, reqs, now}, nil
	}
}
