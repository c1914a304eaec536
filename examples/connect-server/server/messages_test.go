package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/examples/connect-server/server"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/lock"
	"github.com/tfpilot/tfpilot/runs"
)

// conflictingStore makes every UpdateRequest lose to a concurrent write
// while on is set: it writes at a version one behind the stored one, so
// the backend itself refuses it.
type conflictingStore struct {
	tfpilot.Store
	on *atomic.Bool
}

func (s conflictingStore) UpdateRequest(ctx context.Context, r *tfpilot.Request) (*tfpilot.Request, error) {
	if s.on.Load() {
		stale := r.Clone()
		stale.Version--
		return s.Store.UpdateRequest(ctx, stale)
	}
	return s.Store.UpdateRequest(ctx, r)
}

// TestErrorMessages_NamePrefixOnceAndReachClientsAsSaid: the engine's
// errors (and the store's under it) say "tfpilot: " at most once, so the
// server shows them as they are: a permission denial, an invalid input
// and a gate reach the client in the engine's words, and no answer
// carries the prefix.
func TestErrorMessages_NamePrefixOnceAndReachClientsAsSaid(t *testing.T) {
	t.Parallel()
	var conflicting atomic.Bool
	e := newEnv(t, newMemstore(), envOptions{
		wrap: func(s tfpilot.Store) tfpilot.Store { return conflictingStore{Store: s, on: &conflicting} },
		// One try per GitHub call: a fault is an answer at once.
		github: func(o *githubx.Options) { o.MaxRetries = -1 },
	})
	ctx := ctxT(t)
	admin := tfpilot.Caller{Principal: tfpilot.Principal{Login: "admin", Roles: []tfpilot.Role{tfpilot.RoleAdmin}}}
	approver := tfpilot.Caller{Principal: tfpilot.Principal{Login: "approver", Roles: []tfpilot.Role{tfpilot.RoleApprover}}}
	viewer := tfpilot.Caller{Principal: tfpilot.Principal{Login: "viewer", Roles: []tfpilot.Role{tfpilot.RoleViewer}}}
	input := func(bucket string) tfpilot.CreateInput {
		return tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket", Config: map[string]any{"bucket": bucket}}
	}

	cases := []struct {
		name string
		code tfpilot.ErrorCode
		// passThrough: the client is told the engine's own message.
		passThrough bool
		provoke     func() error
	}{
		{"not found", tfpilot.CodeNotFound, false, func() error {
			_, err := e.pilot.Get(ctx, admin.Principal, "req-nosuchrequest")
			return err
		}},
		{"version conflict", tfpilot.CodeConflict, false, func() error {
			id := e.create("payments-dev-conflict").GetId()
			conflicting.Store(true)
			defer conflicting.Store(false)
			_, err := e.pilot.Cancel(ctx, admin, id, "")
			return err
		}},
		{"gate", tfpilot.CodePrecondition, true, func() error {
			id := e.create("payments-dev-gate").GetId()
			_, err := e.pilot.Approve(ctx, approver, id) // the plan is still running
			return err
		}},
		{"lock held", tfpilot.CodeLocked, false, func() error {
			id := e.create("payments-dev-locked").GetId()
			if _, err := tfpilot.Mutate(ctx, e.store, id, func(r *tfpilot.Request) error {
				l, err := lock.Acquire(nil, "bob/apply/xyz", "apply", time.Hour, time.Now())
				r.Lock = l
				return err
			}); err != nil {
				t.Fatal(err)
			}
			_, err := e.pilot.Cancel(ctx, admin, id, "")
			return err
		}},
		{"invalid config", tfpilot.CodeInvalid, true, func() error {
			_, err := e.pilot.Create(ctx, admin, input("NO"))
			return err
		}},
		{"permission denied", tfpilot.CodePermissionDenied, true, func() error {
			id := e.create("payments-dev-viewer").GetId()
			_, err := e.pilot.Approve(ctx, viewer, id)
			return err
		}},
		{"self-approval", tfpilot.CodePermissionDenied, true, func() error {
			id := e.create("payments-dev-self").GetId() // created by admin
			_, err := e.pilot.Approve(ctx, admin, id)
			return err
		}},
		{"idempotency key reused", tfpilot.CodeIdempotencyKeyReused, false, func() error {
			keyed := tfpilot.Caller{Principal: admin.Principal, IdempotencyKey: "messages-1"}
			if _, err := e.pilot.Create(ctx, keyed, input("payments-dev-key-a")); err != nil {
				t.Fatal(err)
			}
			_, err := e.pilot.Create(ctx, keyed, input("payments-dev-key-b"))
			return err
		}},
		{"GitHub down on a read", tfpilot.CodeUnavailable, false, func() error {
			id := e.create("payments-dev-down-read").GetId()
			e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointGetPull, Kind: githubtest.FaultServerError})
			_, err := e.pilot.Sync(ctx, admin, id)
			return err
		}},
		{"GitHub down on a dispatch", tfpilot.CodeUnavailable, false, func() error {
			id := e.create("payments-dev-down-dispatch").GetId()
			e.finishRun(id, runs.Plan, "failure")
			e.sync(id)
			e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointDispatch, Kind: githubtest.FaultServerError})
			_, err := e.pilot.Plan(ctx, admin, id)
			return err
		}},
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range cases {
		err := c.provoke()
		if got := tfpilot.Code(err); got != c.code {
			t.Fatalf("%s: Code(%v) = %q, want %q", c.name, err, got, c.code)
		}
		said := err.Error()
		if n := strings.Count(said, "tfpilot: "); n > 1 {
			t.Errorf("%s: the engine's message names tfpilot %d times: %q", c.name, n, said)
		}
		ce := server.ConnectError(ctx, log, err)
		t.Logf("%s: the engine said %q; the client is told %q", c.name, said, ce.Message())
		if strings.Contains(ce.Message(), "tfpilot: ") {
			t.Errorf("%s: the client is told %q", c.name, ce.Message())
		}
		if !c.passThrough {
			continue
		}
		want := said
		if gerr := (*tfpilot.GateError)(nil); errors.As(err, &gerr) {
			want = gerr.Error() // the gate's words, not the GitHub answer it may wrap
		}
		if ce.Message() != want {
			t.Errorf("%s: the client is told %q; the engine said %q", c.name, ce.Message(), want)
		}
		if ce.Code() == connect.CodeUnknown {
			t.Errorf("%s: code unknown", c.name)
		}
	}
}
