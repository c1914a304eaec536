// Package tfpilot is the core of a Terraform self-service control plane:
// a user asks for infrastructure, tfpilot renders a bounded Terraform
// block between markers in an infra repository, opens a pull request, and
// drives plan → approve → merge → apply → destroy through GitHub Actions
// workflow_dispatch. tfpilot never runs Terraform: GitHub is the execution
// boundary.
//
// # The request document
//
// [Request] is the single schema of a request and the only source of
// truth about it. Its JSON is the original TfPilot's S3 document; fields
// it does not model survive a read-modify-write. Status is never stored
// as a fact: [Request.Status] derives it (see package lifecycle). Run
// state lives only in Request.Runs (package runs).
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
// optional [Exporter] and [Importer] (found by type assertion), which the
// migrate package uses to audit a store and copy one store to another.
//
// # The engine
//
// [Pilot] is what a platform team embeds: [New] over a Store and a GitHub
// client (package githubx), then one method per user action — Create,
// UpdateConfig, Plan, Approve, Merge, Apply, Destroy, Sync — and queries
// (Get, List, Events, Cost, DriftEligible, Insights). Every mutation is
// authorized ([Authorizer]), takes the request's TTL lock (approve and
// merge included), honours an idempotency key durably, checks its gates
// on the locked document, and writes with compare-and-swap. Dispatches
// follow a crash-safe protocol: the attempt and its nonce are persisted
// before workflow_dispatch, so [Pilot.Sync] can always find the run or
// safely dispatch again; nothing is dispatched twice.
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
// nothing. [RoleAuthorizer] documents the default table of who may do
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
// [ErrUnauthenticated] and [ErrPermissionDenied].
package tfpilot
