package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/lock"
)

// ConnectError maps an engine error to the Connect error a client sees.
// Messages are written for the client: a gate's reason, a validation's
// field violations (also as a google.rpc.BadRequest detail), who holds a
// lock. GitHub unreachable, failing or rate limiting
// ([tfpilot.ErrUnavailable]) is UNAVAILABLE with a google.rpc.RetryInfo
// detail. An error of no known class becomes INTERNAL with a message naming
// the call's correlation id only; it is logged to log in full. A
// *connect.Error passes through unchanged.
func ConnectError(ctx context.Context, log *slog.Logger, err error) *connect.Error {
	noteLockConflict(ctx, err) // metrics_domain.go
	if ce := new(connect.Error); errors.As(err, &ce) {
		return ce
	}
	var (
		verr *tfpilot.ValidationError
		gerr *tfpilot.GateError
		lerr *lock.ConflictError
		rerr *githubx.RateLimitError
	)
	switch {
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, errors.New("the call was cancelled"))
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, errors.New("the call ran out of time; Sync finishes what it started"))
	case errors.Is(err, tfpilot.ErrUnauthenticated):
		return connect.NewError(connect.CodeUnauthenticated, errUnauthenticated)
	case errors.Is(err, tfpilot.ErrPermissionDenied):
		return connect.NewError(connect.CodePermissionDenied, errors.New(clean(err)))
	case errors.Is(err, tfpilot.ErrIdempotencyKeyReused):
		return invalidArgument("the idempotency key was already used with a different request",
			tfpilot.FieldViolation{Field: IdempotencyKeyHeader, Description: "was first used with a different request body; use a new key"})
	case errors.As(err, &verr):
		return invalidArgument("invalid argument: "+summary(verr.Violations), verr.Violations...)
	case errors.Is(err, tfpilot.ErrInvalid):
		return connect.NewError(connect.CodeInvalidArgument, errors.New(clean(err)))
	case errors.As(err, &gerr):
		return connect.NewError(connect.CodeFailedPrecondition, errors.New(clean(gerr)))
	case errors.Is(err, tfpilot.ErrLocked):
		msg := "another operation holds the request; retry shortly"
		if errors.As(err, &lerr) {
			msg = fmt.Sprintf("the request is locked by operation %q until %s; retry shortly",
				lerr.Operation, lerr.ExpiresAt.UTC().Format(time.RFC3339))
		}
		return connect.NewError(connect.CodeAborted, errors.New(msg))
	case errors.Is(err, tfpilot.ErrConflict):
		return connect.NewError(connect.CodeAborted, errors.New("the request changed concurrently; retry"))
	case errors.Is(err, tfpilot.ErrNotFound):
		return connect.NewError(connect.CodeNotFound, errors.New("request not found"))
	case errors.Is(err, tfpilot.ErrAlreadyExists):
		return connect.NewError(connect.CodeAlreadyExists, errors.New("already exists"))
	case errors.As(err, &rerr):
		log.WarnContext(ctx, "GitHub rate limit", "request_id", RequestID(ctx), "err", err)
		return unavailable(fmt.Sprintf("GitHub is rate limiting tfpilot until %s; retry then",
			rerr.Reset.UTC().Format(time.RFC3339)), time.Until(rerr.Reset))
	case errors.Is(err, tfpilot.ErrUnavailable), errors.Is(err, githubx.ErrUnavailable):
		log.WarnContext(ctx, "GitHub unavailable", "request_id", RequestID(ctx), "err", err)
		return unavailable("GitHub is unavailable; retry later (Sync finishes what was started)", UnavailableRetryDelay)
	}
	log.ErrorContext(ctx, "internal error", "request_id", RequestID(ctx), "err", err)
	return connect.NewError(connect.CodeInternal, fmt.Errorf("internal error (request id %s)", RequestID(ctx)))
}

// UnavailableRetryDelay is the retry delay an UNAVAILABLE answer
// suggests (google.rpc.RetryInfo) when GitHub is down and did not say
// for how long.
const UnavailableRetryDelay = 5 * time.Second

// unavailable is UNAVAILABLE with a google.rpc.RetryInfo detail saying
// how long to wait before retrying (at least one second).
func unavailable(msg string, retryAfter time.Duration) *connect.Error {
	ce := connect.NewError(connect.CodeUnavailable, errors.New(msg))
	if d, err := connect.NewErrorDetail(&errdetails.RetryInfo{RetryDelay: durationpb.New(max(retryAfter, time.Second).Round(time.Second))}); err == nil {
		ce.AddDetail(d)
	}
	return ce
}

// invalidArgument is INVALID_ARGUMENT with a google.rpc.BadRequest detail.
func invalidArgument(msg string, vs ...tfpilot.FieldViolation) *connect.Error {
	ce := connect.NewError(connect.CodeInvalidArgument, errors.New(msg))
	br := &errdetails.BadRequest{}
	for _, v := range vs {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
	}
	if d, err := connect.NewErrorDetail(br); err == nil {
		ce.AddDetail(d)
	}
	return ce
}

func summary(vs []tfpilot.FieldViolation) string {
	parts := make([]string, 0, len(vs))
	for _, v := range vs {
		parts = append(parts, v.Field+": "+v.Description)
	}
	return strings.Join(parts, "; ")
}

// clean drops the "tfpilot: " prefixes of an engine message meant for
// the client.
func clean(err error) string {
	return strings.ReplaceAll(err.Error(), "tfpilot: ", "")
}
