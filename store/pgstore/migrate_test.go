package pgstore_test

import (
	"database/sql"
	"sync"
	"testing"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/store/pgstore"
)

func TestMigrate_ConcurrentCallsApplyEachMigrationOnce(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := pgstore.Open(t.Context(), dsn, nil)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			errs[i] = s.Migrate(t.Context())
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate %d: %v", i, err)
		}
	}
	s := openStore(t, dsn, nil) // and once more, serially
	var applied, distinct int
	if err := s.DB().QueryRowContext(t.Context(), `SELECT count(*), count(DISTINCT version) FROM tfpilot_schema_migrations`).Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied == 0 || applied != distinct {
		t.Errorf("tfpilot_schema_migrations has %d rows for %d versions, want each version once", applied, distinct)
	}
}

func TestNewFromSQL_CloseLeavesCallersDatabaseOpen(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("pgx", testenv.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := pgstore.NewFromSQL(db, nil)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.PingContext(t.Context()); err != nil {
		t.Errorf("the caller's database is unusable after Store.Close: %v", err)
	}
}
