// Package server implements the tfpilot.v1 Connect API over a
// [tfpilot.Pilot]: RequestService (create, get, list, update config, plan,
// approve, merge, apply, destroy, sync, events and a server-streaming
// Watch), CatalogService (modules with their rules and JSON Schema, the
// targets a caller may create in, the policy checks) and InsightsService,
// with gRPC health (following readiness and drain) and reflection,
// bearer-token authentication, Prometheus metrics (domain metrics through
// [Server.WatchGitHub] and [Server.WatchReconciler] too), optional
// OpenTelemetry spans (Options.TracerProvider), JSON logs with a
// correlation id per call, and the GitHub webhook endpoint on the same
// listener.
//
// The API speaks the Connect, gRPC and gRPC-Web protocols, so a Backstage
// backend plugin can call it with plain JSON over HTTP:
//
//	curl -X POST http://localhost:8080/tfpilot.v1.RequestService/Get \
//	  -H 'Authorization: Bearer TOKEN' -H 'Content-Type: application/json' \
//	  -d '{"id":"req-..."}'
//
// # Wiring
//
// Watch learns about changes from a [Hub]: wrap the store with [Notify]
// before handing it to the engine, so that every successful write
// publishes the request's id, and give the same Hub to [New]. Writes made
// by other processes sharing the store are picked up by a slow poll
// ([Options.WatchPoll]).
//
//	hub := server.NewHub()
//	store := server.Notify(memstore.New(nil), hub)
//	pilot, err := tfpilot.New(store, gh, cfg)
//	srv, err := server.New(server.Options{Pilot: pilot, Hub: hub, Tokens: tokens})
//	http.ListenAndServe(addr, srv.Handler())
//
// # Errors
//
// Engine errors become Connect codes (see [ConnectError]): not found,
// invalid argument with a google.rpc.BadRequest detail listing each field
// violation, failed precondition for gates, aborted for locks and version
// conflicts, unauthenticated, permission denied, unavailable for GitHub
// outages and rate limits. Any other error is answered as INTERNAL with a
// generic message naming the call's correlation id, and logged in full.
// Every error carries a google.rpc.ErrorInfo (domain [ErrorDomain]) with
// a stable reason ([ReasonLocked], [ReasonGate], [ReasonRateLimited],
// ...), a google.rpc.RetryInfo where retrying later helps, and a
// google.rpc.PreconditionFailure for gates.
// [New] returns errors wrapping [ErrInvalidOptions]; check with errors.Is.
package server
