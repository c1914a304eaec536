package memstore_test

import (
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/memstore"
	"github.com/tfpilot/tfpilot/store/storetest"
	"github.com/tfpilot/tfpilot/store/storetest/enginetest"
)

type harness struct{}

func (harness) NewStore(t *testing.T, now func() time.Time) store.Store {
	return memstore.New(&memstore.Options{Now: now})
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Harness { return harness{} })
}

// TestEngineOverStore runs the engine-over-store checks (package
// enginetest): Pilot's Get, List and Insights agree over this store.
func TestEngineOverStore(t *testing.T) {
	enginetest.Run(t, func(*testing.T) storetest.Harness { return harness{} })
}

func TestExport(t *testing.T) {
	storetest.RunExport(t, func(*testing.T) storetest.Harness { return harness{} })
}
