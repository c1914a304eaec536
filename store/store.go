package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
)

// Store persists requests and everything kept around them. Backends live
// in store/memstore, store/pgstore and store/s3store; every backend passes
// the conformance suite in store/storetest.
//
// Errors wrap the sentinels [ErrNotFound], [ErrConflict],
// [ErrAlreadyExists] and [ErrInvalid] with %w; callers check them with
// errors.Is. Every method is safe for concurrent use, and every write
// that must not lose a concurrent update is atomic in the backend
// (a compare-and-swap or a create-if-absent).
type Store interface {
	RequestStore
	EventStore
	RunIndex
	PRIndex
	DeliveryStore
	IdempotencyStore
	RateLimitStore
	CostStore
}

// RequestStore holds request documents.
type RequestStore interface {
	// GetRequest returns the request with id, or ErrNotFound.
	GetRequest(ctx context.Context, id string) (*Request, error)

	// CreateRequest stores r if no request with r.ID exists (live or
	// archived), else returns ErrAlreadyExists. The stored document has
	// Version 1; zero ReceivedAt and UpdatedAt are set to the store's
	// clock. It returns the stored document.
	CreateRequest(ctx context.Context, r *Request) (*Request, error)

	// UpdateRequest replaces the stored document with r if the stored
	// Version equals r.Version (compare-and-swap), storing it with
	// Version+1, and returns the stored document. It returns ErrConflict
	// when the version differs and ErrNotFound when the request is
	// absent. When r is identical to the stored document, nothing is
	// written and the stored document is returned with its version
	// unchanged.
	//
	// ReceivedAt is set at creation and never changes, because it is the
	// sort key of ListRequests and a request moving across a walk's
	// cursor would be skipped or listed twice. A zero r.ReceivedAt keeps
	// the stored value. A non-zero one must be the stored instant (as
	// time.Equal compares, at the backend's precision: one that equals
	// the stored value once both are rounded to what the backend keeps is
	// accepted; see [SameReceivedAt]), else UpdateRequest returns
	// ErrInvalid and writes nothing. Either way the stored value is kept as it was, so the
	// ReceivedAt that GetRequest returns, sent back as is, is always
	// accepted. Version conflicts are reported before ErrInvalid.
	UpdateRequest(ctx context.Context, r *Request) (*Request, error)

	// ListRequests returns a page of requests, newest first by
	// ReceivedAt (then by ID, descending), filtered by q. Pages are
	// stable: walking with NextCursor neither skips nor repeats a request
	// that existed when the walk began, however many are created
	// meanwhile.
	ListRequests(ctx context.Context, q ListQuery) (ListPage, error)

	// ArchiveRequest moves the request to history if its stored Version
	// equals version: it is no longer returned by GetRequest or
	// ListRequests, but by GetArchivedRequest. ErrConflict on a version
	// mismatch, ErrNotFound when absent.
	ArchiveRequest(ctx context.Context, id string, version int64) error

	// GetArchivedRequest returns an archived request, or ErrNotFound.
	GetArchivedRequest(ctx context.Context, id string) (*Request, error)
}

// ListQuery filters and pages [RequestStore.ListRequests].
type ListQuery struct {
	// Project and Environment, when set, must match exactly.
	Project     string
	Environment string
	// Statuses, when non-empty, keeps requests whose clock-free status
	// ([lifecycle.IndexStatus] of their facts, kept at every write) is
	// one of these. [Pilot.List] re-derives it with Config.Rules.
	Statuses []lifecycle.Status
	// Limit is the page size: 0 means [DefaultPageSize]; larger than
	// [MaxPageSize] is clamped.
	Limit int
	// Cursor is a previous page's NextCursor; empty starts at the newest.
	// A cursor is opaque and only valid with the same filters.
	Cursor string
}

// Page sizes for [ListQuery].
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// ListPage is one page of requests.
type ListPage struct {
	Requests []*Request
	// NextCursor continues the walk; empty on the last page.
	NextCursor string
}

// Event is one entry of a request's lifecycle log (audit and timeline;
// it never drives status).
type Event struct {
	// ID is unique within the request; the store assigns one when empty.
	ID        string         `json:"id,omitempty"`
	RequestID string         `json:"requestId"`
	Event     string         `json:"event"`
	Timestamp time.Time      `json:"timestamp"`
	Actor     string         `json:"actor,omitempty"`
	Source    string         `json:"source,omitempty"`
	Data      map[string]any `json:"data,omitempty"`

	raw *rawDoc // what a stored event held that Event does not model (event_json.go)
}

// EventStore holds lifecycle events, append-only.
type EventStore interface {
	// AppendEvent stores e and returns it with its ID. A zero Timestamp
	// is set to the store's clock. An e.ID already stored for the request
	// is ErrAlreadyExists (so copies are idempotent).
	AppendEvent(ctx context.Context, e Event) (Event, error)
	// ListEvents returns a request's events in Timestamp order (ties by
	// ID); none is an empty slice, not an error.
	ListEvents(ctx context.Context, requestID string) ([]Event, error)
}

// RunIndex maps a workflow run to the request that owns it.
type RunIndex interface {
	// IndexRun records that run runID of kind belongs to requestID.
	// Recording the same mapping again is a no-op; mapping the run to a
	// different request is ErrAlreadyExists.
	IndexRun(ctx context.Context, kind runs.Kind, runID int64, requestID string) error
	// LookupRun returns the request owning run runID of kind, or
	// ErrNotFound.
	LookupRun(ctx context.Context, kind runs.Kind, runID int64) (string, error)
}

// PRRef names a pull request.
type PRRef struct {
	Owner  string
	Repo   string
	Number int
}

// PRIndex maps a pull request to the request that opened it.
type PRIndex interface {
	// IndexPR records that pr belongs to requestID, with the same
	// semantics as [RunIndex.IndexRun].
	IndexPR(ctx context.Context, pr PRRef, requestID string) error
	// LookupPR returns the request owning pr, or ErrNotFound.
	LookupPR(ctx context.Context, pr PRRef) (string, error)
}

// Delivery is a GitHub webhook delivery's claim and outcome.
type Delivery struct {
	ID          string
	Event       string
	ClaimedAt   time.Time
	CompletedAt time.Time // zero while handling is in progress
	Outcome     string

	raw *rawDoc // what a stored delivery held that Delivery does not model (delivery_json.go)
}

// DeliveryClaimTTL is how long a delivery's claim holds while its
// handling is in progress. A claim neither completed nor released
// within it is stale: its handler is taken to have died (a crash
// mid-handling, or a ReleaseDelivery that failed), and the next claim of
// the id replaces it, so the delivery is not lost. It is far beyond
// anything a live handler takes: GitHub waits 10 s for an answer and
// the webhook package's handler gives up after 7 s
// (webhook.DefaultTimeout), so a claim this old has no handler left to
// race with. Should a handler outlive it all the same, the claim's
// fencing value (below) keeps it from completing or releasing the claim
// that replaced its own.
const DeliveryClaimTTL = 10 * time.Minute

// DeliveryStore makes webhook handling happen once per delivery id.
//
// A claim's fencing value is its ClaimedAt, as ClaimDelivery returns it:
// it is unique to the claim and grows from a claim to the next one of
// the same id (a stale claim is replaced only at or after ClaimedAt +
// [DeliveryClaimTTL], by the replacing claimer's clock). CompleteDelivery
// and ReleaseDelivery take it back and refuse with [ErrConflict] when
// the stored claim is another one, so a handler that outlived its claim
// cannot complete or drop its successor's.
type DeliveryStore interface {
	// ClaimDelivery claims delivery id (of GitHub event type event) for
	// handling, at the store's clock, and returns the claim's fencing
	// value: its ClaimedAt as stored (at the backend's precision).
	// Exactly one of any number of concurrent claims succeeds; the
	// others, and any claim of an id already claimed (and not stale,
	// below) or completed, get ErrAlreadyExists.
	//
	// A claim that is neither completed nor younger than
	// [DeliveryClaimTTL] (by the store's clock: claimed at or before
	// now minus the TTL) is stale, and claiming the id then replaces
	// it: the delivery gets the new ClaimedAt and event, as if it had
	// been released first. Among concurrent claimers of a stale claim
	// exactly one wins; the others get ErrAlreadyExists. A completed
	// delivery is never reclaimed, however old.
	//
	// The signature uses no tfpilot types so that the Store satisfies
	// the webhook package's interface as is.
	ClaimDelivery(ctx context.Context, id, event string) (claim time.Time, err error)
	// CompleteDelivery records the outcome of the delivery claimed with
	// fencing value claim. ErrNotFound when the id was never claimed;
	// ErrConflict when the stored claim is not claim (it was replaced).
	CompleteDelivery(ctx context.Context, id string, claim time.Time, outcome string) error
	// ReleaseDelivery drops the claim of a delivery whose handling
	// failed, so a redelivery can claim it. Releasing an absent claim is
	// a no-op; releasing a completed delivery, or a claim that is not
	// claim (it was replaced), is ErrConflict.
	ReleaseDelivery(ctx context.Context, id string, claim time.Time) error
	// GetDelivery returns a delivery's claim, or ErrNotFound.
	GetDelivery(ctx context.Context, id string) (Delivery, error)
}

// IdempotencyRecord is the stored answer to an operation made with an
// idempotency key.
type IdempotencyRecord struct {
	// Operation and Key identify the record (e.g. "create", "apply:req-1").
	Operation string
	Key       string
	// Fingerprint identifies the request body the key was first used
	// with, so a different body under the same key can be rejected.
	Fingerprint string
	// RequestID is the request the operation acted on.
	RequestID string
	// Response is the first answer, replayed for repeats.
	Response  json.RawMessage
	CreatedAt time.Time
	// ExpiresAt ends the record's window; after it the key is free.
	ExpiresAt time.Time
}

// IdempotencyStore holds idempotency records durably.
type IdempotencyStore interface {
	// PutIdempotency stores rec if no unexpired record exists for its
	// Operation and Key, else returns ErrAlreadyExists. An expired record
	// is replaced. A zero CreatedAt is set to the store's clock.
	PutIdempotency(ctx context.Context, rec IdempotencyRecord) error
	// GetIdempotency returns the unexpired record for operation and key,
	// or ErrNotFound.
	GetIdempotency(ctx context.Context, operation, key string) (IdempotencyRecord, error)
}

// RateLimitBackoff is a stored instruction to stop calling GitHub for a
// scope until a time.
type RateLimitBackoff struct {
	// Scope is "global" or "owner/repo", or
	// "reconcile-cooldown:<request>:<kind>:<run>" for the engine's
	// per-run reconcile cooldown (Config.ReconcileCooldown), which is
	// shared through the store the same way.
	Scope  string
	Until  time.Time
	Reason string
}

// RateLimitStore shares GitHub rate-limit backoff between processes.
type RateLimitStore interface {
	// SetRateLimitBackoff stores b, replacing the scope's previous value.
	SetRateLimitBackoff(ctx context.Context, b RateLimitBackoff) error
	// GetRateLimitBackoff returns the scope's backoff, or ErrNotFound.
	GetRateLimitBackoff(ctx context.Context, scope string) (RateLimitBackoff, error)
}

// Cost holds the infracost documents a workflow uploaded for a request.
type Cost struct {
	RequestID string
	// Estimate is infracost's breakdown (cost/<id>/infracost-cost.json).
	Estimate json.RawMessage
	// Diff is infracost's diff (cost/<id>/infracost-diff.json).
	Diff json.RawMessage
}

// CostStore reads cost documents. Workflows write them in the original
// system; PutCost exists for migrations, tests and uploaders.
type CostStore interface {
	// GetCost returns the request's cost documents, or ErrNotFound when
	// it has neither.
	GetCost(ctx context.Context, requestID string) (Cost, error)
	// PutCost stores c's non-empty documents.
	PutCost(ctx context.Context, c Cost) error
}

// PRIndexRepairer is an optional extension of a [Store], found by type
// assertion: it moves a pull-request index entry from one request to
// another, as a compare-and-swap on the entry's current holder. The
// engine uses it to repair an entry that points at the wrong request (a
// pull request number that a restarted simulator handed out again, a
// row a crash left stale) once GitHub has said which request's branch
// the pull request is from.
type PRIndexRepairer interface {
	// ReindexPR makes pr point at to if it points at from. An entry
	// held by another request is [ErrConflict]; a missing one
	// [ErrNotFound].
	ReindexPR(ctx context.Context, pr PRRef, from, to string) error
}
