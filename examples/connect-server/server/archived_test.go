package server_test

import (
	"testing"

	"connectrpc.com/connect"

	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
	"github.com/tfpilot/tfpilot/runs"
)

// TestArchived_ShowsNoLock: an archived request is done with; the lock
// the archiving Sync held while it archived is not shown as if something
// still held it, by Get or by the Sync's own answer.
func TestArchived_ShowsNoLock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, newMemstore(), envOptions{})
	ctx := ctxT(t)
	id := e.create("payments-dev-archived").GetId()
	approver := e.client(approverToken)
	e.finishRun(id, runs.Plan, "success")
	e.sync(id)
	for _, step := range []func() error{
		func() error {
			_, err := approver.Approve(ctx, connect.NewRequest(&pb.ApproveRequest{Id: id}))
			return err
		},
		func() error { _, err := approver.Merge(ctx, connect.NewRequest(&pb.MergeRequest{Id: id})); return err },
		func() error { _, err := approver.Apply(ctx, connect.NewRequest(&pb.ApplyRequest{Id: id})); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	e.finishRun(id, runs.Apply, "success")
	e.sync(id)
	if _, err := e.admin.Destroy(ctx, connect.NewRequest(&pb.DestroyRequest{Id: id})); err != nil {
		t.Fatal(err)
	}
	e.finishRun(id, runs.Destroy, "success")
	synced := e.sync(id)
	res, err := e.admin.Get(ctx, connect.NewRequest(&pb.GetRequest{Id: id}))
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*pb.Request{"Sync": synced, "Get": res.Msg.GetRequest()} {
		if !r.GetArchived() {
			t.Fatalf("%s: not archived: %v", name, r)
		}
		if r.GetLock() != nil {
			t.Errorf("%s: the archived request shows a lock: %v", name, r.GetLock())
		}
	}
}
