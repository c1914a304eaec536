package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/tfpilot/tfpilot/store"
)

// Options configures a [Store]. A nil *Options means the defaults.
type Options struct {
	// Now is the store's clock: it stamps creations, claims, index
	// entries and events, and decides idempotency expiry. (The status
	// column, [lifecycle.IndexStatus], needs no clock.) PostgreSQL keeps
	// microseconds. Default: time.Now.
	Now func() time.Time
	// Logger receives the store's few log records (applied migrations).
	// Default: discard.
	Logger *slog.Logger
}

// Store is a [store.Store] in PostgreSQL. It is safe for concurrent
// use; make one with [New], [NewFromSQL] or [Open], and create its
// tables with [Store.Migrate].
type Store struct {
	db    *bun.DB
	now   func() time.Time
	log   *slog.Logger
	owned bool // Close closes db
}

var _ store.Store = (*Store)(nil)

// New returns a Store over db, which must use the PostgreSQL dialect
// (github.com/uptrace/bun/dialect/pgdialect). The caller keeps
// ownership of db: [Store.Close] does not close it.
func New(db *bun.DB, opts *Options) *Store {
	s := &Store{db: db, now: time.Now, log: slog.New(slog.DiscardHandler)}
	if opts != nil {
		if opts.Now != nil {
			s.now = opts.Now
		}
		if opts.Logger != nil {
			s.log = opts.Logger
		}
	}
	return s
}

// NewFromSQL returns a Store over db, a PostgreSQL database opened with
// any database/sql driver (tfpilot uses pgx: sql.Open("pgx", dsn) after
// importing github.com/jackc/pgx/v5/stdlib). The caller keeps ownership
// of db.
func NewFromSQL(db *sql.DB, opts *Options) *Store {
	return New(bun.NewDB(db, pgdialect.New()), opts)
}

// Open connects to the PostgreSQL database at dsn (a postgres:// URL or
// a key=value string) through pgx and checks that it answers. It keeps
// up to 16 idle connections (database/sql's default is 2); set other
// limits on [Store.DB]. Close the Store to close the connections.
func Open(ctx context.Context, dsn string, opts *Options) (*Store, error) {
	sqldb, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	// database/sql keeps 2 idle connections by default: under more
	// concurrent calls than that, every call beyond the second would
	// open a connection (and prepare its statements) anew.
	sqldb.SetMaxIdleConns(openIdleConns)
	s := NewFromSQL(sqldb, opts)
	s.owned = true
	return s, nil
}

// openIdleConns is how many idle connections a Store made by [Open]
// keeps: the concurrency its callers usually have (a webhook handler's
// deliveries in flight, a migration's imports).
const openIdleConns = 16

// DB returns the database the Store works on.
func (s *Store) DB() *bun.DB { return s.db }

// Close closes the database if [Open] opened it; a Store made by [New]
// or [NewFromSQL] leaves its database to the caller.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	return s.db.Close()
}

// wrap adds the operation to err; sql.ErrNoRows becomes
// [store.ErrNotFound].
func wrap(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("pgstore: %s: %w", op, store.ErrNotFound)
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}
