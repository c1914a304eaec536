// Command connect-server is tfpilot's reference service: the tfpilot.v1
// Connect API (package server) over the engine, with a store, GitHub
// credentials, the GitHub webhook endpoint, health, metrics and JSON logs.
//
// With no GitHub credentials it runs the demo, which needs nothing but Go:
//
//	go run ./examples/connect-server
//
// The demo keeps requests in memory, simulates GitHub (repository
// acme/infra; Actions runs complete on their own in about 4 s and their
// webhooks come back to this server), loads the catalogue in demo.json,
// prints a generated admin token with the curl commands to try, and runs
// an autopilot that approves, merges and applies every successful plan
// (--demo-autopilot=false to do that by hand). The autopilot backs off
// per request (exponentially, with jitter, up to 30 s) when a step is
// refused, instead of retrying on every change.
//
// The simulated GitHub lives in memory. The demo may use --store
// postgres or s3, but it refuses to start over a store that already
// holds requests: those ran on a simulator that is gone, whose pull
// request and run numbers the new one hands out again, so they cannot
// be resumed. Start it on an empty database or bucket.
//
// In production:
//
//	TFPILOT_TOKENS="backstage:approver:SECRET" connect-server \
//	  --listen :8080 --config tfpilot.json \
//	  --store postgres --postgres-dsn postgres://tfpilot@db/tfpilot \
//	  --github-token "$GITHUB_TOKEN" --webhook-secret "$WEBHOOK_SECRET"
//
// Every flag has an environment variable; -h lists them. --store is
// memory, postgres (migrations are applied at start) or s3 (the original
// TfPilot bucket layout). A reconciler (package reconcile) syncs every
// request that may still move each --reconcile-interval, so a lost
// webhook delays a request but never strands it; replicas sharing a
// store elect one leader through it, and only the leader reconciles.
//
// The server serves HTTP/1.1 and h2c on one listener; SIGINT or SIGTERM
// fails /readyz, ends Watch streams and waits --shutdown-timeout for calls
// in flight.
//
// The API (protos in proto/, generated Go in gen/ at the repository root,
// import path github.com/tfpilot/tfpilot/gen/tfpilot/v1) is regenerated
// from the repository root with
//
//	go tool -modfile=tools/go.mod buf generate
package main
