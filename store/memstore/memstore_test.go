package memstore_test

import (
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/store/memstore"
	"github.com/tfpilot/tfpilot/store/storetest"
)

type harness struct{}

func (harness) NewStore(t *testing.T, now func() time.Time) tfpilot.Store {
	return memstore.New(&memstore.Options{Now: now})
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Harness { return harness{} })
}
