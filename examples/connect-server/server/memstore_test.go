package server_test

import (
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/store/memstore"
)

func TestE2E_Memstore(t *testing.T) {
	t.Parallel()
	runSuite(t, func(*testing.T) tfpilot.Store { return memstore.New(nil) })
}
