package pgstore_test

import (
	"os"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/pgstore"
	"github.com/tfpilot/tfpilot/store/storetest"
	"github.com/tfpilot/tfpilot/store/storetest/enginetest"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// harness opens a migrated Store on a database of its own.
type harness struct{ dsn string }

func (h harness) NewStore(t *testing.T, now func() time.Time) store.Store {
	return openStore(t, h.dsn, now)
}

func openStore(t testing.TB, dsn string, now func() time.Time) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(t.Context(), dsn, &pgstore.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness { return harness{testenv.PostgresDSN(t)} })
}

// TestEngineOverStore runs the engine-over-store checks (package
// enginetest): Pilot's Get, List and Insights agree over this store.
func TestEngineOverStore(t *testing.T) {
	enginetest.Run(t, func(t *testing.T) storetest.Harness { return harness{testenv.PostgresDSN(t)} })
}
