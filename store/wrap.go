package store

import (
	"context"

	"github.com/tfpilot/tfpilot/runs"
)

// KeepExtensions returns w, a decorator of base that overrides some of
// its [Store] methods (a change feed, tracing), with base's optional
// extensions that a decorator can pass through added back: a type
// assertion on the result finds [InsightsStore] and [DeliveryWriter]
// exactly when base has them. Without it a decorator hides them, and
// the engine falls back to the slow paths they replace (Insights reads
// every request; a webhook delivery takes six round trips).
//
// afterCommit, when non-nil, runs after each successful
// [DeliveryWriter.CommitRequest] with the stored document, so that a
// decorator observing writes (a change feed) sees those too. The other
// extensions ([LeaseStore], [Pruner], [Exporter], ...) stay hidden: give
// components that need them (the reconciler, migrations) base itself.
func KeepExtensions(w, base Store, afterCommit func(ctx context.Context, stored *Request)) Store {
	ins, isIns := base.(InsightsStore)
	dw, isDW := base.(DeliveryWriter)
	d := keptDeliveries{dw: dw, after: afterCommit}
	switch {
	case isIns && isDW:
		return struct {
			Store
			keptInsights
			keptDeliveries
		}{w, keptInsights{ins}, d}
	case isIns:
		return struct {
			Store
			keptInsights
		}{w, keptInsights{ins}}
	case isDW:
		return struct {
			Store
			keptDeliveries
		}{w, d}
	}
	return w
}

type keptInsights struct{ InsightsStore }

type keptDeliveries struct {
	dw    DeliveryWriter
	after func(context.Context, *Request)
}

func (k keptDeliveries) LookupRunRequest(ctx context.Context, kind runs.Kind, runID int64) (string, *Request, error) {
	return k.dw.LookupRunRequest(ctx, kind, runID)
}

func (k keptDeliveries) LookupPRRequest(ctx context.Context, pr PRRef) (string, *Request, error) {
	return k.dw.LookupPRRequest(ctx, pr)
}

func (k keptDeliveries) CommitRequest(ctx context.Context, r *Request, done *DeliveryDone) (*Request, bool, error) {
	stored, completed, err := k.dw.CommitRequest(ctx, r, done)
	if err == nil && k.after != nil {
		k.after(ctx, stored)
	}
	return stored, completed, err
}
