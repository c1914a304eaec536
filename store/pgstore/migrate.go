package pgstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLockKey is the advisory lock that serialises Migrate calls
// across processes.
const migrateLockKey int64 = 0x7466_7069_6c6f_7431 // "tfpilot1"

// migration is one embedded SQL file, NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	return out, nil
}

// Migrate brings the database schema up to date by applying, in order,
// the embedded migrations it has not applied yet. It is safe to call on
// every start and from several processes at once: one transaction holds
// a PostgreSQL advisory lock, applies the pending migrations and records
// each in tfpilot_schema_migrations, so a failure leaves the schema as
// it was.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// tx.Tx runs SQL as written: bun would read '?' as a placeholder.
		if _, err := tx.Tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockKey); err != nil {
			return err
		}
		if _, err := tx.Tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS tfpilot_schema_migrations (
			version    integer     PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL)`); err != nil {
			return err
		}
		var applied []int
		if err := tx.NewSelect().Table("tfpilot_schema_migrations").Column("version").Scan(ctx, &applied); err != nil {
			return err
		}
		for _, m := range ms {
			if slices.Contains(applied, m.version) {
				continue
			}
			start := time.Now()
			if _, err := tx.Tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			if _, err := tx.Tx.ExecContext(ctx, `INSERT INTO tfpilot_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.version, m.name, s.now()); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			s.log.InfoContext(ctx, "pgstore: applied migration", "name", m.name, "duration", time.Since(start))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	return nil
}
