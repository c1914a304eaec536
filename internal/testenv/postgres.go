package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Environment variables read by [PostgresDSN].
const (
	// EnvPostgresDSN names a PostgreSQL server to use, as a postgres://
	// URL of any database on it whose user may create databases; each
	// test gets a database of its own there, dropped when it ends.
	EnvPostgresDSN = "TFPILOT_TEST_POSTGRES_DSN"
	// EnvPostgresImage overrides the container image; default
	// [DefaultPostgresImage].
	EnvPostgresImage = "TFPILOT_TEST_POSTGRES_IMAGE"
	// EnvPostgresBin names the directory holding initdb and pg_ctl for
	// the host provider; default: the newest /usr/lib/postgresql/*/bin,
	// else PATH.
	EnvPostgresBin = "TFPILOT_TEST_POSTGRES_BIN"
)

// DefaultPostgresImage is the image the containers provider runs.
const DefaultPostgresImage = "postgres:16-alpine"

// pgServer is a PostgreSQL server the test binary uses: admin connects
// as a superuser to a maintenance database.
type pgServer struct {
	provider string
	dsn      *url.URL
	admin    *sql.DB
}

var postgres struct {
	once sync.Once
	srv  *pgServer
	why  string // why no server could be had, when srv is nil
}

// PostgresDSN returns the DSN (a postgres:// URL) of a new, empty
// database made for t alone and dropped when t ends. The server comes
// from, in order: [EnvPostgresDSN]; a container started with
// testcontainers when a Docker engine answers (image [EnvPostgresImage]);
// a cluster started on the host with initdb and pg_ctl. A test binary
// starts at most one server, shared by its tests; call [Main] from
// TestMain to stop it on exit. When no server can be had, t ends through
// [Unavailable]: a skip, or a failure when TFPILOT_TEST_REQUIRE names
// postgres.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	postgres.once.Do(func() { postgres.srv, postgres.why = findPostgres() })
	srv := postgres.srv
	if srv == nil {
		Unavailable(t, Postgres, postgres.why)
		return ""
	}
	name := databaseName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := srv.admin.ExecContext(ctx, "CREATE DATABASE "+quoteIdent(name)); err != nil {
		t.Fatalf("testenv: create database %s on the %s PostgreSQL: %v", name, srv.provider, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := srv.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	u := *srv.dsn
	u.Path = "/" + name
	return u.String()
}

// findPostgres returns a server from the first provider that has one,
// or why none did.
func findPostgres() (*pgServer, string) {
	var tried []string
	if Allowed(ProviderEnv) {
		if dsn := os.Getenv(EnvPostgresDSN); dsn != "" {
			srv, err := connectServer(ProviderEnv, dsn)
			if err != nil {
				return nil, fmt.Sprintf("%s=%q: %v", EnvPostgresDSN, redact(dsn), err)
			}
			return srv, ""
		}
		tried = append(tried, EnvPostgresDSN+" is not set")
	}
	if Allowed(ProviderContainers) {
		srv, err := startContainerPostgres()
		if err == nil {
			return srv, ""
		}
		tried = append(tried, "containers: "+err.Error())
	}
	if Allowed(ProviderHost) {
		srv, err := startHostPostgres()
		if err == nil {
			return srv, ""
		}
		tried = append(tried, "host: "+err.Error())
	}
	if p := ForcedProvider(); p != "" {
		tried = append(tried, "TFPILOT_TEST_PROVIDER="+p+" allows no other provider")
	}
	return nil, strings.Join(tried, "; ")
}

// connectServer opens an admin pool on dsn and checks that it answers.
func connectServer(provider, dsn string) (*pgServer, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("not a postgres:// URL")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return &pgServer{provider: provider, dsn: u, admin: db}, nil
}

var unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)

// databaseName returns a new database name that says which test it is
// for, within PostgreSQL's 63 bytes.
func databaseName(test string) string {
	s := unsafeName.ReplaceAllString(strings.ToLower(test), "_")
	if len(s) > 40 {
		s = s[len(s)-40:]
	}
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "t_" + strings.Trim(s, "_") + "_" + hex.EncodeToString(b[:])
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// redact hides a DSN's password.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

// started holds how to stop each server this binary started.
var started struct {
	mu    sync.Mutex
	stops []func() error
}

func onStop(stop func() error) {
	started.mu.Lock()
	defer started.mu.Unlock()
	started.stops = append(started.stops, stop)
}

// Main runs m's tests and then stops every server the test binary
// started, returning the exit code for os.Exit:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
//
// Servers outlive their tests without it only until the binary exits: a
// watchdog process stops each one when the test binary is gone, however
// it ended.
func Main(m *testing.M) int {
	code := m.Run()
	if err := stopAll(); err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func stopAll() error {
	started.mu.Lock()
	stops := started.stops
	started.stops = nil
	started.mu.Unlock()
	if srv := postgres.srv; srv != nil {
		srv.admin.Close()
	}
	var errs []error
	for i := len(stops) - 1; i >= 0; i-- {
		errs = append(errs, stops[i]())
	}
	return errors.Join(errs...)
}
