// Package pgstore is a [store.Store] in PostgreSQL, written with
// uptrace/bun over pgx (through database/sql). It passes the conformance
// suite in store/storetest.
//
// Each request is a row holding the document as JSONB beside the columns
// lists use: project, environment, status ([lifecycle.IndexStatus] of the
// document, recomputed at every write: a function of the facts alone, so
// it needs no clock and never goes out of date; never read back as a
// fact), received and updated times. A row written by an earlier version
// may hold a status derived with older rules until its next write: run
// [Store.Rederive] once after upgrading ([tfpilot.Pilot.List] re-derives
// every request it returns either way; Rederive also fills in the
// done_until column of rows written before migration 0005 or imported,
// which [Store.InsightsAggregate] selects recent completions by: until
// then those rows are read on every insights call). Updates are compare-and-swap
// (UPDATE ... WHERE id = ? AND version = ?) and write nothing when the
// document is unchanged; lists are keyset pages on (received_at, id)
// newest first, so a page costs the same however many requests there are
// (received_at is written at creation only: an update whose ReceivedAt
// differs from the stored one at microsecond precision is
// [store.ErrInvalid]);
// claims, indexes and idempotency keys are primary keys written with
// INSERT ... ON CONFLICT; archiving moves a row to tfpilot_request_history
// in one transaction.
//
// JSONB rewrites number text (1e+21) and refuses U+0000 and unpaired
// surrogates, so a document whose JSONB form would differ from its text
// is also kept as text in a raw column (migration 0003) and read from
// there; the JSONB copy, with those escapes replaced by U+FFFD, serves
// the queries. Events are kept the same way (migration 0004); a
// delivery with fields [store.Delivery] does not model keeps its
// document as text beside its columns (0004), which stay authoritative.
// [Store.PendingMigrations] says which
// migrations a database lacks, without writing.
//
// Two optional extensions save round trips. As a
// [store.DeliveryWriter], a webhook delivery costs three statements
// (the claim; the index lookup joined with the read; one statement with
// data-modifying CTEs that writes the request, inserts its staged
// lifecycle events and completes the delivery, fenced on its claim, all
// or nothing), so the events are atomic with the change without the
// outbox's second write. As a [store.BatchImporter], a migration's
// requests, events and index entries are inserted by one multi-row
// statement per kind and batch.
//
// Use:
//
//	s, err := pgstore.Open(ctx, "postgres://user@host/db", nil)
//	if err != nil { ... }
//	defer s.Close()
//	if err := s.Migrate(ctx); err != nil { ... } // embedded SQL, idempotent
//
// or [New] over an existing *bun.DB, or [NewFromSQL] over a *sql.DB.
//
// Errors wrap tfpilot's sentinels ([store.ErrNotFound],
// [store.ErrConflict], [store.ErrAlreadyExists],
// [store.ErrInvalid]) with the operation and key as context, e.g.
// `pgstore: update request "r1": version conflict`; check them
// with errors.Is. Database and context errors are wrapped too, so
// errors.Is(err, context.Canceled) works.
//
// Times are stored with PostgreSQL's microsecond precision; requests and
// events sort by their microsecond timestamps.
package pgstore
