package server_test

import (
	"context"
	"os"
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/store/pgstore"
	"github.com/tfpilot/tfpilot/store/s3store"
)

// TestMain stops the PostgreSQL and S3 servers testenv started.
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// TestE2E_Postgres runs the suite on pgstore, a database per test
// (skipped without PostgreSQL unless TFPILOT_TEST_REQUIRE names
// postgres).
func TestE2E_Postgres(t *testing.T) {
	t.Parallel()
	runSuite(t, func(t *testing.T) tfpilot.Store {
		dsn := testenv.PostgresDSN(t)
		ctx := context.Background()
		s, err := pgstore.Open(ctx, dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestE2E_S3 runs the suite on s3store, a bucket or prefix per test
// (skipped without an S3 server unless TFPILOT_TEST_REQUIRE names s3).
func TestE2E_S3(t *testing.T) {
	t.Parallel()
	runSuite(t, func(t *testing.T) tfpilot.Store {
		b := testenv.NewS3(t)
		s, err := s3store.New(b.Client, b.Bucket, &s3store.Options{Prefix: b.Prefix})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
