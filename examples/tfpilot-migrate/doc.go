// Command tfpilot-migrate audits a tfpilot store against the Tier A
// invariants and copies one store into another — first of all an
// original TfPilot S3 bucket into PostgreSQL.
//
// Usage:
//
//	tfpilot-migrate audit --store URL [--now RFC3339]
//	tfpilot-migrate copy  --from URL --to URL [--dry-run] [--kinds k1,k2] [--concurrency N] [--progress-every N]
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
// audit prints one line per violation on stdout and a summary; copy
// prints progress on stderr and, at the end, a table of counts and
// checksums per kind on stdout. The exit status is 0 when the audit
// found nothing or the copy is complete and matches, 1 when there are
// violations, conflicts or mismatches, and 2 on a usage or store error.
package main
