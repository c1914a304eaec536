// Package tfpilot is the core of a Terraform self-service control plane:
// a user asks for infrastructure, tfpilot renders a bounded Terraform
// block between markers in an infra repository, opens a pull request, and
// drives plan → approve → merge → apply → destroy through GitHub Actions
// workflow_dispatch. tfpilot never runs Terraform: GitHub is the execution
// boundary.
//
// # Two packages: the engine and the contract
//
// This package is the engine. The request document and the store
// contract live in package [github.com/tfpilot/tfpilot/store], which the
// backends (store/memstore, store/pgstore, store/s3store), storetest and
// migrate import without the engine's GitHub, HCL and webhook
// dependencies (a test enforces it). The names embedders use —
// [Request] and its parts, [Store] and its capability interfaces,
// [ErrNotFound] and the other store errors, [Mutate] — are aliases here
// of the store package's declarations, so one name means one type. What
// only backend authors need (export items, fates, pruning, batch
// imports, the aggregate and delivery extensions, a store's page of bare
// documents) is named in package store alone; the root's [ListPage] is
// the engine's page of [View]s.
//
// # The request document
//
// [Request] is the single schema of a request and the only source of
// truth about it. Its JSON is the original TfPilot's S3 document; fields
// it does not model survive a read-modify-write. Status is never stored
// as a fact: [Request.Status] derives it (see package lifecycle). Run
// state lives only in Request.Runs (package runs). Stores keep the
// clock-free [lifecycle.IndexStatus] beside a request for list filters;
// [Pilot.Get], [Pilot.List]'s status filters and [Pilot.Insights] all
// derive with Config.Rules at the Pilot's clock, so they agree for every
// Rules.
//
// # Storage
//
// [Store] is the persistence contract, grouped by capability (requests,
// events, run and PR indexes, webhook deliveries, idempotency records,
// rate-limit backoff, cost documents). Backends: store/memstore,
// store/pgstore, store/s3store; store/storetest is the conformance suite
// each passes. Every write that must not lose a concurrent update is a
// compare-and-swap on Version; [Mutate] is the read-modify-write loop.
// Stores that can enumerate and import everything they hold implement the
// optional store.Exporter and store.Importer (found by type
// assertion), which the migrate package uses to audit a store and copy
// one store to another.
//
// # The engine
//
// [Pilot] is what a platform team embeds: [New] over a Store and a GitHub
// client (package githubx), then one method per user action — Create,
// UpdateConfig, Plan, Approve, Merge, Apply, Destroy, Cancel,
// StartDriftCheck, Sync — and queries (Get, List, Events, Cost,
// DriftEligible, Insights). Every method about a request answers a
// [View] (List and DriftEligible a [ListPage] of them): the document
// with its status, poll interval, lock expiry and whether it is
// archived, as of the moment it answers. Every mutation is
// authorized ([Authorizer]), takes the request's TTL lock (approve and
// merge included), honours an idempotency key durably, checks its gates
// on the locked document, and writes with compare-and-swap. A lock whose
// release fails is retried with bounded backoff; one left by a dead
// holder expires, shows as such ([View.LockExpired]) and blocks nothing.
//
// # Exactly one run per attempt
//
// Dispatches follow a crash-safe protocol: the attempt and its nonce are
// persisted before workflow_dispatch, so [Pilot.Sync] can always find the
// run by its nonce or safely dispatch again. It holds across any number
// of processes on one Store:
//
//   - An attempt is dispatched again only by the holder of the request's
//     lock, after re-reading the attempt under that lock: it must still
//     have no run id, no conclusion, and the dispatch generation
//     (DispatchedAt) the unlocked read saw, older than
//     Config.DispatchGrace.
//   - The decision is recorded first, with a compare-and-swap that
//     renews the lock (a new DispatchedAt, see runs.Redispatch, and a
//     <kind>_redispatched event); a process that read the attempt
//     before sees it moved and does not dispatch.
//   - No new dispatch follows a quick look: GitHub lists a dispatched run
//     only seconds later, so githubx looks for the run with backoff until
//     its list-lag window (githubx.DefaultListLag) has passed, and
//     DispatchGrace is never shorter than that window plus the longest a
//     dispatch call may take.
//   - A run found carrying an attempt's nonce is attached, not dispatched
//     again. A second run carrying the same nonce is reported (a
//     <kind>_duplicate_run event and a warning) and never attached or put
//     in the run index.
//   - An attempt whose conclusion is unknown is in flight: the gates of
//     Apply and Destroy refuse to start another over it.
//
// # Lifecycle events
//
// A milestone (pr_merged, plan_completed, apply_dispatched, …) is recorded
// exactly once and is not lost by a crash after the write that made it.
// The event is decided inside the compare-and-swap function from that
// try's own read (so a losing try's decision is discarded with it) and
// staged in the document's outbox ([StageEvent]) in the same write; it
// is then appended to the [EventStore] under a deterministic id, so a
// second append is [ErrAlreadyExists], and cleared from the outbox
// ([FlushOutbox]). An outbox a crash left behind is flushed by the next
// write or by Sync. This works alike on every backend, with no
// transaction spanning the document and the event log.
//
// # Many requests in one environment
//
// Requests of one environment write their blocks into one file, so each
// merge makes the others' pull requests conflict. A request's branch
// follows its base: Sync, Merge and the synchronize webhook rebuild it on
// the base's head (the base's file with the request's block re-rendered
// between its markers), which voids the approval and re-plans; Merge
// then answers [ErrPrecondition] ("the base moved; re-planned on <sha>;
// approve again"). tfpilot owns the branch: a person's push to it is
// replaced by the next rebuild. A merge GitHub refuses for another reason
// writes nothing and records one "merge_refused" event. Apply and Destroy
// are refused while another request of the same environment applies or
// destroys. Create answers the stored request even when a later GitHub
// step fails; Sync finishes it.
//
// # Approvals
//
// An approval is a grant of one head commit by one principal, recorded in
// the request's approval with the GitHub reviews seen. The rules live in
// one place ([ApprovalRules], [ApprovalWithGrant], [ApprovalWithReview],
// [ApprovalForHead]) and Approve, Sync and the [WebhookSink] all use
// them: a new head commit voids approvals; a review counts only when its
// login maps to a principal ([Config.Reviewers]) the [Authorizer] lets
// approve the request, and, unless [Target.AllowSelfApproval], who is not
// its creator ([Request.CreatedBy]); a review already seen changes
// nothing. A grant also names the digest of the saved plan its approver
// saw (the plan attempt's output.planDigest); once the plan has a digest,
// Merge and Apply need an approval of that digest
// ([ApprovalCountsForPlan]), and Apply passes the plan's run id and
// digest to the apply workflow, which applies that plan file
// (workflows/apply.md). A merge commit whose tree differs from the
// planned commit's (the base moved and the pull request was merged in
// GitHub) is planned again, pinned to the merge commit, and needs an
// approval of that plan before Apply: "replan_after_merge" records both
// trees. [RoleAuthorizer] documents the default table of who may do
// what, including ownership and protected environments.
//
// # GitHub webhooks
//
// [Pilot.WebhookHandler] returns the http.Handler to mount where GitHub
// posts deliveries: package webhook verifies, claims and parses them, and
// a [WebhookSink] correlates each to its request and applies the facts
// with the same monotonic patches and compare-and-swap writes Sync uses.
// A claim left by a crashed handler expires after [DeliveryClaimTTL].
//
// # Errors
//
// Errors wrap sentinels; check them with errors.Is: [ErrNotFound],
// [ErrConflict] (a lost compare-and-swap), [ErrAlreadyExists],
// [ErrInvalid] (a [*ValidationError] listing each field's problem),
// [ErrPrecondition] (a [*GateError] saying what is missing),
// [ErrLocked] (another operation holds the lock), [ErrIdempotencyKeyReused],
// [ErrUnauthenticated], [ErrPermissionDenied] and [ErrUnavailable] (GitHub
// unreachable, failing or rate limiting; the error also wraps the githubx
// error, whose sentinels and *githubx.RateLimitError errors.Is and
// errors.As still reach).
//
// A config is refused with [ErrInvalid] before anything is stored when it
// is past a limit ([MaxConfigBytes], [MaxConfigDepth], [MaxConfigKeys],
// [MaxConfigListElements], [MaxConfigStringBytes], [MaxStringTemplateChars],
// [MaxConfigTemplateChars]: field violations at the offending path) or when
// its module block does not render (Create and UpdateConfig render it
// while validating).
package tfpilot
