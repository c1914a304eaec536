package server

import (
	"net/http"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// tracerName names the server's own spans (the webhook endpoint's).
const tracerName = "github.com/tfpilot/tfpilot/examples/connect-server/server"

// tracerProvider is Options.TracerProvider, or the no-op provider.
func (s *Server) tracerProvider() trace.TracerProvider {
	if s.opts.TracerProvider == nil {
		return tracenoop.NewTracerProvider()
	}
	return s.opts.TracerProvider
}

// traceInterceptor makes a server span per RPC (otelconnect), child of
// the caller's span when the call carries W3C trace context
// (traceparent). RPC metrics stay Prometheus's: otelconnect's own are
// off, and nothing reads OpenTelemetry's global providers.
func (s *Server) traceInterceptor() (connect.Interceptor, error) {
	return otelconnect.NewInterceptor(
		otelconnect.WithTracerProvider(s.tracerProvider()),
		otelconnect.WithPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
		otelconnect.WithTrustRemote(),
		otelconnect.WithoutMetrics(),
	)
}

// traceWebhook makes a server span per webhook delivery; the engine's
// store and GitHub spans nest under it.
func (s *Server) traceWebhook(next http.Handler) http.Handler {
	tracer := s.tracerProvider().Tracer(tracerName)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := tracer.Start(r.Context(), "POST "+WebhookPath, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("github.event", r.Header.Get("X-GitHub-Event")),
				attribute.String("github.delivery", r.Header.Get("X-GitHub-Delivery"))))
		defer span.End()
		rec := &outcomeRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(ctx))
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		span.SetAttributes(attribute.Int("http.response.status_code", rec.status),
			attribute.String("tfpilot.outcome", deliveryOutcome(rec.status, string(rec.head))))
		if rec.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(rec.status))
		}
	})
}
