package pgstore

import (
	"context"
	"fmt"
	"slices"
)

// PendingMigrations returns the names of the embedded migrations that
// the database has not applied, in order; all of them for a database
// without tfpilot's schema. It only reads, so a dry run can tell an
// empty database (nothing to compare with) from one it cannot read.
func (s *Store) PendingMigrations(ctx context.Context) ([]string, error) {
	ms, err := migrations()
	if err != nil {
		return nil, fmt.Errorf("pgstore: pending migrations: %w", err)
	}
	var table *string
	if err := s.db.DB.QueryRowContext(ctx, `SELECT to_regclass('tfpilot_schema_migrations')::text`).Scan(&table); err != nil {
		return nil, fmt.Errorf("pgstore: pending migrations: %w", err)
	}
	var applied []int
	if table != nil {
		rows, err := s.db.DB.QueryContext(ctx, `SELECT version FROM tfpilot_schema_migrations`)
		if err != nil {
			return nil, fmt.Errorf("pgstore: pending migrations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				return nil, fmt.Errorf("pgstore: pending migrations: %w", err)
			}
			applied = append(applied, v)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("pgstore: pending migrations: %w", err)
		}
	}
	var out []string
	for _, m := range ms {
		if !slices.Contains(applied, m.version) {
			out = append(out, m.name)
		}
	}
	return out, nil
}
