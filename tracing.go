package tfpilot

import (
	"context"
	"errors"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// storeTracerName names the tracer of [TraceStore]'s spans.
const storeTracerName = "github.com/tfpilot/tfpilot/store"

// TraceStore wraps s so that every store operation is a span named
// "store.<Method>" (for example "store.UpdateRequest"), child of the span
// in the call's context, with the request id as the attribute
// tfpilot.request_id where the call names one. A failed call records its
// error; [ErrNotFound] is an answer, not a failure, and only sets the
// attribute tfpilot.not_found. A nil tp means the no-op provider: the
// wrapper never reads OpenTelemetry's global state.
//
// The wrapper keeps s's [InsightsStore] and [store.DeliveryWriter] (see
// [KeepExtensions]; their calls are not traced); other optional
// extensions of s ([LeaseStore], [store.Pruner], [store.Exporter], ...) are not
// visible through it, so give components that need them (the
// reconciler, migrations) s itself, as with any Store decorator.
func TraceStore(s Store, tp trace.TracerProvider) Store {
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	return KeepExtensions(&tracedStore{s: s, tracer: tp.Tracer(storeTracerName)}, s, nil)
}

type tracedStore struct {
	s      Store
	tracer trace.Tracer
}

func (t *tracedStore) start(ctx context.Context, op string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, "store."+op, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
}

// endStoreSpan ends span with err's outcome.
func endStoreSpan(span trace.Span, err error) {
	switch {
	case err == nil:
	case errors.Is(err, ErrNotFound):
		span.SetAttributes(attribute.Bool("tfpilot.not_found", true))
	default:
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

func spanReqID(id string) attribute.KeyValue { return attribute.String("tfpilot.request_id", id) }

// spanDoc names a document the store is given; nil is the backend's to
// refuse.
func spanDoc(r *Request) []attribute.KeyValue {
	if r == nil {
		return nil
	}
	return []attribute.KeyValue{spanReqID(r.ID), attribute.Int64("tfpilot.version", r.Version)}
}

func (t *tracedStore) GetRequest(ctx context.Context, id string) (*Request, error) {
	ctx, span := t.start(ctx, "GetRequest", spanReqID(id))
	r, err := t.s.GetRequest(ctx, id)
	endStoreSpan(span, err)
	return r, err
}

func (t *tracedStore) CreateRequest(ctx context.Context, r *Request) (*Request, error) {
	ctx, span := t.start(ctx, "CreateRequest", spanDoc(r)...)
	out, err := t.s.CreateRequest(ctx, r)
	endStoreSpan(span, err)
	return out, err
}

func (t *tracedStore) UpdateRequest(ctx context.Context, r *Request) (*Request, error) {
	ctx, span := t.start(ctx, "UpdateRequest", spanDoc(r)...)
	out, err := t.s.UpdateRequest(ctx, r)
	endStoreSpan(span, err)
	return out, err
}

func (t *tracedStore) ListRequests(ctx context.Context, q ListQuery) (store.ListPage, error) {
	ctx, span := t.start(ctx, "ListRequests", attribute.Int("tfpilot.limit", q.Limit))
	out, err := t.s.ListRequests(ctx, q)
	if err == nil {
		span.SetAttributes(attribute.Int("tfpilot.returned", len(out.Requests)))
	}
	endStoreSpan(span, err)
	return out, err
}

func (t *tracedStore) ArchiveRequest(ctx context.Context, id string, version int64) error {
	ctx, span := t.start(ctx, "ArchiveRequest", spanReqID(id), attribute.Int64("tfpilot.version", version))
	err := t.s.ArchiveRequest(ctx, id, version)
	endStoreSpan(span, err)
	return err
}

func (t *tracedStore) GetArchivedRequest(ctx context.Context, id string) (*Request, error) {
	ctx, span := t.start(ctx, "GetArchivedRequest", spanReqID(id))
	r, err := t.s.GetArchivedRequest(ctx, id)
	endStoreSpan(span, err)
	return r, err
}

func (t *tracedStore) AppendEvent(ctx context.Context, e Event) (Event, error) {
	ctx, span := t.start(ctx, "AppendEvent", spanReqID(e.RequestID), attribute.String("tfpilot.event", e.Event))
	out, err := t.s.AppendEvent(ctx, e)
	endStoreSpan(span, err)
	return out, err
}

func (t *tracedStore) ListEvents(ctx context.Context, requestID string) ([]Event, error) {
	ctx, span := t.start(ctx, "ListEvents", spanReqID(requestID))
	out, err := t.s.ListEvents(ctx, requestID)
	endStoreSpan(span, err)
	return out, err
}

func spanRunAttrs(kind runs.Kind, runID int64) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String("tfpilot.run_kind", string(kind)), attribute.Int64("tfpilot.run_id", runID)}
}

func (t *tracedStore) IndexRun(ctx context.Context, kind runs.Kind, runID int64, requestID string) error {
	ctx, span := t.start(ctx, "IndexRun", append(spanRunAttrs(kind, runID), spanReqID(requestID))...)
	err := t.s.IndexRun(ctx, kind, runID, requestID)
	endStoreSpan(span, err)
	return err
}

func (t *tracedStore) LookupRun(ctx context.Context, kind runs.Kind, runID int64) (string, error) {
	ctx, span := t.start(ctx, "LookupRun", spanRunAttrs(kind, runID)...)
	id, err := t.s.LookupRun(ctx, kind, runID)
	endStoreSpan(span, err)
	return id, err
}

func spanPRAttr(pr PRRef) attribute.KeyValue {
	return attribute.String("tfpilot.pull_request", pr.Owner+"/"+pr.Repo+"#"+strconv.Itoa(pr.Number))
}

func (t *tracedStore) IndexPR(ctx context.Context, pr PRRef, requestID string) error {
	ctx, span := t.start(ctx, "IndexPR", spanPRAttr(pr), spanReqID(requestID))
	err := t.s.IndexPR(ctx, pr, requestID)
	endStoreSpan(span, err)
	return err
}

func (t *tracedStore) LookupPR(ctx context.Context, pr PRRef) (string, error) {
	ctx, span := t.start(ctx, "LookupPR", spanPRAttr(pr))
	id, err := t.s.LookupPR(ctx, pr)
	endStoreSpan(span, err)
	return id, err
}

func spanDeliveryAttr(id string) attribute.KeyValue {
	return attribute.String("tfpilot.delivery_id", id)
}

func (t *tracedStore) ClaimDelivery(ctx context.Context, id, event string) (time.Time, error) {
	ctx, span := t.start(ctx, "ClaimDelivery", spanDeliveryAttr(id), attribute.String("tfpilot.event", event))
	claim, err := t.s.ClaimDelivery(ctx, id, event)
	endStoreSpan(span, err)
	return claim, err
}

func (t *tracedStore) CompleteDelivery(ctx context.Context, id string, claim time.Time, outcome string) error {
	ctx, span := t.start(ctx, "CompleteDelivery", spanDeliveryAttr(id))
	err := t.s.CompleteDelivery(ctx, id, claim, outcome)
	endStoreSpan(span, err)
	return err
}

func (t *tracedStore) ReleaseDelivery(ctx context.Context, id string, claim time.Time) error {
	ctx, span := t.start(ctx, "ReleaseDelivery", spanDeliveryAttr(id))
	err := t.s.ReleaseDelivery(ctx, id, claim)
	endStoreSpan(span, err)
	return err
}

func (t *tracedStore) GetDelivery(ctx context.Context, id string) (Delivery, error) {
	ctx, span := t.start(ctx, "GetDelivery", spanDeliveryAttr(id))
	d, err := t.s.GetDelivery(ctx, id)
	endStoreSpan(span, err)
	return d, err
}

func (t *tracedStore) PutIdempotency(ctx context.Context, rec IdempotencyRecord) error {
	ctx, span := t.start(ctx, "PutIdempotency", attribute.String("tfpilot.operation", rec.Operation))
	err := t.s.PutIdempotency(ctx, rec)
	endStoreSpan(span, err)
	return err
}

func (t *tracedStore) GetIdempotency(ctx context.Context, operation, key string) (IdempotencyRecord, error) {
	ctx, span := t.start(ctx, "GetIdempotency", attribute.String("tfpilot.operation", operation))
	rec, err := t.s.GetIdempotency(ctx, operation, key)
	endStoreSpan(span, err)
	return rec, err
}

func (t *tracedStore) SetRateLimitBackoff(ctx context.Context, b RateLimitBackoff) error {
	ctx, span := t.start(ctx, "SetRateLimitBackoff", attribute.String("tfpilot.scope", b.Scope))
	err := t.s.SetRateLimitBackoff(ctx, b)
	endStoreSpan(span, err)
	return err
}

func (t *tracedStore) GetRateLimitBackoff(ctx context.Context, scope string) (RateLimitBackoff, error) {
	ctx, span := t.start(ctx, "GetRateLimitBackoff", attribute.String("tfpilot.scope", scope))
	b, err := t.s.GetRateLimitBackoff(ctx, scope)
	endStoreSpan(span, err)
	return b, err
}

func (t *tracedStore) GetCost(ctx context.Context, requestID string) (Cost, error) {
	ctx, span := t.start(ctx, "GetCost", spanReqID(requestID))
	c, err := t.s.GetCost(ctx, requestID)
	endStoreSpan(span, err)
	return c, err
}

func (t *tracedStore) PutCost(ctx context.Context, c Cost) error {
	ctx, span := t.start(ctx, "PutCost", spanReqID(c.RequestID))
	err := t.s.PutCost(ctx, c)
	endStoreSpan(span, err)
	return err
}
