package tfpilot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/store/memstore"
	"github.com/tfpilot/tfpilot/store/storetest"
)

type tracedHarness struct{ tp *sdktrace.TracerProvider }

func (h tracedHarness) NewStore(t *testing.T, now func() time.Time) tfpilot.Store {
	return tfpilot.TraceStore(memstore.New(&memstore.Options{Now: now}), h.tp)
}

// TestTraceStore_PassesTheStoreContract: the tracing wrapper changes no
// behaviour: it passes the conformance suite every backend passes.
func TestTraceStore_PassesTheStoreContract(t *testing.T) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))
	storetest.Run(t, func(*testing.T) storetest.Harness { return tracedHarness{tp} })
}

// TestTraceStore_EachOperationIsAChildSpan: every store call is a span
// "store.<Method>" under the caller's span; a failure is recorded as an
// error, a not-found answer is not.
func TestTraceStore_EachOperationIsAChildSpan(t *testing.T) {
	t.Parallel()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	s := tfpilot.TraceStore(memstore.New(nil), tp)
	ctx, parent := tp.Tracer("test").Start(context.Background(), "caller")
	r, err := s.CreateRequest(ctx, &tfpilot.Request{ID: "req-1", Project: "payments", Environment: "dev", Module: "s3_bucket"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRequest(ctx, "req-missing"); !errors.Is(err, tfpilot.ErrNotFound) {
		t.Fatalf("GetRequest of a missing id: %v", err)
	}
	stale := *r
	stale.Version--
	if _, err := s.UpdateRequest(ctx, &stale); !errors.Is(err, tfpilot.ErrConflict) {
		t.Fatalf("UpdateRequest of a stale version: %v", err)
	}
	parent.End()
	type seen struct {
		failed   bool
		notFound bool
	}
	got := map[string]seen{}
	for _, sp := range sr.Ended() {
		if sp.Name() == "caller" {
			continue
		}
		if sp.Parent().SpanID() != parent.SpanContext().SpanID() || sp.SpanContext().TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("%s is not a child of the caller's span", sp.Name())
		}
		var nf bool
		for _, kv := range sp.Attributes() {
			if kv.Key == "tfpilot.not_found" {
				nf = kv.Value.AsBool()
			}
		}
		got[sp.Name()] = seen{failed: len(sp.Events()) > 0, notFound: nf}
	}
	want := map[string]seen{
		"store.CreateRequest": {},
		"store.GetRequest":    {notFound: true},
		"store.UpdateRequest": {failed: true},
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			t.Errorf("%s: got %+v (present %v), want %+v", name, g, ok, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("spans %v, want exactly %v", got, want)
	}
}
