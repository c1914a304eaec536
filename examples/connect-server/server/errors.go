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
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tfpilot/tfpilot"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of the server's errors.
const ErrorDomain = "tfpilot.dev"

// The reasons of the google.rpc.ErrorInfo detail every error of the
// tfpilot services carries (domain [ErrorDomain]). They are stable: a
// client branches on the reason, never on the message.
const (
	// ReasonUnauthenticated: no valid bearer token (UNAUTHENTICATED).
	ReasonUnauthenticated = "UNAUTHENTICATED"
	// ReasonPermissionDenied: the caller may not do this (PERMISSION_DENIED).
	ReasonPermissionDenied = "PERMISSION_DENIED"
	// ReasonInvalidArgument: the call's input is invalid; a
	// google.rpc.BadRequest detail names each field (INVALID_ARGUMENT).
	ReasonInvalidArgument = "INVALID_ARGUMENT"
	// ReasonIdempotencyKeyReused: the Idempotency-Key was first used
	// with another body (INVALID_ARGUMENT).
	ReasonIdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED"
	// ReasonGate: the request's state does not allow the operation yet;
	// a google.rpc.PreconditionFailure detail names the gate (its type is
	// the operation) and the request (FAILED_PRECONDITION).
	ReasonGate = "GATE"
	// ReasonLocked: another operation holds the request's lock; a
	// google.rpc.RetryInfo detail says when it expires (ABORTED).
	ReasonLocked = "LOCKED"
	// ReasonConflict: a concurrent write won; retry now (ABORTED).
	ReasonConflict = "CONFLICT"
	// ReasonNotFound: no such request or module (NOT_FOUND).
	ReasonNotFound = "NOT_FOUND"
	// ReasonAlreadyExists: ALREADY_EXISTS.
	ReasonAlreadyExists = "ALREADY_EXISTS"
	// ReasonRateLimited: GitHub is rate limiting tfpilot; RetryInfo says
	// until when (UNAVAILABLE).
	ReasonRateLimited = "RATE_LIMITED"
	// ReasonUnavailable: GitHub is down or unreachable; RetryInfo
	// suggests a delay (UNAVAILABLE).
	ReasonUnavailable = "UNAVAILABLE"
	// ReasonTooManyStreams: the caller or the server has too many Watch
	// streams open (RESOURCE_EXHAUSTED).
	ReasonTooManyStreams = "TOO_MANY_STREAMS"
	// ReasonInternal: a fault of the server; the message names the
	// call's correlation id (INTERNAL).
	ReasonInternal = "INTERNAL"
)

// ConnectError maps an engine error to the Connect error a client sees.
// Messages are written for the client: a permission denial, a gate
// (its own words, not the GitHub answer it may wrap) and an invalid
// input (its field violations, also as a google.rpc.BadRequest detail)
// say what the engine said, as it said it (the engine's messages name
// "tfpilot: " at most once); which operation holds a lock, a conflict, a
// missing request and GitHub's state are said in the server's words. Every answer carries a google.rpc.ErrorInfo
// detail with a stable reason (see [ReasonLocked] and the others), and
// google.rpc.RetryInfo where retrying later helps: a held lock (until it
// expires), a version conflict, GitHub rate limiting (until its reset) or
// unavailable ([tfpilot.ErrUnavailable]). A gate carries a
// google.rpc.PreconditionFailure. An error of no known class becomes
// INTERNAL with a message naming the call's correlation id only; it is
// logged to log in full. A *connect.Error passes through unchanged.
func ConnectError(ctx context.Context, log *slog.Logger, err error) *connect.Error {
	noteLockConflict(ctx, err) // metrics_domain.go
	if ce := new(connect.Error); errors.As(err, &ce) {
		return ce
	}
	var (
		verr *tfpilot.ValidationError
		gerr *tfpilot.GateError
	)
	// One error model: tfpilot.Code names the kind of failure of every
	// sentinel (the engine's, the store's, githubx's and lock's), and
	// tfpilot.RetryAt and tfpilot.LockHolder the details a client acts on.
	switch tfpilot.Code(err) {
	case tfpilot.CodeCanceled:
		return connect.NewError(connect.CodeCanceled, errors.New("the call was cancelled"))
	case tfpilot.CodeDeadlineExceeded:
		return connect.NewError(connect.CodeDeadlineExceeded, errors.New("the call ran out of time; Sync finishes what it started"))
	case tfpilot.CodeUnauthenticated:
		return withInfo(connect.NewError(connect.CodeUnauthenticated, errUnauthenticated), ReasonUnauthenticated, nil)
	case tfpilot.CodePermissionDenied:
		return withInfo(connect.NewError(connect.CodePermissionDenied, err), ReasonPermissionDenied, nil)
	case tfpilot.CodeIdempotencyKeyReused:
		ce := badRequest("the idempotency key was already used with a different request",
			tfpilot.FieldViolation{Field: IdempotencyKeyHeader, Description: "was first used with a different request body; use a new key"})
		return withInfo(ce, ReasonIdempotencyKeyReused, nil)
	case tfpilot.CodeInvalid:
		if errors.As(err, &verr) {
			return invalidArgument(verr.Error(), verr.Violations...)
		}
		return withInfo(connect.NewError(connect.CodeInvalidArgument, err), ReasonInvalidArgument, nil)
	case tfpilot.CodePrecondition:
		if errors.As(err, &gerr) {
			// The gate's own words, not what it wraps (GitHub's answer).
			ce := connect.NewError(connect.CodeFailedPrecondition, errors.New(gerr.Error()))
			addDetail(ce, &errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
				Type: string(gerr.Operation), Subject: subjectFrom(ctx), Description: gerr.Reason}}})
			return withInfo(ce, ReasonGate, map[string]string{"operation": string(gerr.Operation)})
		}
		return withInfo(connect.NewError(connect.CodeFailedPrecondition, err), ReasonGate, nil)
	case tfpilot.CodeLocked:
		if op, until, ok := tfpilot.LockHolder(err); ok {
			ce := connect.NewError(connect.CodeAborted, fmt.Errorf("the request is locked by operation %q until %s; retry then",
				op, until.UTC().Format(time.RFC3339)))
			addRetry(ce, time.Until(until))
			return withInfo(ce, ReasonLocked, map[string]string{"operation": op,
				"expires_at": until.UTC().Format(time.RFC3339)})
		}
		ce := connect.NewError(connect.CodeAborted, errors.New("another operation holds the request; retry shortly"))
		addRetry(ce, time.Second)
		return withInfo(ce, ReasonLocked, nil)
	case tfpilot.CodeConflict:
		ce := connect.NewError(connect.CodeAborted, errors.New("the request changed concurrently; retry"))
		addRetry(ce, time.Second)
		return withInfo(ce, ReasonConflict, nil)
	case tfpilot.CodeNotFound:
		return notFound("request not found", "request", strings.TrimPrefix(subjectFrom(ctx), "requests/"))
	case tfpilot.CodeAlreadyExists:
		return withInfo(connect.NewError(connect.CodeAlreadyExists, errors.New("already exists")), ReasonAlreadyExists, nil)
	case tfpilot.CodeRateLimited:
		if reset, ok := tfpilot.RetryAt(err); ok {
			log.WarnContext(ctx, "GitHub rate limit", "request_id", RequestID(ctx), "err", err)
			ce := unavailable(fmt.Sprintf("GitHub is rate limiting tfpilot until %s; retry then",
				reset.UTC().Format(time.RFC3339)), time.Until(reset))
			return withInfo(ce, ReasonRateLimited, map[string]string{"reset": reset.UTC().Format(time.RFC3339)})
		}
		fallthrough
	case tfpilot.CodeUnavailable:
		log.WarnContext(ctx, "GitHub unavailable", "request_id", RequestID(ctx), "err", err)
		return withInfo(unavailable("GitHub is unavailable; retry later (Sync finishes what was started)", UnavailableRetryDelay),
			ReasonUnavailable, nil)
	}
	log.ErrorContext(ctx, "internal error", "request_id", RequestID(ctx), "err", err)
	return withInfo(connect.NewError(connect.CodeInternal, fmt.Errorf("internal error (request id %s)", RequestID(ctx))),
		ReasonInternal, map[string]string{"request_id": RequestID(ctx)})
}

// withInfo adds a google.rpc.ErrorInfo detail with reason and metadata.
func withInfo(ce *connect.Error, reason string, metadata map[string]string) *connect.Error {
	addDetail(ce, &errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain, Metadata: metadata})
	return ce
}

func addDetail(ce *connect.Error, m proto.Message) {
	if d, err := connect.NewErrorDetail(m); err == nil {
		ce.AddDetail(d)
	}
}

// addRetry adds a google.rpc.RetryInfo detail: retry after d, rounded up
// to whole seconds, at least one.
func addRetry(ce *connect.Error, d time.Duration) {
	d = max(d, time.Second)
	if r := d.Round(time.Second); r < d {
		d = r + time.Second
	} else {
		d = r
	}
	addDetail(ce, &errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
}

// notFound is NOT_FOUND with reason NOT_FOUND naming the kind of thing
// (and its name, when known) in the metadata.
func notFound(msg, kind, name string) *connect.Error {
	md := map[string]string{"kind": kind}
	if name != "" {
		md["name"] = name
	}
	return withInfo(connect.NewError(connect.CodeNotFound, errors.New(msg)), ReasonNotFound, md)
}

type subjectKey struct{}

// subjectFrom returns the subject of the call ("requests/<id>") that
// subjectInterceptor found in its input, or "".
func subjectFrom(ctx context.Context) string {
	s, _ := ctx.Value(subjectKey{}).(string)
	return s
}

// subjectInterceptor records the request a unary call is about (its
// input's id), so that errors can name it (a gate's
// PreconditionFailure subject).
type subjectInterceptor struct{}

func (subjectInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if m, ok := req.Any().(interface{ GetId() string }); ok && m.GetId() != "" {
			ctx = context.WithValue(ctx, subjectKey{}, "requests/"+m.GetId())
		}
		return next(ctx, req)
	}
}

func (subjectInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (subjectInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// UnavailableRetryDelay is the retry delay an UNAVAILABLE answer
// suggests (google.rpc.RetryInfo) when GitHub is down and did not say
// for how long.
const UnavailableRetryDelay = 5 * time.Second

// unavailable is UNAVAILABLE with a google.rpc.RetryInfo detail saying
// how long to wait before retrying (at least one second).
func unavailable(msg string, retryAfter time.Duration) *connect.Error {
	ce := connect.NewError(connect.CodeUnavailable, errors.New(msg))
	addRetry(ce, retryAfter)
	return ce
}

// invalidArgument is INVALID_ARGUMENT with a google.rpc.BadRequest detail
// and reason INVALID_ARGUMENT.
func invalidArgument(msg string, vs ...tfpilot.FieldViolation) *connect.Error {
	return withInfo(badRequest(msg, vs...), ReasonInvalidArgument, nil)
}

// badRequest is INVALID_ARGUMENT with a google.rpc.BadRequest detail.
func badRequest(msg string, vs ...tfpilot.FieldViolation) *connect.Error {
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
