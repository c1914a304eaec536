package multiproc

import (
	"os"
	"testing"

	"github.com/tfpilot/tfpilot/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
