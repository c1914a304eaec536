package migrate_test

import (
	"os"
	"testing"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/pgstore"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// newPostgres returns an empty, migrated PostgreSQL store on a database
// of t's own.
func newPostgres(t testing.TB) *pgstore.Store {
	t.Helper()
	pg, err := pgstore.Open(t.Context(), testenv.PostgresDSN(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	if err := pg.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return pg
}

// memToPostgres migrates the legacy bucket, read by memstore, into
// PostgreSQL.
func memToPostgres(t *testing.T) (store.Store, func() store.Store) {
	src, _ := memStores(t)
	return src, func() store.Store { return newPostgres(t) }
}

func TestMigrate_MemoryToPostgres_LegacyBucket(t *testing.T) {
	t.Parallel()
	testMigrateLegacyBucket(t, memToPostgres)
}

func TestMigrate_MemoryToPostgres_InterruptedCopyEndsAsOneUninterrupted(t *testing.T) {
	t.Parallel()
	testInterruptedCopy(t, memToPostgres)
}
