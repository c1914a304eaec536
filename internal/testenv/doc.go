// Package testenv provides integration-test backends (PostgreSQL, S3) to
// tfpilot's tests, and the policy for when one is missing.
//
// Each backend is found, in order, from: explicit environment variables
// (TFPILOT_TEST_POSTGRES_DSN, TFPILOT_TEST_S3_ENDPOINT and credentials),
// testcontainers when a Docker engine answers, host processes
// (PostgreSQL's initdb/pg_ctl, versitygw built from tools/go.mod), else
// the test is skipped with a message saying what was tried.
// TFPILOT_TEST_PROVIDER=env|containers|host forces one provider.
//
// A skip becomes a failure when TFPILOT_TEST_REQUIRE names the backend
// (a comma-separated list such as "postgres,s3"); CI sets it so that an
// integration test can never pass by not running.
//
// PostgreSQL: [PostgresDSN] gives each test a database of its own on a
// server shared by the test binary; packages that use it call [Main]
// from TestMain so that the server the binary started stops when it
// exits (a watchdog stops it if the binary dies first).
package testenv
