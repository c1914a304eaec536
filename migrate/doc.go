// Package migrate audits a [store.Store] against the Tier A invariants
// and copies everything one store holds into another: the move of an
// original TfPilot S3 bucket to PostgreSQL, first of all.
//
// # Audit
//
// [Audit] reads every request (through [store.Exporter] when the store
// offers it, else by listing live requests) and reports each breach of
// an invariant as a [Violation] naming the request, the [Invariant] and
// what is wrong:
//
//	rep, err := migrate.Audit(ctx, store, nil)
//	for _, v := range rep.Violations {
//		fmt.Println(v) // req-1 INV-CORE-4 plan: currentAttempt 3 names no attempt (attempts: 1, 2)
//	}
//
// An audit only reads. Violations are findings, not errors: err is set
// only when the store could not be read.
//
// # Copy
//
// [Copy] exports every kind of item from a source that implements
// [store.Exporter] and imports it into a target that implements
// [store.Importer] (and Exporter, for the final comparison), keeping
// each item as it is: versions, timestamps, ids, claims and the fields
// tfpilot does not model.
//
//	res, err := migrate.Copy(ctx, s3, pg, &migrate.CopyOptions{Progress: print})
//	if err == nil && !res.OK() { /* conflicts or a count/checksum mismatch */ }
//
// A copy is idempotent: an item the target already holds identically is
// left alone, so running a copy again writes nothing, and a copy that
// was interrupted (a cancelled context, a crash) is resumed by running
// it again. An item the target holds differently is never overwritten;
// it is reported as a [Conflict]. Each kind ends with a count and an
// order-independent checksum of the canonical JSON
// ([store.Item.Canonical]) of every item on both sides, so a complete
// copy is one whose [KindResult.Match] holds for every kind. The
// target's side is read back from the target after the kind is copied
// (never taken from what was sent to it), on its own goroutines while
// the next kind is copied; the source's side is summed as the items are
// read for the copy, so the source is read once. A target
// that is a [store.BatchImporter] (pgstore) gets items in batches
// ([CopyOptions.BatchSize]); a batch interrupted by a crash is resumed
// like any item, since the target stores each item whole or not at all.
// A request's
// canonical JSON is its document as stored, unknown fields and values
// read leniently included, so the checksums compare raw documents.
//
// A source that is a [store.FateExporter] (s3store) names the fate of
// every object it holds: Copy never stops on one object, files the
// quarantined ones (unreadable, with the field and the problem), the
// skipped ones (not items, with the reason) and the ones read leniently
// in [Result], and a quarantine makes [Result.OK] false. The audit
// reports values read leniently ([InvLenient]) and objects that cannot
// be read ([InvUnreadable]).
//
// # Errors
//
// Errors wrap what the store returned with the operation as context
// (`migrate: copy event: s3store: …`). A source that cannot export or a
// target that cannot import is [errors.ErrUnsupported]; check with
// errors.Is. Nothing in this package prints: progress goes to the
// callback the caller gives.
package migrate
