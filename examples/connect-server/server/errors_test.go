package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/examples/connect-server/server"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/lock"
)

func TestConnectError_MapsEveryEngineErrorClass(t *testing.T) {
	t.Parallel()
	conflict := &lock.ConflictError{Holder: "bob/apply/xyz", Operation: "apply", ExpiresAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	cases := []struct {
		name string
		err  error
		want connect.Code
		// msg must appear in the message; leak must not.
		msg, leak string
	}{
		{"not found", fmt.Errorf("memstore: get request %q: %w", "r1", tfpilot.ErrNotFound), connect.CodeNotFound, "request not found", "memstore"},
		{"validation", &tfpilot.ValidationError{Violations: []tfpilot.FieldViolation{{Field: "config.x", Description: "is required"}}},
			connect.CodeInvalidArgument, "config.x: is required", ""},
		{"plain invalid", fmt.Errorf("%w: bad", tfpilot.ErrInvalid), connect.CodeInvalidArgument, "bad", ""},
		{"gate", &tfpilot.GateError{Operation: tfpilot.ActionMerge, Reason: "not approved"}, connect.CodeFailedPrecondition, "not approved", ""},
		{"gate wrapping a GitHub error keeps GitHub's words out",
			fmt.Errorf("%w: %w", &tfpilot.GateError{Operation: tfpilot.ActionMerge, Reason: "GitHub refused the merge"},
				fmt.Errorf("githubx: merge: token ghp_secret: %w", githubx.ErrConflict)),
			connect.CodeFailedPrecondition, "GitHub refused the merge", "ghp_secret"},
		{"locked", fmt.Errorf("%w: %w", tfpilot.ErrLocked, conflict), connect.CodeAborted, `locked by operation "apply"`, "bob"},
		{"version conflict", fmt.Errorf("pgstore: update: %w", tfpilot.ErrConflict), connect.CodeAborted, "retry", "pgstore"},
		{"idempotency key reused", fmt.Errorf("%w: key %q", tfpilot.ErrIdempotencyKeyReused, "k"), connect.CodeInvalidArgument, "idempotency key", ""},
		{"already exists", tfpilot.ErrAlreadyExists, connect.CodeAlreadyExists, "already exists", ""},
		{"unauthenticated", tfpilot.ErrUnauthenticated, connect.CodeUnauthenticated, "bearer token", ""},
		{"permission denied", fmt.Errorf("%w: approve needs role approver", tfpilot.ErrPermissionDenied), connect.CodePermissionDenied, "needs role approver", ""},
		{"rate limited", &githubx.RateLimitError{Reset: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}, connect.CodeUnavailable, "2030-01-01T00:00:00Z", ""},
		{"github down", fmt.Errorf("githubx: get run at https://internal.example: %w", githubx.ErrUnavailable), connect.CodeUnavailable, "GitHub is unavailable", "internal.example"},
		{"github unreachable", fmt.Errorf("%w: %w", tfpilot.ErrUnavailable, &githubx.Error{Op: "githubx.GetPR", Err: errors.New("dial tcp 10.9.9.9:443: connection refused")}),
			connect.CodeUnavailable, "GitHub is unavailable", "10.9.9.9"},
		{"cancelled", context.Canceled, connect.CodeCanceled, "cancelled", ""},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), connect.CodeDeadlineExceeded, "ran out of time", ""},
		{"unknown is internal and says nothing", errors.New("pq: password authentication failed for user admin at 10.0.0.7"),
			connect.CodeInternal, "internal error", "10.0.0.7"},
		{"a Connect error passes through", connect.NewError(connect.CodeResourceExhausted, errors.New("slow down")), connect.CodeResourceExhausted, "slow down", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			ce := server.ConnectError(context.Background(), slog.New(slog.NewJSONHandler(&logs, nil)), c.err)
			if ce.Code() != c.want {
				t.Errorf("code %s, want %s", ce.Code(), c.want)
			}
			if !strings.Contains(ce.Message(), c.msg) {
				t.Errorf("message %q lacks %q", ce.Message(), c.msg)
			}
			if c.leak != "" && strings.Contains(ce.Error(), c.leak) {
				t.Errorf("message %q leaks %q", ce.Message(), c.leak)
			}
			if c.want == connect.CodeInternal && !strings.Contains(logs.String(), c.leak) {
				t.Errorf("the internal error was not logged in full: %s", logs.String())
			}
		})
	}
}

// TestConnectError_UnavailableCarriesRetryInfo: GitHub down or rate
// limiting answers UNAVAILABLE with a google.rpc.RetryInfo detail, as
// the README promises.
func TestConnectError_UnavailableCarriesRetryInfo(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		fmt.Errorf("%w: %w", tfpilot.ErrUnavailable, &githubx.Error{Op: "githubx.GetPR", Err: errors.New("connection refused")}),
		fmt.Errorf("%w: %w", tfpilot.ErrUnavailable, &githubx.RateLimitError{Reset: time.Now().Add(time.Minute)}),
	} {
		ce := server.ConnectError(context.Background(), slog.New(slog.DiscardHandler), err)
		if ce.Code() != connect.CodeUnavailable {
			t.Fatalf("%v: code %s, want unavailable", err, ce.Code())
		}
		var delay time.Duration
		for _, d := range ce.Details() {
			if v, derr := d.Value(); derr == nil {
				if ri, ok := v.(*errdetails.RetryInfo); ok {
					delay = ri.GetRetryDelay().AsDuration()
				}
			}
		}
		if delay < time.Second {
			t.Fatalf("%v: RetryInfo delay %s, want a RetryInfo detail of at least 1 s", err, delay)
		}
	}
}

// boomStore fails every GetRequest with an error carrying a secret.
type boomStore struct{ tfpilot.Store }

func (boomStore) GetRequest(context.Context, string) (*tfpilot.Request, error) {
	return nil, errors.New("dial tcp 10.1.2.3:5432: password=hunter2 refused")
}

func TestInternalErrors_NameTheCorrelationIDAndHideTheCause(t *testing.T) {
	t.Parallel()
	e := newEnv(t, newMemstore(), envOptions{wrap: func(s tfpilot.Store) tfpilot.Store { return boomStore{s} }})
	get := connect.NewRequest(getMsg("req-anything"))
	get.Header().Set(server.RequestIDHeader, "corr-42")
	_, err := e.admin.Get(t.Context(), get)
	if c := codeOf(t, err); c != connect.CodeInternal {
		t.Fatalf("code %s, want internal", c)
	}
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "10.1.2.3") {
		t.Errorf("internal error leaked: %v", err)
	}
	if !strings.Contains(err.Error(), "corr-42") {
		t.Errorf("internal error %q does not name the correlation id corr-42", err)
	}
}
