package server_test

import (
	"testing"

	"connectrpc.com/connect"

	pb "github.com/tfpilot/tfpilot/examples/connect-server/gen/tfpilot/v1"
	"github.com/tfpilot/tfpilot/examples/connect-server/server"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store/memstore"
)

func TestReconciler_SyncsOnlyRequestsWaitingOnGitHub(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memstore.New(nil), envOptions{})
	ctx := ctxT(t)
	waiting := e.create("payments-dev-waiting").GetId()
	ready := e.create("payments-dev-ready").GetId()
	e.finishRun(ready, runs.Plan, "success")
	e.sync(ready) // plan_ready: waiting on a person, not on GitHub
	e.finishRun(waiting, runs.Plan, "success")

	rec := &server.Reconciler{Pilot: e.pilot}
	if n := rec.Pass(ctx); n != 1 {
		t.Errorf("Pass synced %d requests, want 1 (the planning one)", n)
	}
	res, err := e.admin.Get(ctx, connect.NewRequest(&pb.GetRequest{Id: waiting}))
	if err != nil {
		t.Fatal(err)
	}
	if st := res.Msg.GetRequest().GetStatus(); st != pb.Status_STATUS_PLAN_READY {
		t.Errorf("after a pass the finished plan's request is %s, want plan_ready", st)
	}
	if n := rec.Pass(ctx); n != 0 {
		t.Errorf("a second pass synced %d requests, want 0", n)
	}
}
