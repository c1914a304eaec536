package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/store/pgstore"
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

// TestCopy_DryRunIntoAnEmptyDatabaseChecksAgainstNothing: a dry run into
// a database without tfpilot's schema says so, counts every item as to
// be written, and writes nothing (the schema is still absent after it).
func TestCopy_DryRunIntoAnEmptyDatabaseChecksAgainstNothing(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	memoryStores["pg-dry-src"] = filled(t)
	code, out, errOut := runCmd(t, "copy", "--dry-run", "--from", "memory:pg-dry-src", "--to", dsn)
	if code != exitOK || !strings.Contains(out, "3 items read, 3 written") || !strings.Contains(out, "dry run: nothing written; no conflicts") ||
		!strings.Contains(errOut, "no tfpilot schema") {
		t.Fatalf("dry run into an empty database: exit %d\n%s%s", code, out, errOut)
	}
	s, err := pgstore.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pending, err := s.PendingMigrations(context.Background())
	if err != nil || len(pending) == 0 || !strings.HasPrefix(pending[0], "0001_") {
		t.Errorf("after a dry run the database has a schema (pending %v, %v): the dry run wrote", pending, err)
	}
}
