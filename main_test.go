package tfpilot_test

import (
	"os"
	"testing"

	"github.com/tfpilot/tfpilot/internal/testenv"
)

// TestMain stops the PostgreSQL and S3 servers this test binary started
// for its integration tests.
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
