package testenv

import (
	"context"
	"database/sql"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// RoundTrips counts the round trips pgx makes to PostgreSQL: one per
// statement (BEGIN and COMMIT included: pgx sends them as statements),
// and one per statement it prepares first (a text its statement cache
// has not seen on that connection).
type RoundTrips struct{ n atomic.Int64 }

// Load returns the round trips counted so far.
func (c *RoundTrips) Load() int64 { return c.n.Load() }

// TraceQueryStart implements [pgx.QueryTracer].
func (c *RoundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

// TraceQueryEnd implements [pgx.QueryTracer].
func (c *RoundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TracePrepareStart implements [pgx.PrepareTracer].
func (c *RoundTrips) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	c.n.Add(1)
	return ctx
}

// TracePrepareEnd implements [pgx.PrepareTracer].
func (c *RoundTrips) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// CountingPostgresDB opens the test's database ([PostgresDSN]) through
// pgx with a tracer counting its round trips. The database is closed
// when the test ends.
func CountingPostgresDB(t testing.TB) (*sql.DB, *RoundTrips) {
	t.Helper()
	c := &RoundTrips{}
	return TracedPostgresDB(t, c), c
}

// TracedPostgresDB opens the test's database ([PostgresDSN]) through
// pgx with tracer watching its statements. The database is closed when
// the test ends.
func TracedPostgresDB(t testing.TB, tracer pgx.QueryTracer) *sql.DB {
	t.Helper()
	cfg, err := pgx.ParseConfig(PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Tracer = tracer
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { db.Close() })
	return db
}
