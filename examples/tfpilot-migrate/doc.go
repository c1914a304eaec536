// Command tfpilot-migrate audits a tfpilot store against the Tier A
// invariants and copies one store into another — first of all an
// original TfPilot S3 bucket into PostgreSQL.
//
// Usage:
//
//	tfpilot-migrate audit   --store URL [--now RFC3339]
//	tfpilot-migrate plan    --from URL [--json]
//	tfpilot-migrate copy    --from URL --to URL [--dry-run] [--kinds k1,k2] [--concurrency N] [--progress-every N] [--report FILE]
//	tfpilot-migrate reindex --store s3://bucket[/prefix]
//
// A store URL is one of:
//
//	s3://bucket[/prefix]        an S3 bucket in the TfPilot layout, reached with the
//	                            AWS SDK's default configuration (environment,
//	                            shared config files, instance roles); --s3-endpoint
//	                            (or AWS_ENDPOINT_URL_S3) and --s3-path-style for
//	                            local servers
//	postgres://… postgresql://… a PostgreSQL database; copy brings its schema up to
//	                            date before writing
//	memory:                     an empty in-memory store (for trying the command)
//
// audit prints one line per violation on stdout and a summary (values
// read leniently are LENIENT-READ findings, objects that cannot be read
// UNREADABLE); copy prints progress on stderr and, at the end, a table of
// counts and checksums per kind on stdout.
//
// Every object of an S3 source gets a fate, named: copy, skip (with the
// reason: a backup, a sub-folder, a duplicate of requests/<id>.json, an
// archived copy of a live request, a run-undefined key, a file that is
// not a TfPilot object) or quarantine (with the field and the problem:
// an empty or non-JSON body, a document without id). plan lists the
// fate of every object in one pass without a target (text, or one JSON
// object per line with --json). copy never stops on one object: it
// copies what it can, lists what it skipped and quarantined on stdout
// and, with --report, writes them to FILE as JSON (that file is where
// quarantined objects are documented); anything quarantined makes the
// exit status 1. A dry run into a database without tfpilot's schema
// compares with an empty store; one whose schema is behind is an error,
// never a claim of success.
//
// reindex builds the list index of a bucket served as it is by
// s3store (the original TfPilot wrote none, so List shows nothing
// until then); it never stops on one document, names the requests it
// cannot list, and finishes an interrupted run when run again.
//
// The exit status is 0 when the audit found nothing or the copy is
// complete and matches, 1 when there are violations, conflicts,
// quarantined objects, unlistable requests or mismatches, and 2 on a
// usage or store error.
package main
