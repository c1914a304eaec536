package server_test

import (
	"context"
	"sync/atomic"
	"testing"

	"connectrpc.com/connect"

	"github.com/tfpilot/tfpilot"
	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
)

// requestReadCounter is a store that counts the request reads, live and
// archived, made through it.
type requestReadCounter struct {
	tfpilot.Store
	reads *atomic.Int64
}

func (s requestReadCounter) GetRequest(ctx context.Context, id string) (*tfpilot.Request, error) {
	s.reads.Add(1)
	return s.Store.GetRequest(ctx, id)
}

func (s requestReadCounter) GetArchivedRequest(ctx context.Context, id string) (*tfpilot.Request, error) {
	s.reads.Add(1)
	return s.Store.GetArchivedRequest(ctx, id)
}

// TestCancel_AnswerSaysArchivedWithoutASecondRead: the server answers
// Cancel with the engine's own answer, which says the request is
// archived: it reads the request no more times than the engine's Cancel
// does by itself.
func TestCancel_AnswerSaysArchivedWithoutASecondRead(t *testing.T) {
	t.Parallel()
	var reads atomic.Int64
	e := newEnv(t, newMemstore(), envOptions{wrap: func(s tfpilot.Store) tfpilot.Store {
		return requestReadCounter{Store: s, reads: &reads}
	}})
	ctx := ctxT(t)
	direct, served := e.create("payments-dev-direct").GetId(), e.create("payments-dev-served").GetId()

	before := reads.Load()
	admin := tfpilot.Caller{Principal: tfpilot.Principal{Login: "admin", Roles: []tfpilot.Role{tfpilot.RoleAdmin}}}
	if _, err := e.pilot.Cancel(ctx, admin, direct, "not needed"); err != nil {
		t.Fatal(err)
	}
	engineReads := reads.Load() - before

	before = reads.Load()
	res, err := e.admin.Cancel(ctx, connect.NewRequest(&pb.CancelRequest{Id: served, Reason: "not needed"}))
	if err != nil {
		t.Fatal(err)
	}
	serverReads := reads.Load() - before

	if r := res.Msg.GetRequest(); !r.GetArchived() || r.GetCancellation() == nil || r.GetLock() != nil {
		t.Fatalf("Cancel answered %v; want archived, cancelled, no lock", r)
	}
	if serverReads != engineReads {
		t.Fatalf("the server's Cancel read the request %d times, the engine's Cancel %d: the server reads it again", serverReads, engineReads)
	}
}
