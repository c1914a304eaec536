package s3store_test

import (
	"testing"

	"github.com/tfpilot/tfpilot/store/storetest"
)

func TestExport(t *testing.T) {
	storetest.RunExport(t, func(t *testing.T) storetest.Harness { return harness{} })
}
