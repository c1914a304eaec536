package pgstore_test

import (
	"testing"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/store/storetest"
)

func TestExport(t *testing.T) {
	storetest.RunExport(t, func(t *testing.T) storetest.Harness { return harness{testenv.PostgresDSN(t)} })
}
