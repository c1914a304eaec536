package testenv

import (
	"database/sql"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func openDSN(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPostgresDSN_EachTestGetsItsOwnEmptyDatabase(t *testing.T) {
	names := make(chan string, 2)
	t.Run("group", func(t *testing.T) {
		for _, name := range []string{"a", "b"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				db := openDSN(t, PostgresDSN(t))
				var n int
				if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Errorf("new database has %d tables, want none", n)
				}
				// The same table name in each test's database.
				if _, err := db.ExecContext(t.Context(), `CREATE TABLE mine (v text); INSERT INTO mine VALUES ('x')`); err != nil {
					t.Fatal(err)
				}
				var cur string
				if err := db.QueryRowContext(t.Context(), `SELECT current_database()`).Scan(&cur); err != nil {
					t.Fatal(err)
				}
				names <- cur
			})
		}
	})
	close(names)
	var got []string
	for n := range names {
		got = append(got, n)
	}
	if len(got) == 2 && got[0] == got[1] {
		t.Errorf("two tests shared database %s", got[0])
	}
	if t.Skipped() || len(got) < 2 {
		return
	}
	// Both databases were dropped when their tests ended.
	var left int
	if err := postgres.srv.admin.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_database WHERE datname = ANY($1)`, got).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d of the tests' databases %v outlived their tests", left, got)
	}
}

func TestDatabaseName_IsUniqueAndSafe(t *testing.T) {
	t.Parallel()
	long := "TestSomething/" + strings.Repeat("Ünïcode \"quoted\" ", 10)
	a, b := databaseName(long), databaseName(long)
	if a == b {
		t.Errorf("two names for one test are both %q", a)
	}
	for _, n := range []string{a, b} {
		if len(n) > 63 || unsafeName.MatchString(n) {
			t.Errorf("name %q is longer than 63 bytes or has unsafe characters", n)
		}
	}
}

func TestRedact_HidesPassword(t *testing.T) {
	t.Parallel()
	got := redact("postgres://u:secret@h:5432/db")
	if strings.Contains(got, "secret") {
		t.Errorf("redact kept the password: %s", got)
	}
	if _, err := url.Parse(got); err != nil {
		t.Errorf("redacted DSN does not parse: %v", err)
	}
}

func TestWatch_RunsCleanupWhenTheWatchedProcessDies(t *testing.T) {
	t.Parallel()
	victim := exec.Command("sleep", "60")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	done := filepath.Join(t.TempDir(), "cleaned")
	w, err := watch(victim.Process.Pid, "touch '"+done+"'")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Process.Kill(); _ = w.Wait() }()
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(done); err == nil {
		t.Fatal("cleanup ran while the watched process was alive")
	}
	_ = victim.Process.Kill()
	_ = victim.Wait() // reap it, as go test reaps a test binary
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(done); err == nil {
			return
		}
	}
	t.Fatal("cleanup did not run within 5s of the watched process's death")
}
