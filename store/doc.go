// Package store is the contract between tfpilot's engine and its
// storage backends: the request document, the store interfaces, their
// errors, and the few helpers every writer shares.
//
// It is what a backend author implements and what migration tools work
// with. It imports none of the engine's GitHub, HCL or webhook code (a
// test in the module root enforces it, transitively), so a backend,
// store/storetest and migrate build only what a store needs. The engine
// (package tfpilot) imports it and re-exports the names its embedders
// use as aliases: tfpilot.Request is store.Request.
//
// # The request document
//
// [Request] is the single schema of a request and the only source of
// truth about it. Its JSON is the original TfPilot's S3 document: it is
// decoded leniently (values the original system wrote in other shapes
// are read and reported by [Request.DecodeIssues]), and fields it does
// not model survive a read-modify-write ([Request.UnknownFields]).
// Status is never stored as a fact: [Request.Status] derives it (package
// lifecycle). [Request.Validate] is the rule for a new request;
// [Request.ValidateID] is what stores check on every write (through
// [PrepareCreate] and [PrepareUpdate]).
//
// # The store interfaces
//
// [Store] is the persistence contract, grouped by capability:
// [RequestStore] (get, create-if-absent, compare-and-swap update,
// paginated filtered list, archive), [EventStore], [RunIndex], [PRIndex],
// [DeliveryStore], [IdempotencyStore], [RateLimitStore] and [CostStore].
// Optional extensions are found by type assertion: [Exporter] and
// [Importer] (and [BatchImporter], [FateExporter]) for migration,
// [LeaseStore] and [Pruner] for the reconciler, [PRIndexRepairer],
// [InsightsStore] and [DeliveryWriter] for the engine's fast paths.
// [KeepExtensions] lets a decorator keep the ones it can pass through.
// Package store/storetest is the conformance suite each backend runs.
//
// # Errors
//
// Stores wrap [ErrNotFound], [ErrConflict], [ErrAlreadyExists] and
// [ErrInvalid] (usually a [*ValidationError]) with %w; check with
// errors.Is.
//
// # Writing
//
// Every write that must not lose a concurrent update is a
// compare-and-swap on Request.Version; [Mutate] is the read-modify-write
// loop. Lifecycle events are staged on the document with [StageEvent]
// inside that loop and appended with [FlushOutbox] after the write, so
// an event is recorded exactly when the change it describes is.
//
// # Writing a backend
//
// The rules of a request write are defined once, here; a backend does
// only what must be atomic. [PrepareCreate] checks the id, copies the
// request, sets Version 1 and the zero timestamps from the store's clock
// and derives its facts ([Write].Facts: the clock-free status list
// filters match and what insights count); the backend then does the
// create-if-absent. [PrepareUpdate] does the same for an update at the
// next version; a backend that reads the stored document before it swaps
// (memstore under its lock, s3store before its conditional PUT) calls
// [Write.Against] with it, which reports a stale version as
// [ErrConflict], a moved ReceivedAt as [ErrInvalid] ([SameReceivedAt],
// at the backend's precision), keeps the stored ReceivedAt and says
// whether the write is a no-op (canonical bytes equal,
// [Request.CanonicalJSON]); the backend then writes [Write.Canonical]
// or its own encoding of Write.Request with a compare-and-swap. A
// backend whose swap is one statement (pgstore) applies those three
// rules inside it, as the atomic step must: the version and ReceivedAt
// rules as defined here (its tests hold its SQL to [SameReceivedAt] at
// a microsecond), the no-op rule as JSONB equality, which like the
// canonical bytes ignores key order and spacing. The conformance suite
// (store/storetest) checks every backend against the rules.
//
// The layer is a set of functions over a prepared [Write], not a type
// that wraps a narrower driver interface as gocloud.dev/blob's Bucket
// wraps driver.Bucket. A wrapper can own only the rules that need no
// stored state: the rest needs the stored document, which each backend
// sees at a different point of its atomic step (under a lock, between a
// GET and a conditional PUT, never outside a SQL statement), so a
// wrapper reading it first would cost PostgreSQL a round trip and split
// its one-statement swap. Functions leave each backend its own exported
// type and its optional extensions ([DeliveryWriter], [Importer]) with
// no pass-through layer, and give every backend the same rules.
package store
