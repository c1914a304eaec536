package pgstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/store/pgstore"
)

// seedDoc is a realistic stored document (the original system's, about
// 3 KB) that the benchmarks copy into every row.
func seedDoc(b *testing.B) json.RawMessage {
	b.Helper()
	raw, err := os.ReadFile("../../testdata/seed-request.json")
	if err != nil {
		b.Fatal(err)
	}
	var r tfpilot.Request
	if err := json.Unmarshal(raw, &r); err != nil {
		b.Fatal(err)
	}
	doc, err := json.Marshal(r)
	if err != nil {
		b.Fatal(err)
	}
	return doc
}

// seedRequests bulk-inserts n requests in one statement: ids b0000001…,
// received one second apart, ten projects, two environments.
func seedRequests(b *testing.B, s *pgstore.Store, n int) time.Time {
	b.Helper()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := s.DB().ExecContext(b.Context(), `
		INSERT INTO tfpilot_requests (id, project, environment, status, received_at, updated_at, version, doc)
		SELECT id, project, env, 'request_created', at, at, 1,
		       jsonb_set(jsonb_set(jsonb_set(jsonb_set(?::jsonb - 'version',
		         '{id}', to_jsonb(id)), '{project}', to_jsonb(project)), '{environment}', to_jsonb(env)),
		         '{receivedAt}', to_jsonb(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
		FROM (SELECT 'b' || lpad(i::text, 7, '0') AS id, 'p' || (i % 10) AS project,
		             CASE WHEN i % 2 = 0 THEN 'dev' ELSE 'prod' END AS env,
		             ?::timestamptz + i * interval '1 second' AS at
		      FROM generate_series(1, ?) AS i) AS g`,
		string(seedDoc(b)), base, n)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.DB().ExecContext(b.Context(), `ANALYZE tfpilot_requests`); err != nil {
		b.Fatal(err)
	}
	return base
}

// BenchmarkListPage lists a page of 50 among 1,000 and 100,000 requests:
// the first page, a page from the middle of the walk (by cursor), and the
// first page of one project and environment. Keyset pagination makes the
// cost independent of the table's size.
func BenchmarkListPage(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		s := openStore(b, testenv.PostgresDSN(b), nil)
		base := seedRequests(b, s, n)
		// The cursor of the page that ends in the middle of the table.
		q := tfpilot.ListQuery{Limit: tfpilot.MaxPageSize}
		for range n / 2 / tfpilot.MaxPageSize {
			p, err := s.ListRequests(b.Context(), q)
			if err != nil || p.NextCursor == "" {
				b.Fatalf("walk to the middle: %v", err)
			}
			q.Cursor = p.NextCursor
		}
		middle := q.Cursor
		explain(b, s, base, n)
		for _, tc := range []struct {
			name string
			q    tfpilot.ListQuery
		}{
			{"first", tfpilot.ListQuery{Limit: 50}},
			{"middle", tfpilot.ListQuery{Limit: 50, Cursor: middle}},
			{"filtered", tfpilot.ListQuery{Limit: 50, Project: "p3", Environment: "prod"}},
		} {
			b.Run(fmt.Sprintf("requests=%d/%s", n, tc.name), func(b *testing.B) {
				for b.Loop() {
					p, err := s.ListRequests(b.Context(), tc.q)
					if err != nil || len(p.Requests) != 50 {
						b.Fatalf("ListRequests = %d requests, %v", len(p.Requests), err)
					}
				}
			})
		}
	}
}

// explain logs the plan of the middle page's query (go test -v shows
// it): an index scan that reads 51 rows, whatever the table's size.
func explain(b *testing.B, s *pgstore.Store, base time.Time, n int) {
	b.Helper()
	rows, err := s.DB().QueryContext(b.Context(), `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
		SELECT id, received_at, version, doc FROM tfpilot_requests
		WHERE (received_at, id) < (?, ?)
		ORDER BY received_at DESC, id DESC LIMIT 51`, base.Add(time.Duration(n/2)*time.Second), fmt.Sprintf("b%07d", n/2))
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			b.Fatal(err)
		}
		plan = append(plan, strings.TrimSpace(line))
	}
	b.Logf("plan of a keyset page among %d requests: %s", n, strings.Join(plan, " | "))
}

// BenchmarkCASUpdate compares pgstore.UpdateRequest with the bare pgx
// statement it stands for, in the same run: each op changes one config
// value of a ~3 KB document, encodes it and writes it with
// UPDATE ... WHERE id = $1 AND version = $2. Each writer updates its own
// request (throughput, not conflicts); writers=8 runs eight goroutines.
func BenchmarkCASUpdate(b *testing.B) {
	dsn := testenv.PostgresDSN(b)
	s := openStore(b, dsn, nil)
	s.DB().SetMaxOpenConns(8)
	s.DB().SetMaxIdleConns(8)
	pool, err := pgxpool.New(b.Context(), dsn+"&pool_max_conns=8")
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	doc := seedDoc(b)
	var next atomic.Int64
	newRequest := func(b *testing.B) *tfpilot.Request {
		var r tfpilot.Request
		if err := json.Unmarshal(doc, &r); err != nil {
			b.Fatal(err)
		}
		r.ID = fmt.Sprintf("cas-%06d", next.Add(1))
		stored, err := s.CreateRequest(b.Context(), &r)
		if err != nil {
			b.Fatal(err)
		}
		return stored
	}
	writers := []int{1, 8}
	for _, w := range writers {
		b.Run(fmt.Sprintf("writers=%d/pgstore", w), func(b *testing.B) {
			parallel(b, w, func(ctx context.Context, pb func() bool) error {
				r := newRequest(b)
				for i := 0; pb(); i++ {
					r.Config["counter"] = float64(i)
					stored, err := s.UpdateRequest(ctx, r)
					if err != nil {
						return err
					}
					r = stored
				}
				return nil
			})
		})
		b.Run(fmt.Sprintf("writers=%d/bare-pgx", w), func(b *testing.B) {
			parallel(b, w, func(ctx context.Context, pb func() bool) error {
				r := newRequest(b)
				for i := 0; pb(); i++ {
					r.Config["counter"] = float64(i)
					body, err := json.Marshal(r)
					if err != nil {
						return err
					}
					tag, err := pool.Exec(ctx, `UPDATE tfpilot_requests SET doc = $3, version = version + 1, updated_at = $4
						WHERE id = $1 AND version = $2`, r.ID, r.Version, body, time.Now())
					if err != nil {
						return err
					}
					if tag.RowsAffected() != 1 {
						return fmt.Errorf("update %s at version %d: no row", r.ID, r.Version)
					}
					r.Version++
				}
				return nil
			})
		})
	}
}

// parallel runs fn on w goroutines that share b.N operations: pb reports
// whether another one is due.
func parallel(b *testing.B, w int, fn func(ctx context.Context, pb func() bool) error) {
	b.Helper()
	if w == 1 {
		if err := fn(b.Context(), b.Loop); err != nil {
			b.Fatal(err)
		}
		return
	}
	var left atomic.Int64
	left.Store(int64(b.N))
	errs := make(chan error, w)
	b.ResetTimer()
	for range w {
		go func() {
			errs <- fn(b.Context(), func() bool { return left.Add(-1) >= 0 })
		}()
	}
	for range w {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodePage decodes 50 copies of the benchmarks' document into
// tfpilot.Request, without a database: the share of a list page that is
// the client's JSON decoding.
func BenchmarkDecodePage(b *testing.B) {
	doc := seedDoc(b)
	for b.Loop() {
		for range 50 {
			var r tfpilot.Request
			if err := json.Unmarshal(doc, &r); err != nil {
				b.Fatal(err)
			}
		}
	}
}
