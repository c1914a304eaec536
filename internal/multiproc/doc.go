// Package multiproc holds the multi-process test of tfpilot's central
// promise, that a dispatched plan or apply runs exactly once whatever
// crashes: the standalone fake GitHub (examples/fake-github) as its own
// process, fanning every webhook out to two reference servers
// (examples/connect-server) on one PostgreSQL, driven through the
// Connect API as clients would, with replicas killed with SIGKILL, a
// PostgreSQL restart and injected dispatch failures. It has no non-test
// code; see multiproc_test.go.
//
// The test runs in stage 1 of scripts/test and must run (not skip) when
// TFPILOT_TEST_REQUIRE names postgres. TFPILOT_SOAK=1 makes it a longer
// soak (more requests, more kills); TFPILOT_SOAK_REQUESTS overrides the
// number of requests; TFPILOT_MULTIPROC_LIST_LAG the lag of the fake's
// run lists behind a dispatch (default 2s).
package multiproc
