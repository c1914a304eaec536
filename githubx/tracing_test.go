package githubx_test

import (
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

// TestTracing_EachGitHubCallIsAClientSpanUnderTheCallersSpan: with a
// TracerProvider, every call to GitHub is a client span, child of the
// span in the caller's context, with the method, path and status.
func TestTracing_EachGitHubCallIsAClientSpanUnderTheCallersSpan(t *testing.T) {
	t.Parallel()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	e := newEnv(t, githubtest.Options{}, githubx.Options{TracerProvider: tp})
	pr := e.openPR(t, "req-traced")
	ctx, parent := tp.Tracer("test").Start(ctx(t), "caller")
	if _, err := e.c.GetPR(ctx, repo, pr.Number); err != nil {
		t.Fatal(err)
	}
	parent.End()
	var gets int
	for _, s := range sr.Ended() {
		if s.Name() != "GitHub GET" || s.Parent().SpanID() != parent.SpanContext().SpanID() {
			continue
		}
		gets++
		attrs := map[string]string{}
		for _, kv := range s.Attributes() {
			attrs[string(kv.Key)] = kv.Value.String()
		}
		if s.SpanKind() != trace.SpanKindClient || attrs["http.request.method"] != "GET" ||
			attrs["http.response.status_code"] != "200" || attrs["url.path"] == "" {
			t.Errorf("span %s kind %v attributes %v", s.Name(), s.SpanKind(), attrs)
		}
	}
	if gets != 1 {
		t.Errorf("%d GitHub GET spans under the caller's span, want 1 (all: %d spans)", gets, len(sr.Ended()))
	}
	if n := len(sr.Ended()); n < 3 {
		t.Errorf("%d spans in all; opening a pull request makes several calls", n)
	}
}
