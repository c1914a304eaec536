package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"connectrpc.com/connect"

	"github.com/tfpilot/tfpilot/examples/connect-server/server"
	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// TestGRPCHealth_FollowsReadinessAndDrain: gRPC health answers as /readyz
// does: SERVING while ready, NOT_SERVING while the readiness check fails
// and once the server drains, for the process and for each service.
func TestGRPCHealth_FollowsReadinessAndDrain(t *testing.T) {
	t.Parallel()
	var failing atomic.Bool
	e := newEnv(t, memstore.New(nil), envOptions{options: func(o *server.Options) {
		o.Ready = func(context.Context) error {
			if failing.Load() {
				return errors.New("store unreachable")
			}
			return nil
		}
	}})
	check := func(service string) (int, string) {
		t.Helper()
		res, body := httpDo(t, "POST", e.url+"/grpc.health.v1.Health/Check", `{"service":"`+service+`"}`,
			map[string]string{"Content-Type": "application/json"})
		var msg struct{ Status string }
		_ = json.Unmarshal([]byte(body), &msg)
		return res.StatusCode, msg.Status
	}
	expect := func(stage, want string, readyz int) {
		t.Helper()
		for _, svc := range append([]string{""}, server.Services...) {
			if code, got := check(svc); code != 200 || got != want {
				t.Errorf("%s: health of %q = %d %q, want %s", stage, svc, code, got, want)
			}
		}
		if res, _ := httpDo(t, "GET", e.url+"/readyz", "", nil); res.StatusCode != readyz {
			t.Errorf("%s: /readyz = %d, want %d", stage, res.StatusCode, readyz)
		}
	}
	expect("ready", "SERVING_STATUS_SERVING", 200)
	failing.Store(true)
	expect("readiness failing", "SERVING_STATUS_NOT_SERVING", 503)
	failing.Store(false)
	expect("ready again", "SERVING_STATUS_SERVING", 200)
	if code, _ := check("no.such.Service"); code != 404 {
		t.Errorf("health of an unknown service = %d, want 404 (not_found)", code)
	}
	e.server.Drain()
	expect("draining", "SERVING_STATUS_NOT_SERVING", 503)
}

// TestAccessLog_ReadsAtDebugWritesAtInfo: the access log writes reads
// (procedures without side effects) at DEBUG, so INFO shows what changed;
// durations are strings such as "1.2ms".
func TestAccessLog_ReadsAtDebugWritesAtInfo(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, memstore.New(nil), envOptions{logger: log})
	ctx := ctxT(t)
	id := e.create("payments-dev-logs").GetId()
	if _, err := e.admin.Get(ctx, connect.NewRequest(&pb.GetRequest{Id: id})); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.List(ctx, connect.NewRequest(&pb.ListRequest{})); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.ListEvents(ctx, connect.NewRequest(&pb.ListEventsRequest{Id: id})); err != nil {
		t.Fatal(err)
	}
	levels := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["msg"] != "http call" {
			continue
		}
		proc, _ := rec["procedure"].(string)
		levels[proc], _ = rec["level"].(string)
		if d, ok := rec["duration"].(string); !ok || !strings.HasSuffix(d, "s") {
			t.Errorf("%s: duration logged as %#v, want a string such as \"1.2ms\"", proc, rec["duration"])
		}
	}
	for proc, want := range map[string]string{
		"/tfpilot.v1.RequestService/Create":     "INFO",
		"/tfpilot.v1.RequestService/Get":        "DEBUG",
		"/tfpilot.v1.RequestService/List":       "DEBUG",
		"/tfpilot.v1.RequestService/ListEvents": "DEBUG",
	} {
		if levels[proc] != want {
			t.Errorf("%s logged at %q, want %s", proc, levels[proc], want)
		}
	}
}
