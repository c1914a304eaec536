package server_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"connectrpc.com/connect"

	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
	"github.com/tfpilot/tfpilot/gen/tfpilot/v1/tfpilotv1connect"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// A server with an http.Server ReadTimeout (as the binary sets) must not
// cut Watch streams that outlive it.
func TestWatch_OutlivesTheServersReadTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memstore.New(nil), envOptions{})
	hs := httptest.NewUnstartedServer(e.handler)
	hs.Config.ReadTimeout = 200 * time.Millisecond
	hs.Start()
	defer hs.Close()
	id := e.create("payments-dev-longwatch").GetId()
	client := tfpilotv1connect.NewRequestServiceClient(e.httpClient(adminToken), hs.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	stream, err := client.Watch(ctx, connect.NewRequest(&pb.WatchRequest{Id: id}))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if !stream.Receive() {
		t.Fatal(stream.Err())
	}
	time.Sleep(600 * time.Millisecond) // three read timeouts
	e.finishRun(id, runs.Plan, "success")
	e.sync(id)
	for stream.Receive() {
		if stream.Msg().GetRequest().GetStatus() == pb.Status_STATUS_PLAN_READY {
			return
		}
	}
	t.Fatalf("the stream ended before plan_ready: %v", stream.Err())
}
