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
// dependencies. The names below are the ones embedders of the engine
// use (the request, its parts, the Store interface and its errors), so
// their code reads tfpilot.Request as before; each is the store
// package's declaration of the same name. What only backend authors
// and migration tools need (export items, fates, pruning, batch
// imports, the aggregate and delivery extensions, and the store's page
// of bare documents, [store.ListPage]) is named in package store alone:
// the root's [ListPage] is the engine's page of [View]s.

type (
	Insights          = store.Insights
	InsightsStore     = store.InsightsStore
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
	FieldViolation    = store.FieldViolation
	IdempotencyMark   = store.IdempotencyMark
	IdempotencyRecord = store.IdempotencyRecord
	IdempotencyStore  = store.IdempotencyStore
	Lease             = store.Lease
	LeaseStore        = store.LeaseStore
	ListQuery         = store.ListQuery
	PRIndex           = store.PRIndex
	PRRef             = store.PRRef
	PullRequest       = store.PullRequest
	RateLimitBackoff  = store.RateLimitBackoff
	RateLimitStore    = store.RateLimitStore
	Request           = store.Request
	RequestStore      = store.RequestStore
	ReviewFact        = store.ReviewFact
	RunIndex          = store.RunIndex
	Store             = store.Store
	ValidationError   = store.ValidationError
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
	MaxMutateAttempts           = store.MaxMutateAttempts
	MaxNameLen                  = store.MaxNameLen
	MaxPageSize                 = store.MaxPageSize
	MaxRequestIDLen             = store.MaxRequestIDLen
	ReviewStateApproved         = store.ReviewStateApproved
	ReviewStateChangesRequested = store.ReviewStateChangesRequested
	ReviewStateDismissed        = store.ReviewStateDismissed
	SchemaVersion               = store.SchemaVersion
)

// Mutate is [store.Mutate].
func Mutate(ctx context.Context, s RequestStore, id string, fn func(r *Request) error) (*Request, error) {
	return store.Mutate(ctx, s, id, fn)
}

// DecodeRequest is [store.DecodeRequest].
func DecodeRequest(b []byte) (*Request, error) { return store.DecodeRequest(b) }

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

// KeepExtensions is [store.KeepExtensions].
func KeepExtensions(w, base Store, afterCommit func(ctx context.Context, stored *Request)) Store {
	return store.KeepExtensions(w, base, afterCommit)
}
