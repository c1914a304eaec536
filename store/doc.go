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
// [Request.ValidateID] is what stores check on every write.
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
package store
