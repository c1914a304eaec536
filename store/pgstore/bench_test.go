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

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/pgstore"
)

// seedDoc is a realistic stored document (the original system's, about
// 3 KB) that the benchmarks copy into every row.
func seedDoc(b *testing.B) json.RawMessage {
	b.Helper()
	raw, err := os.ReadFile("../testdata/seed-request.json")
	if err != nil {
		b.Fatal(err)
	}
	var r store.Request
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

// BenchmarkListPage lists a page of 50 among 1,000 and among 100,000
// requests: the first page, a page from the middle of the walk (by
// cursor), and the first page of one project and environment. Each
// iteration lists the page from both tables, one after the other
// (alternating which goes first), so the two sizes share the machine's
// load, and decodes 50 documents
// without a database (the client's share of a page); the metrics are the
// time per page at each size, the decoding time, and the ratio of the
// two sizes. Keyset pagination makes the cost
// independent of the table's size.
func BenchmarkListPage(b *testing.B) {
	sizes := []int{1_000, 100_000}
	doc := seedDoc(b)
	stores := make([]*pgstore.Store, len(sizes))
	middles := make([]string, len(sizes))
	for i, n := range sizes {
		s := openStore(b, testenv.PostgresDSN(b), nil)
		base := seedRequests(b, s, n)
		// The cursor of the page that ends in the middle of the table.
		q := store.ListQuery{Limit: store.MaxPageSize}
		for range n / 2 / store.MaxPageSize {
			p, err := s.ListRequests(b.Context(), q)
			if err != nil || p.NextCursor == "" {
				b.Fatalf("walk to the middle: %v", err)
			}
			q.Cursor = p.NextCursor
		}
		explain(b, s, base, n)
		stores[i], middles[i] = s, q.Cursor
	}
	for _, tc := range []struct {
		name string
		q    func(i int) store.ListQuery
	}{
		{"first", func(int) store.ListQuery { return store.ListQuery{Limit: 50} }},
		{"middle", func(i int) store.ListQuery { return store.ListQuery{Limit: 50, Cursor: middles[i]} }},
		{"filtered", func(int) store.ListQuery { return store.ListQuery{Limit: 50, Project: "p3", Environment: "prod"} }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			spent := make([]time.Duration, len(sizes))
			var decoding time.Duration
			for iter := 0; b.Loop(); iter++ {
				for j := range stores {
					i := (j + iter) % len(stores) // alternate which size goes first
					s := stores[i]
					start := time.Now()
					p, err := s.ListRequests(b.Context(), tc.q(i))
					spent[i] += time.Since(start)
					if err != nil || len(p.Requests) != 50 {
						b.Fatalf("ListRequests among %d = %d requests, %v", sizes[i], len(p.Requests), err)
					}
				}
				// The client's share: decoding 50 such documents.
				start := time.Now()
				decodePage(b, doc)
				decoding += time.Since(start)
			}
			for i, n := range sizes {
				b.ReportMetric(float64(spent[i].Nanoseconds())/float64(b.N), fmt.Sprintf("ns/page@%d", n))
			}
			b.ReportMetric(float64(decoding.Nanoseconds())/float64(b.N), "ns/decode-50")
			b.ReportMetric(float64(spent[1])/float64(spent[0]), "ratio")
		})
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
// statement it stands for: each op changes one config value of a ~3 KB
// document, encodes it and writes it with UPDATE ... WHERE id = $1 AND
// version = $2. Each writer updates its own request (throughput, not
// conflicts). An iteration is a round of 8 ops per writer through
// pgstore and 8 per writer through bare pgx (alternating which goes
// first), so both share the machine's load; the metrics are the time per op of each (wall time of
// the round divided by its ops) and their ratio.
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
	newRequest := func(b *testing.B) *store.Request {
		var r store.Request
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
	viaStore := func(ctx context.Context, r *store.Request) (*store.Request, error) {
		return s.UpdateRequest(ctx, r)
	}
	viaPgx := func(ctx context.Context, r *store.Request) (*store.Request, error) {
		body, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		tag, err := pool.Exec(ctx, `UPDATE tfpilot_requests SET doc = $3, version = version + 1, updated_at = $4
			WHERE id = $1 AND version = $2`, r.ID, r.Version, body, time.Now())
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() != 1 {
			return nil, fmt.Errorf("update %s at version %d: no row", r.ID, r.Version)
		}
		r.Version++
		return r, nil
	}
	const opsPerRound = 8
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			ways := []func(context.Context, *store.Request) (*store.Request, error){viaStore, viaPgx}
			// Each writer has its own request per way.
			reqs := make([][]*store.Request, len(ways))
			for w := range ways {
				for range writers {
					reqs[w] = append(reqs[w], newRequest(b))
				}
			}
			spent := make([]time.Duration, len(ways))
			round := 0
			for b.Loop() {
				round++
				for j := range ways {
					w := (j + round) % len(ways) // alternate which way goes first
					update := ways[w]
					start := time.Now()
					errs := make(chan error, writers)
					for i := range writers {
						go func() {
							r := reqs[w][i]
							for k := range opsPerRound {
								r.Config["counter"] = float64(round*opsPerRound + k)
								var err error
								if r, err = update(b.Context(), r); err != nil {
									errs <- err
									return
								}
							}
							reqs[w][i] = r
							errs <- nil
						}()
					}
					for range writers {
						if err := <-errs; err != nil {
							b.Fatal(err)
						}
					}
					spent[w] += time.Since(start)
				}
			}
			ops := float64(b.N * writers * opsPerRound)
			b.ReportMetric(float64(spent[0].Nanoseconds())/ops, "ns/update-pgstore")
			b.ReportMetric(float64(spent[1].Nanoseconds())/ops, "ns/update-pgx")
			b.ReportMetric(float64(spent[0])/float64(spent[1]), "ratio")
		})
	}
}

// decodePage decodes 50 copies of doc into store.Request, as a list
// page does.
func decodePage(b *testing.B, doc json.RawMessage) {
	for range 50 {
		var r store.Request
		if err := json.Unmarshal(doc, &r); err != nil {
			b.Fatal(err)
		}
	}
}
