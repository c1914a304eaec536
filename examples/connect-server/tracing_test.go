package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// otelVars are the variables tracingEnabled reads; each case sets all.
var otelVars = []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
	"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"}

// TestTracingEnabled_OffByDefaultOnByTheStandardVariables: tracing is off
// unless OTEL_TRACES_EXPORTER=otlp or an OTLP endpoint is set; the SDK's
// off switches win; exporters and protocols not shipped are refused.
func TestTracingEnabled_OffByDefaultOnByTheStandardVariables(t *testing.T) {
	for _, tt := range []struct {
		name    string
		env     map[string]string
		on, err bool
	}{
		{"nothing set", nil, false, false},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true, false},
		{"traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true, false},
		{"exporter otlp", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true, false},
		{"exporter none", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false, false},
		{"sdk disabled", map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, false, false},
		{"exporter zipkin", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, false, true},
		{"protocol grpc", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, false, true},
		{"traces protocol wins", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range otelVars {
				t.Setenv(v, tt.env[v])
			}
			on, err := tracingEnabled()
			if on != tt.on || (err != nil) != tt.err {
				t.Errorf("tracingEnabled() = %v, %v; want on=%v, error=%v", on, err, tt.on, tt.err)
			}
		})
	}
}

// TestSetupTracing_ExportsSpansToTheOTLPEndpoint: with
// OTEL_EXPORTER_OTLP_ENDPOINT set, spans reach the collector's
// /v1/traces over OTLP/HTTP when the provider shuts down.
func TestSetupTracing_ExportsSpansToTheOTLPEndpoint(t *testing.T) {
	var posts atomic.Int32
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/traces" && r.Header.Get("Content-Type") == "application/x-protobuf" {
			posts.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	for _, v := range otelVars {
		t.Setenv(v, "")
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	ctx := context.Background()
	tp, shutdown, err := setupTracing(ctx)
	if err != nil || tp == nil {
		t.Fatalf("setupTracing: %v, %v", tp, err)
	}
	_, span := tp.Tracer("test").Start(ctx, "a span")
	span.End()
	if err := shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if posts.Load() == 0 {
		t.Error("the collector received no OTLP/HTTP export")
	}

	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	if tp, _, err := setupTracing(ctx); tp != nil || err != nil {
		t.Errorf("with no OTEL_* variables: provider %v, err %v; want tracing off", tp, err)
	}
}
