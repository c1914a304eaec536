package githubx

import (
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// tracerName names the tracer of GitHub calls.
const tracerName = "github.com/tfpilot/tfpilot/githubx"

// tracingTransport makes one client span per call to GitHub, child of the
// span in the request's context: "GitHub GET" with the method, path,
// host and status as attributes. Below it the rate-aware transport's
// retries, waits and cache answers happen inside the span.
type tracingTransport struct {
	next   http.RoundTripper
	tracer trace.Tracer
}

func newTracingTransport(next http.RoundTripper, tp trace.TracerProvider) http.RoundTripper {
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	return &tracingTransport{next: next, tracer: tp.Tracer(tracerName)}
}

func (t *tracingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, span := t.tracer.Start(req.Context(), "GitHub "+req.Method, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("http.request.method", req.Method),
			attribute.String("url.path", req.URL.Path),
			attribute.String("server.address", req.URL.Hostname()),
		))
	defer span.End()
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetStatus(codes.Error, strconv.Itoa(resp.StatusCode))
	}
	return resp, nil
}
