package pgstore

import (
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
// taken, possibly by an earlier item of the same batch) are imported one
// by one, which tells an identical item (unchanged) from a different one
// (ErrAlreadyExists) as Import does. Other kinds (archived requests,
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
		for _, i := range idx {
			if k := items[i].Key(); inserted[k] {
				results[i].Written = true
				delete(inserted, k) // a repeated key in the batch was not inserted again
				continue
			}
			single = append(single, i)
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
