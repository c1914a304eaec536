package store

import (
	"context"
	"time"

	"github.com/tfpilot/tfpilot/runs"
)

// DeliveryWriter is an optional extension of a [Store], found by type
// assertion, that lets the engine's webhook sink handle a delivery in fewer round
// trips: the index lookup and the read of the request it names in one,
// and the compare-and-swap write, its lifecycle events and the
// delivery's completion in one transaction. A store without it is used
// through the plain methods (look up, read, write, flush the outbox,
// complete), with the same results.
//
// store/pgstore implements it; the conformance of its results with the
// plain methods' is tested there.
type DeliveryWriter interface {
	// LookupRunRequest is [RunIndex.LookupRun] followed by
	// [RequestStore.GetRequest] of the id found, read together. It
	// returns ErrNotFound when the run is not indexed, and the id with a
	// nil request when the index names a request that is not there
	// (absent or archived).
	LookupRunRequest(ctx context.Context, kind runs.Kind, runID int64) (id string, r *Request, err error)
	// LookupPRRequest is [PRIndex.LookupPR] followed by GetRequest, as
	// LookupRunRequest.
	LookupPRRequest(ctx context.Context, pr PRRef) (id string, r *Request, err error)
	// CommitRequest is [RequestStore.UpdateRequest] of r that also
	// records the events staged in r.Outbox (see [StageEvent]) in the
	// [EventStore] and stores r with an empty outbox, in one
	// transaction: the events are recorded if and only if the write is
	// made. An event whose id is already stored counts as recorded, as
	// in [FlushOutbox]. It returns the stored document (without the
	// outbox) and the errors of UpdateRequest; when r without its outbox
	// is identical to the stored document nothing is written and no
	// event is recorded.
	//
	// With done non-nil, the same transaction completes the delivery
	// done names, fenced on done.Claim as [DeliveryStore.CompleteDelivery]
	// is, when the write is made; completed reports whether it did. A
	// claim that no longer holds (it was replaced) leaves the delivery
	// as it is and does not stop the write: handling is idempotent, as
	// with a CompleteDelivery that fails after the work.
	CommitRequest(ctx context.Context, r *Request, done *DeliveryDone) (stored *Request, completed bool, err error)
}

// DeliveryDone names the delivery a [DeliveryWriter.CommitRequest]
// completes: its id, its claim's fencing value and its outcome.
type DeliveryDone struct {
	ID      string
	Claim   time.Time
	Outcome string
}
