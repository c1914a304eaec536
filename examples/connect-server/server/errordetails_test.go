package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/examples/connect-server/server"
	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
	"github.com/tfpilot/tfpilot/gen/tfpilot/v1/tfpilotv1connect"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/lock"
	"github.com/tfpilot/tfpilot/runs"
)

// detail returns the first detail of type T in a Connect error, or nil.
func detail[T proto.Message](t *testing.T, err error) T {
	t.Helper()
	var zero T
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("not a Connect error: %v", err)
	}
	for _, d := range ce.Details() {
		if v, derr := d.Value(); derr == nil {
			if m, ok := v.(T); ok {
				return m
			}
		}
	}
	return zero
}

// conflictOnce makes the next n request updates fail with a version
// conflict, as a concurrent writer winning would.
type conflictOnce struct {
	tfpilot.Store
	mu sync.Mutex
	n  int
}

func (s *conflictOnce) UpdateRequest(ctx context.Context, r *tfpilot.Request) (*tfpilot.Request, error) {
	s.mu.Lock()
	fail := s.n > 0
	if fail {
		s.n--
	}
	s.mu.Unlock()
	if fail {
		return nil, fmt.Errorf("test store: update %q: %w", r.ID, tfpilot.ErrConflict)
	}
	return s.Store.UpdateRequest(ctx, r)
}

// TestErrorDetails_EachReasonReachesAClient: every class of error a
// client can act on arrives, through a real Connect client over each
// protocol, with its google.rpc.ErrorInfo reason (domain tfpilot.dev) and
// the detail that says what to do: RetryInfo until a lock expires or a
// rate limit resets, PreconditionFailure naming the gate and the request,
// BadRequest naming the field.
func TestErrorDetails_EachReasonReachesAClient(t *testing.T) {
	t.Parallel()
	conflicts := &conflictOnce{}
	e := newEnv(t, newMemstore(), envOptions{wrap: func(s tfpilot.Store) tfpilot.Store { conflicts.Store = s; return conflicts }})
	ctx := ctxT(t)
	locked := e.create("payments-dev-locked").GetId()
	gated := e.create("payments-dev-gated").GetId()
	conflicted := e.create("payments-dev-conflict").GetId()
	// A dispatch refused for the rate limit leaves its attempt behind, so
	// each protocol's call gets a request of its own.
	var limited []string
	for i := range 3 {
		limited = append(limited, e.create(fmt.Sprintf("payments-dev-limited-%d", i)).GetId())
	}
	// A finished plan lets Plan through its gate to the lock and GitHub.
	for _, id := range append([]string{locked, conflicted}, limited...) {
		e.finishRun(id, runs.Plan, "success")
		e.sync(id)
	}
	expires := time.Now().Add(90 * time.Second).UTC().Truncate(time.Second)
	if _, err := tfpilot.Mutate(ctx, e.store, locked, func(r *tfpilot.Request) error {
		r.Lock = &lock.Lock{Holder: "someone/apply/x", Operation: "apply", AcquiredAt: time.Now(), ExpiresAt: expires}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		call   func(c tfpilotv1connect.RequestServiceClient) error
		code   connect.Code
		reason string
		check  func(t *testing.T, err error)
	}{
		{"locked", func(c tfpilotv1connect.RequestServiceClient) error {
			_, err := c.Plan(ctx, connect.NewRequest(&pb.PlanRequest{Id: locked}))
			return err
		}, connect.CodeAborted, server.ReasonLocked, func(t *testing.T, err error) {
			ri := detail[*errdetails.RetryInfo](t, err)
			if d := ri.GetRetryDelay().AsDuration(); d < 60*time.Second || d > 91*time.Second {
				t.Errorf("RetryInfo delay %s, want about the 90 s to the lock's expiry", d)
			}
			if got := errorInfo(t, err).GetMetadata()["expires_at"]; got != expires.Format(time.RFC3339) {
				t.Errorf("expires_at %q, want %q", got, expires.Format(time.RFC3339))
			}
		}},
		{"gate", func(c tfpilotv1connect.RequestServiceClient) error {
			_, err := c.Merge(ctx, connect.NewRequest(&pb.MergeRequest{Id: gated}))
			return err
		}, connect.CodeFailedPrecondition, server.ReasonGate, func(t *testing.T, err error) {
			pf := detail[*errdetails.PreconditionFailure](t, err)
			if len(pf.GetViolations()) != 1 || pf.GetViolations()[0].GetType() != "merge" ||
				pf.GetViolations()[0].GetSubject() != "requests/"+gated || pf.GetViolations()[0].GetDescription() == "" {
				t.Errorf("PreconditionFailure %v, want type merge, subject requests/%s", pf, gated)
			}
		}},
		{"conflict", func(c tfpilotv1connect.RequestServiceClient) error {
			conflicts.mu.Lock()
			conflicts.n = 1000
			conflicts.mu.Unlock()
			defer func() { conflicts.mu.Lock(); conflicts.n = 0; conflicts.mu.Unlock() }()
			_, err := c.Plan(ctx, connect.NewRequest(&pb.PlanRequest{Id: conflicted}))
			return err
		}, connect.CodeAborted, server.ReasonConflict, func(t *testing.T, err error) {
			if detail[*errdetails.RetryInfo](t, err) == nil {
				t.Error("no RetryInfo on a conflict")
			}
		}},
		{"rate limited", func(c tfpilotv1connect.RequestServiceClient) error {
			e.fake.SetRateLimit(0, time.Now().Add(10*time.Minute))
			defer e.fake.SetRateLimit(5000, time.Now().Add(time.Hour))
			id := limited[0]
			limited = limited[1:]
			_, err := c.Plan(ctx, connect.NewRequest(&pb.PlanRequest{Id: id}))
			return err
		}, connect.CodeUnavailable, server.ReasonRateLimited, func(t *testing.T, err error) {
			if d := detail[*errdetails.RetryInfo](t, err).GetRetryDelay().AsDuration(); d < 5*time.Minute || d > 11*time.Minute {
				t.Errorf("RetryInfo delay %s, want about the 10 minutes to the reset", d)
			}
			if errorInfo(t, err).GetMetadata()["reset"] == "" {
				t.Error("no reset in the metadata")
			}
		}},
		{"not found", func(c tfpilotv1connect.RequestServiceClient) error {
			_, err := c.Get(ctx, connect.NewRequest(&pb.GetRequest{Id: "req-nope"}))
			return err
		}, connect.CodeNotFound, server.ReasonNotFound, nil},
		{"invalid argument", func(c tfpilotv1connect.RequestServiceClient) error {
			_, err := c.Create(ctx, connect.NewRequest(createMsg("dev", "Bad Name")))
			return err
		}, connect.CodeInvalidArgument, server.ReasonInvalidArgument, func(t *testing.T, err error) {
			br := detail[*errdetails.BadRequest](t, err)
			if len(br.GetFieldViolations()) == 0 || br.GetFieldViolations()[0].GetField() != "config.bucket" {
				t.Errorf("BadRequest %v, want config.bucket", br)
			}
		}},
		{"idempotency key reused", func(c tfpilotv1connect.RequestServiceClient) error {
			for _, bucket := range []string{"payments-dev-key-a", "payments-dev-key-b"} {
				req := connect.NewRequest(createMsg("dev", bucket))
				req.Header().Set(server.IdempotencyKeyHeader, "form-submission-1")
				if _, err := c.Create(ctx, req); err != nil {
					return err
				}
			}
			return nil
		}, connect.CodeInvalidArgument, server.ReasonIdempotencyKeyReused, func(t *testing.T, err error) {
			if br := detail[*errdetails.BadRequest](t, err); len(br.GetFieldViolations()) == 0 {
				t.Error("no BadRequest naming the header")
			}
		}},
		{"permission denied", func(tfpilotv1connect.RequestServiceClient) error {
			_, err := e.client(viewerToken).Create(ctx, connect.NewRequest(createMsg("dev", "payments-dev-viewer")))
			return err
		}, connect.CodePermissionDenied, server.ReasonPermissionDenied, nil},
		{"unauthenticated", func(tfpilotv1connect.RequestServiceClient) error {
			_, err := e.client("").Get(ctx, connect.NewRequest(&pb.GetRequest{Id: gated}))
			return err
		}, connect.CodeUnauthenticated, server.ReasonUnauthenticated, nil},
	}
	protocols := map[string][]connect.ClientOption{"connect": nil, "connect-json": {connect.WithProtoJSON()}, "grpc-web": {connect.WithGRPCWeb()}}
	for _, c := range cases {
		for proto, opts := range protocols {
			err := c.call(e.client(adminToken, opts...))
			if code := codeOf(t, err); code != c.code {
				t.Errorf("%s over %s: code %s (%v), want %s", c.name, proto, code, err, c.code)
				continue
			}
			if r := errorInfo(t, err).GetReason(); r != c.reason {
				t.Errorf("%s over %s: reason %q, want %q", c.name, proto, r, c.reason)
			}
			if c.check != nil {
				c.check(t, err)
			}
		}
	}
}

// TestUnauthenticated_GRPCGetsTheChallengeWithoutAWarning: over gRPC
// (HTTP/2, where errors travel in trailers) an unauthenticated call gets
// the WWW-Authenticate challenge, and the HTTP server logs nothing about
// a forbidden trailer.
func TestUnauthenticated_GRPCGetsTheChallengeWithoutAWarning(t *testing.T) {
	t.Parallel()
	e := newEnv(t, newMemstore(), envOptions{})
	var logs syncBuffer
	hs := httptest.NewUnstartedServer(e.handler)
	hs.EnableHTTP2 = true
	hs.Config.ErrorLog = log.New(&logs, "", 0)
	hs.StartTLS()
	t.Cleanup(hs.Close)
	for _, proto := range []connect.ClientOption{connect.WithGRPC(), connect.WithGRPCWeb(), connect.WithProtoJSON()} {
		c := tfpilotv1connect.NewRequestServiceClient(hs.Client(), hs.URL, proto)
		_, err := c.Get(ctxT(t), connect.NewRequest(&pb.GetRequest{Id: "req-x"}))
		if code := codeOf(t, err); code != connect.CodeUnauthenticated {
			t.Fatalf("code %s, want unauthenticated", code)
		}
		var ce *connect.Error
		errors.As(err, &ce)
		if got := ce.Meta().Get("WWW-Authenticate"); got != `Bearer realm="tfpilot"` {
			t.Errorf("WWW-Authenticate %q, want the bearer challenge (metadata %v)", got, ce.Meta())
		}
	}
	if s := logs.String(); strings.Contains(s, "railer") {
		t.Errorf("the server logged a trailer warning: %s", s)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestConnectError_EveryClassHasAStableReason: every error class the
// engine returns maps to an ErrorInfo reason in domain tfpilot.dev, and
// the classes worth retrying carry a RetryInfo.
func TestConnectError_EveryClassHasAStableReason(t *testing.T) {
	t.Parallel()
	reset := time.Now().Add(3 * time.Minute)
	for _, c := range []struct {
		err    error
		reason string
		retry  bool
	}{
		{tfpilot.ErrUnauthenticated, server.ReasonUnauthenticated, false},
		{fmt.Errorf("%w: no", tfpilot.ErrPermissionDenied), server.ReasonPermissionDenied, false},
		{fmt.Errorf("%w: k", tfpilot.ErrIdempotencyKeyReused), server.ReasonIdempotencyKeyReused, false},
		{&tfpilot.ValidationError{Violations: []tfpilot.FieldViolation{{Field: "x", Description: "bad"}}}, server.ReasonInvalidArgument, false},
		{fmt.Errorf("%w: bad", tfpilot.ErrInvalid), server.ReasonInvalidArgument, false},
		{&tfpilot.GateError{Operation: tfpilot.ActionApply, Reason: "not merged"}, server.ReasonGate, false},
		{fmt.Errorf("%w: %w", tfpilot.ErrLocked, &lock.ConflictError{Operation: "plan", ExpiresAt: reset}), server.ReasonLocked, true},
		{tfpilot.ErrLocked, server.ReasonLocked, true},
		{fmt.Errorf("x: %w", tfpilot.ErrConflict), server.ReasonConflict, true},
		{fmt.Errorf("x: %w", tfpilot.ErrNotFound), server.ReasonNotFound, false},
		{tfpilot.ErrAlreadyExists, server.ReasonAlreadyExists, false},
		{fmt.Errorf("%w: %w", tfpilot.ErrUnavailable, &githubx.RateLimitError{Reset: reset}), server.ReasonRateLimited, true},
		{fmt.Errorf("%w: down", tfpilot.ErrUnavailable), server.ReasonUnavailable, true},
		{errors.New("boom"), server.ReasonInternal, false},
	} {
		ce := server.ConnectError(context.Background(), slog.New(slog.DiscardHandler), c.err)
		if r := errorInfo(t, ce).GetReason(); r != c.reason {
			t.Errorf("%v: reason %q, want %q", c.err, r, c.reason)
		}
		if got := detail[*errdetails.RetryInfo](t, ce) != nil; got != c.retry {
			t.Errorf("%v: RetryInfo present %v, want %v", c.err, got, c.retry)
		}
	}
}
