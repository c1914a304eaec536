// Package s3store is a [store.Store] on an S3 bucket, in the original
// TfPilot's layout, so that an existing TfPilot bucket works as is.
//
// # Use
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	client := s3.NewFromConfig(cfg)
//	s, err := s3store.New(client, "tfpilot-requests", nil)
//	// Once, on a bucket the original system wrote, so that its
//	// requests are listed:
//	res, err := s.Reindex(ctx)
//
// Any S3 server with conditional writes (If-None-Match: * and If-Match
// on PutObject, If-Match on DeleteObject) works: AWS S3, versitygw,
// MinIO. Local servers usually need path-style addressing
// (s3.Options.UsePathStyle). With Options.Concurrency above 10, give the
// client [NewHTTPClient] so that every concurrent read keeps its
// connection (the SDK keeps 10 idle ones).
//
// # Layout
//
// Under Options.Prefix (default: the bucket root), the keys of the
// original system, unchanged:
//
//	requests/<id>.json                                  the request document
//	history/<id>.json                                   an archived request
//	logs/<id>/<time>_<eventId>.json                     lifecycle events
//	webhooks/github/run-index/<kind>/run-<runId>.json   run index
//	webhooks/github/pr-index/<owner>_<repo>/pr-<n>.json PR index
//	webhooks/github/deliveries/<deliveryId>.json        webhook deliveries
//	webhooks/github/ratelimit/global.json               rate-limit backoff
//	webhooks/github/ratelimit/<owner>_<repo>.json
//	webhooks/github/ratelimit/reconcile-cooldown:<id>:<kind>:<run>.json  reconcile cooldowns
//	cost/<id>/infracost-cost.json                       infracost documents
//	cost/<id>/infracost-diff.json
//
// and the prefixes this package adds, under tfpilot/:
//
//	tfpilot/list/<position>~/p<project>.e<environment>.s<status>  list index
//	tfpilot/event-ids/<id>/<eventId>.json                        event id claims
//	tfpilot/idempotency/<operation>/<key>.json                   idempotency records
//	tfpilot/leases/<name>.json                                   leases (store.LeaseStore)
//	tfpilot/insights/done/<inverted time>_<inverted id>~<attempt>  completed attempts
//	tfpilot/insights/destroying/<id>~<dispatch>                  destroys in flight
//	tfpilot/insights/ready.json                                  the two above are complete
//	tfpilot/by-status/<status>/<list-index key>                  status index
//	tfpilot/by-status/ready.json                                 it is complete
//
// The status index holds a twin of every list-index entry under its
// status's prefix, so that a status-filtered page lists only the keys of
// those statuses; a bucket without it (written by an earlier version) is
// filtered by scanning the list index until [Store.Reindex] adds it.
//
// The insights keys let [Store.InsightsAggregate] ([store.InsightsStore])
// answer from listings: the list index's keys for the status counts, the
// done keys of the last 7 days for the rates; it reads no document but
// ready.json (and those of requests whose list-index entries disagree).
// A bucket written by an earlier version lacks them and is walked
// request by request until [Store.Reindex] writes them and ready.json.
//
// Bodies: request documents are [store.Request]'s JSON (fields this
// version does not model survive updates), plus status and
// statusDerivedAt, as the original wrote them: the status is
// [lifecycle.IndexStatus] of the facts at the write, the same as the
// list-index key's. Neither is read back as a fact, and list status
// filters never trust the status a document carries (the original's may
// be stale or spelled otherwise): they derive it from the document's
// facts. Run- and PR-index entries are
// {"requestId", "kind"/"runId" or "owner"/"repo"/"number", "indexedAt"};
// only requestId is read, and an entry holding a bare id (JSON string or
// plain text) or request_id is read too. A delivery is {"deliveryId",
// "event", "state": "claimed"|"completed", "claimedAt", "completedAt",
// "outcome"}; an object without state is a delivery the original system
// recorded after handling it, i.e. completed; other fields of a delivery
// object are kept when it is completed, exported or imported
// ([store.Delivery.UnknownFields]). Events are [store.Event]'s
// JSON; an event without id or timestamp (as the original wrote them)
// takes its key's name and time. Rate-limit backoffs are {"scope",
// "until", "reason"}. Cost documents are stored byte for byte.
//
// # Atomicity
//
// Every write that must not lose a concurrent one is conditional:
// creating a request, claiming a delivery, indexing a run or PR and
// claiming an event id use If-None-Match: *; updating a request,
// completing or releasing a delivery, reclaiming a stale delivery claim,
// replacing an expired idempotency record and archiving use If-Match on
// the ETag read. S3 answers a lost
// race with 412 PreconditionFailed, 409 ConditionalRequestConflict, or,
// for If-Match on a key deleted meanwhile, 404 NoSuchKey; all three mean
// the race was lost. Each request document holds its version, so its
// ETag changes on every write.
//
// # Listing
//
// [Store.ListRequests] reads ListObjectsV2 pages of the list index,
// whose keys sort newest first (ReceivedAt, then id, both inverted) and
// name the project, environment and [lifecycle.IndexStatus] (clock-free,
// derived from the facts), keeps the keys that pass the filters, and GETs
// only those documents, keeping a document only when its own facts pass
// the filters (the
// page plus one, to know whether another page follows),
// Options.Concurrency at a time. A page of 50 costs one ListObjectsV2
// call and 51 GETs whatever the bucket holds; a filtered page adds one
// ListObjectsV2 call per 1,000 index keys it scans past. Requests
// written by the original system have no index entry: run
// [Store.Reindex] once to add them (also after upgrading from a version
// that named the status derived with the clock, or the original's status
// field, in its keys: such an entry still lists its request unfiltered,
// but a status filter finds the request by the entry Reindex adds), and
// after a crash, to tidy entries of interrupted writes;
// `tfpilot-migrate reindex` runs it, and [Store.ListIndexMissing] tells a
// server at start-up that it has not run. A document that cannot be
// read never stops Reindex: it is reported as unlistable.
//
// # Buckets other programs wrote
//
// Documents decode leniently and losslessly ([store.DecodeRequest]):
// a value of the wrong shape is read as the original app read it and
// written back as stored, and fields tfpilot does not model survive
// every write at every depth. [Store.ExportFates] (a
// [store.FateExporter]) names the fate of every object for
// migrations: copied, skipped with the reason, or quarantined with the
// field and the problem.
//
// # Archiving
//
// [Store.ArchiveRequest] copies the document to history/, marks the live
// document (a tfpilotArchiving field, written with If-Match so that a
// concurrent update and the archive cannot both win), then deletes it.
// A marked document reads as archived; archiving again finishes a move a
// crash interrupted.
//
// # Servers
//
// versitygw checks If-Match on DELETE and on PUT separately: a
// conditional DELETE and a conditional PUT holding the same ETag can
// both succeed. This package never lets a conditional delete of a
// request document race a conditional put of it (hence the mark above).
// Releasing a delivery's claim does use one; the claim holder is the
// only writer of a claimed delivery until the claim goes stale
// ([store.DeliveryClaimTTL], far beyond any live handler's time), so
// it does not race a reclaim.
//
// # Errors
//
// Errors wrap tfpilot's sentinels with %w and say which operation and
// key failed, e.g. `s3store: update request "r1" at version 3:
// version conflict`. Check them with errors.Is against
// [store.ErrNotFound], [store.ErrConflict],
// [store.ErrAlreadyExists] and [store.ErrInvalid]; other errors are
// the S3 client's, which errors.As can unwrap to a smithy.APIError.
package s3store
