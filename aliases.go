package tfpilot

import (
	"context"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/store"
)

// The request document and the store contract live in package
// [store] (github.com/tfpilot/tfpilot/store), which backends, storetest
// and migrate import without the engine's GitHub, HCL and webhook
// dependencies. The names below keep the engine's API whole for
// embedders: each is the store package's declaration of the same name.

type (
	Insights          = store.Insights
	InsightsStore     = store.InsightsStore
	InsightsQuery     = store.InsightsQuery
	InsightsAggregate = store.InsightsAggregate
	AttemptCompletion = store.AttemptCompletion
	InsightFacts      = store.InsightFacts
	BatchImporter     = store.BatchImporter
	ImportResult      = store.ImportResult
	DeliveryWriter    = store.DeliveryWriter
	DeliveryDone      = store.DeliveryDone
	Approval          = store.Approval
	ApprovalGrant     = store.ApprovalGrant
	Cancellation      = store.Cancellation
	Cost              = store.Cost
	CostStore         = store.CostStore
	DecodeIssue       = store.DecodeIssue
	Delivery          = store.Delivery
	DeliveryStore     = store.DeliveryStore
	DriftCheck        = store.DriftCheck
	DriftResult       = store.DriftResult
	Event             = store.Event
	EventStore        = store.EventStore
	Exporter          = store.Exporter
	Fate              = store.Fate
	FateExporter      = store.FateExporter
	FieldViolation    = store.FieldViolation
	IdempotencyMark   = store.IdempotencyMark
	IdempotencyRecord = store.IdempotencyRecord
	IdempotencyStore  = store.IdempotencyStore
	Importer          = store.Importer
	Item              = store.Item
	ItemKind          = store.ItemKind
	Lease             = store.Lease
	LeaseStore        = store.LeaseStore
	ListPage          = store.ListPage
	ListQuery         = store.ListQuery
	ObjectFate        = store.ObjectFate
	PRIndex           = store.PRIndex
	PRIndexEntry      = store.PRIndexEntry
	PRRef             = store.PRRef
	PruneResult       = store.PruneResult
	Pruner            = store.Pruner
	PullRequest       = store.PullRequest
	RateLimitBackoff  = store.RateLimitBackoff
	RateLimitStore    = store.RateLimitStore
	Request           = store.Request
	RequestStore      = store.RequestStore
	ReviewFact        = store.ReviewFact
	RunIndex          = store.RunIndex
	RunIndexEntry     = store.RunIndexEntry
	Store             = store.Store
	ValidationError   = store.ValidationError
	PRIndexRepairer   = store.PRIndexRepairer
)

const (
	ApprovalSourceAPI           = store.ApprovalSourceAPI
	ApprovalSourceReview        = store.ApprovalSourceReview
	DefaultPageSize             = store.DefaultPageSize
	DeliveryClaimTTL            = store.DeliveryClaimTTL
	DriftDetected               = store.DriftDetected
	DriftError                  = store.DriftError
	DriftNone                   = store.DriftNone
	DriftPending                = store.DriftPending
	FateCopy                    = store.FateCopy
	FateQuarantine              = store.FateQuarantine
	FateSkip                    = store.FateSkip
	KindArchivedRequest         = store.KindArchivedRequest
	KindCost                    = store.KindCost
	KindDelivery                = store.KindDelivery
	KindEvent                   = store.KindEvent
	KindIdempotency             = store.KindIdempotency
	KindPRIndex                 = store.KindPRIndex
	KindRequest                 = store.KindRequest
	KindRunIndex                = store.KindRunIndex
	MaxMutateAttempts           = store.MaxMutateAttempts
	MaxNameLen                  = store.MaxNameLen
	MaxPageSize                 = store.MaxPageSize
	MaxRequestIDLen             = store.MaxRequestIDLen
	ReviewStateApproved         = store.ReviewStateApproved
	ReviewStateChangesRequested = store.ReviewStateChangesRequested
	ReviewStateDismissed        = store.ReviewStateDismissed
	SchemaVersion               = store.SchemaVersion
)

// Sentinel errors of the store contract (see package store).
var (
	ErrAlreadyExists = store.ErrAlreadyExists
	ErrConflict      = store.ErrConflict
	ErrInvalid       = store.ErrInvalid
	ErrNotFound      = store.ErrNotFound
)

// Mutate is [store.Mutate].
func Mutate(ctx context.Context, s RequestStore, id string, fn func(r *Request) error) (*Request, error) {
	return store.Mutate(ctx, s, id, fn)
}

// DecodeRequest is [store.DecodeRequest].
func DecodeRequest(b []byte) (*Request, error) { return store.DecodeRequest(b) }

// ItemKinds is [store.ItemKinds].
func ItemKinds() []ItemKind { return store.ItemKinds() }

// ValidateName is [store.ValidateName].
func ValidateName(field, name string) error { return store.ValidateName(field, name) }

// ValidateRequestID is [store.ValidateRequestID].
func ValidateRequestID(id string) error { return store.ValidateRequestID(id) }

// StageEvent is [store.StageEvent].
func StageEvent(r *Request, e Event) { store.StageEvent(r, e) }

// FlushOutbox is [store.FlushOutbox].
func FlushOutbox(ctx context.Context, s interface {
	RequestStore
	EventStore
}, r *Request) (*Request, error) {
	return store.FlushOutbox(ctx, s, r)
}

// ApprovalCounts is [store.ApprovalCounts].
func ApprovalCounts(a *Approval, head string) bool { return store.ApprovalCounts(a, head) }

// ApprovalCountsForPlan is [store.ApprovalCountsForPlan].
func ApprovalCountsForPlan(a *Approval, head, digest string) bool {
	return store.ApprovalCountsForPlan(a, head, digest)
}

// ComputeInsights is [store.ComputeInsights].
func ComputeInsights(ctx context.Context, s RequestStore, now time.Time) (Insights, error) {
	return store.ComputeInsights(ctx, s, now)
}

// ComputeInsightsWith is [store.ComputeInsightsWith].
func ComputeInsightsWith(ctx context.Context, s RequestStore, rules lifecycle.Rules, now time.Time) (Insights, error) {
	return store.ComputeInsightsWith(ctx, s, rules, now)
}

// InsightFactsOf is [store.InsightFactsOf].
func InsightFactsOf(r *Request) InsightFacts { return store.InsightFactsOf(r) }

// ScanInsightsAggregate is [store.ScanInsightsAggregate].
func ScanInsightsAggregate(ctx context.Context, s RequestStore, q InsightsQuery) (InsightsAggregate, error) {
	return store.ScanInsightsAggregate(ctx, s, q)
}

// KeepExtensions is [store.KeepExtensions].
func KeepExtensions(w, base Store, afterCommit func(ctx context.Context, stored *Request)) Store {
	return store.KeepExtensions(w, base, afterCommit)
}
