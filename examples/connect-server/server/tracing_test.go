package server_test

import (
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/examples/connect-server/server"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// TestTracing_LifecycleSpansNestGitHubAndStoreUnderRPCs drives a request
// from Create to applied with one TracerProvider given to the server,
// the GitHub client and the store, and checks that each RPC is a server
// span and that the GitHub calls and store operations it made are its
// descendants in the same trace.
func TestTracing_LifecycleSpansNestGitHubAndStoreUnderRPCs(t *testing.T) {
	t.Parallel()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	e := newEnv(t, memstore.New(nil), envOptions{
		wrap:    func(s tfpilot.Store) tfpilot.Store { return tfpilot.TraceStore(s, tp) },
		github:  func(o *githubx.Options) { o.TracerProvider = tp },
		options: func(o *server.Options) { o.TracerProvider = tp },
	})
	toApplied(t, e, "payments-dev-traced")

	spans := sr.Ended()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
	}
	// rpcOf returns the RPC server span s descends from, if any.
	rpcOf := func(s sdktrace.ReadOnlySpan) (sdktrace.ReadOnlySpan, bool) {
		for {
			p, ok := byID[s.Parent().SpanID()]
			if !ok {
				return nil, false
			}
			if p.SpanKind() == trace.SpanKindServer && strings.HasPrefix(p.Name(), "tfpilot.v1.") {
				return p, p.SpanContext().TraceID() == s.SpanContext().TraceID()
			}
			s = p
		}
	}
	rpcs := map[string]int{}
	github := map[string]int{} // RPC → GitHub calls under it
	store := map[string]int{}  // RPC → store operations under it
	for _, s := range spans {
		switch {
		case s.SpanKind() == trace.SpanKindServer && strings.HasPrefix(s.Name(), "tfpilot.v1."):
			rpcs[s.Name()]++
		case strings.HasPrefix(s.Name(), "GitHub "):
			if rpc, ok := rpcOf(s); ok {
				github[rpc.Name()]++
			}
		case strings.HasPrefix(s.Name(), "store."):
			if rpc, ok := rpcOf(s); ok {
				store[rpc.Name()]++
			}
		}
	}
	for _, rpc := range []string{"Create", "Sync", "Approve", "Merge", "Apply"} {
		name := "tfpilot.v1.RequestService/" + rpc
		if rpcs[name] == 0 {
			t.Errorf("no server span %s; spans by RPC: %v", name, rpcs)
		}
		if store[name] == 0 {
			t.Errorf("%s: no store span under it (store spans by RPC: %v)", name, store)
		}
	}
	for _, rpc := range []string{"Create", "Merge", "Apply"} {
		if name := "tfpilot.v1.RequestService/" + rpc; github[name] == 0 {
			t.Errorf("%s: no GitHub span under it (GitHub spans by RPC: %v)", name, github)
		}
	}
}
