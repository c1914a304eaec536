package main

import (
	"os"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// TestCopy_ToPostgres copies into a PostgreSQL database the command
// gives a schema to, then audits it there.
func TestCopy_ToPostgres(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	memoryStores["pg-src"] = filled(t)
	code, out, errOut := runCmd(t, "copy", "--from", "memory:pg-src", "--to", dsn)
	if code != exitOK || !strings.Contains(out, "3 items read, 3 written") || !strings.Contains(out, "OK: source and target match") {
		t.Fatalf("copy: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCmd(t, "audit", "--store", dsn)
	if code != exitFindings || !strings.Contains(out, "req-bad INV-CORE-4 apply: currentAttempt 2 names no attempt") {
		t.Errorf("audit: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, _ := runCmd(t, "audit", "--store", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"); code != exitError {
		t.Errorf("audit of an unreachable database: exit %d, want %d", code, exitError)
	}
}
