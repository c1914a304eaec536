package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/examples/connect-server/server"
	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
	"github.com/tfpilot/tfpilot/store/memstore"
)

func httpDo(t *testing.T, method, url, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return send(t, req, hdr)
}

// send sets hdr on req, sends it and returns the answer with its body.
func send(t *testing.T, req *http.Request, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestHTTP_HealthMetricsAndCorrelationIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memstore.New(nil), envOptions{})
	json := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + viewerToken}

	if res, body := httpDo(t, "GET", e.url+"/healthz", "", nil); res.StatusCode != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", res.StatusCode, body)
	}
	if res, _ := httpDo(t, "GET", e.url+"/readyz", "", nil); res.StatusCode != 200 {
		t.Errorf("/readyz = %d, want 200", res.StatusCode)
	}
	res, body := httpDo(t, "POST", e.url+"/grpc.health.v1.Health/Check", "{}", map[string]string{"Content-Type": "application/json"})
	if res.StatusCode != 200 || !strings.Contains(body, "SERVING") {
		t.Errorf("gRPC health over JSON = %d %s", res.StatusCode, body)
	}

	// A client's correlation id is echoed; a bad one is replaced.
	hdr := map[string]string{server.RequestIDHeader: "backstage-7f3a"}
	for k, v := range json {
		hdr[k] = v
	}
	res, _ = httpDo(t, "POST", e.url+"/tfpilot.v1.RequestService/Get", `{"id":"req-nope"}`, hdr)
	if got := res.Header.Get(server.RequestIDHeader); got != "backstage-7f3a" {
		t.Errorf("X-Request-Id = %q, want the client's", got)
	}
	hdr[server.RequestIDHeader] = "bad id with spaces"
	res, _ = httpDo(t, "POST", e.url+"/tfpilot.v1.RequestService/Get", `{"id":"req-nope"}`, hdr)
	if got := res.Header.Get(server.RequestIDHeader); got == "" || strings.Contains(got, " ") {
		t.Errorf("X-Request-Id = %q, want a generated one", got)
	}

	_, metrics := httpDo(t, "GET", e.url+"/metrics", "", nil)
	for _, want := range []string{
		`tfpilot_rpc_requests_total{code="not_found",procedure="/tfpilot.v1.RequestService/Get"} 2`,
		`tfpilot_rpc_duration_seconds_count{procedure="/tfpilot.v1.RequestService/Get"} 2`,
		`tfpilot_watch_streams 0`,
		`tfpilot_http_requests_total{code="404",route="connect"} 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestHTTP_BodyLimitRefusesOversizedCalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memstore.New(nil), envOptions{})
	big := `{"project":"payments","environment":"dev","module":"s3_bucket","config":{"bucket":"` + strings.Repeat("a", 2<<20) + `"}}`
	// Expect: 100-continue lets the client hear the answer before it
	// sends a body the server will not read.
	res, body := httpDo(t, "POST", e.url+"/tfpilot.v1.RequestService/Create", big,
		map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + adminToken, "Expect": "100-continue"})
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "1048576 bytes") {
		t.Errorf("a 2 MiB body was answered %d %s; want 413 naming the limit", res.StatusCode, body[:min(len(body), 200)])
	}
}

func TestReflection_ListsTheServicesOverGRPC(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memstore.New(nil), envOptions{})
	tls := httptest.NewUnstartedServer(e.handler)
	tls.EnableHTTP2 = true
	tls.StartTLS()
	defer tls.Close()
	stream := grpcreflect.NewClient(tls.Client(), tls.URL, connect.WithGRPC()).NewStream(t.Context())
	defer stream.Close()
	names, err := stream.ListServices()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range append(server.Services, "grpc.health.v1.Health") {
		if !slices.Contains(names, protoreflect.FullName(want)) {
			t.Errorf("reflection lists %v, not %s", names, want)
		}
	}
}

func TestDrain_EndsWatchStreamsAndFailsReadiness(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memstore.New(nil), envOptions{})
	id := e.create("payments-dev-drain").GetId()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	w := e.watch(ctx, id)
	w.next(t, pb.Status_STATUS_PLANNING)
	e.server.Drain()
	select {
	case err := <-w.done:
		if connect.CodeOf(err) != connect.CodeUnavailable {
			t.Errorf("watch ended with %v, want unavailable", err)
		}
	case <-ctx.Done():
		t.Fatal("Drain did not end the watch stream")
	}
	if res, _ := httpDo(t, "GET", e.url+"/readyz", "", nil); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz while draining = %d, want 503", res.StatusCode)
	}
}

func TestReadyz_ReportsTheReadinessCheck(t *testing.T) {
	t.Parallel()
	hub := server.NewHub()
	tokens, _ := server.NewTokens(nil)
	srv, err := server.New(server.Options{Pilot: newEnv(t, memstore.New(nil), envOptions{}).pilot, Hub: hub, Tokens: tokens,
		Ready: func(context.Context) error { return errors.New("database down") }})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), "database") {
		t.Errorf("/readyz = %d %q; want 503 without the cause", rec.Code, rec.Body.String())
	}
}

func TestNew_RequiresPilotHubAndTokens(t *testing.T) {
	t.Parallel()
	hub := server.NewHub()
	tokens, _ := server.NewTokens(nil)
	pilot := newEnv(t, memstore.New(nil), envOptions{}).pilot
	for name, o := range map[string]server.Options{
		"no pilot":  {Hub: hub, Tokens: tokens},
		"no hub":    {Pilot: pilot, Tokens: tokens},
		"no tokens": {Pilot: pilot, Hub: hub},
	} {
		if _, err := server.New(o); !errors.Is(err, server.ErrInvalidOptions) {
			t.Errorf("%s: %v, want ErrInvalidOptions", name, err)
		}
	}
	var _ tfpilot.Store = server.Notify(memstore.New(nil), hub)
}
