package tfpilot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/store"
)

// The store contract's sentinel errors ([github.com/tfpilot/tfpilot/store]),
// which stores and the engine wrap alike.
var (
	ErrAlreadyExists = store.ErrAlreadyExists
	ErrConflict      = store.ErrConflict
	ErrInvalid       = store.ErrInvalid
	ErrNotFound      = store.ErrNotFound
)

// The engine's sentinel errors, beside the store contract's
// (above) and the gate errors below. Every error the engine returns
// that falls in one of these classes wraps the sentinel with %w; check
// with errors.Is, or ask [Code] what kind of failure an error is.
//
// Messages are for people, and name a package once: the sentinels' and
// typed errors' texts name none ("permission denied: ...", "cannot
// merge: not approved"), and where the engine wraps an error with its
// own context it puts "tfpilot: " in front ("tfpilot: close pull request
// #3 of "req-1": githubx: ..."), so no message says "tfpilot: " twice and
// a server may show a message as it is.
var (
	// ErrUnavailable: GitHub could not be reached, answered 5xx after the
	// client's retries, or is rate limiting tfpilot. Nothing is lost: retry
	// later, and Sync finishes what the call started. The error also
	// wraps the GitHub client's error, so errors.Is and errors.As still
	// reach githubx.ErrUnavailable, githubx.ErrRateLimited and
	// *githubx.RateLimitError (its Reset says when to retry).
	ErrUnavailable = errors.New("GitHub unavailable")
	// ErrUnauthenticated: no valid identity came with the call.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrPermissionDenied: the identity may not perform the action.
	ErrPermissionDenied = errors.New("permission denied")
)

// unavailable wraps err with [ErrUnavailable] when it says GitHub could
// not be reached, failed with a 5xx or is rate limiting; other errors
// (and nil) are returned unchanged.
func unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || !githubDown(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// githubDown reports whether err is a GitHub call that failed for want
// of GitHub: 5xx, rate limit, or a transport failure (no answer at all).
func githubDown(err error) bool {
	if errors.Is(err, githubx.ErrUnavailable) || errors.Is(err, githubx.ErrRateLimited) {
		return true
	}
	var ge *githubx.Error
	if !errors.As(err, &ge) || ge.StatusCode != 0 {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var (
		ue *url.Error
		ne net.Error
	)
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// invalid returns a *ValidationError with one violation.
func invalid(field, description string) *ValidationError {
	return &ValidationError{Violations: []FieldViolation{{Field: field, Description: description}}}
}

// nameProblem is what [ValidateName] finds wrong with name, or "".
func nameProblem(name string) string {
	var ve *ValidationError
	if errors.As(ValidateName("", name), &ve) && len(ve.Violations) > 0 {
		return ve.Violations[0].Description
	}
	return ""
}

// GateError reports an operation refused because the request is not in a
// state that allows it ("not approved", "plan for head abc123 not
// successful"). It matches [ErrPrecondition]. Its text is "cannot
// <operation>: <reason>".
type GateError struct {
	Operation Action
	// Reason says what is missing.
	Reason string
}

func (e *GateError) Error() string {
	return fmt.Sprintf("cannot %s: %s", e.Operation, e.Reason)
}

// Is makes errors.Is(err, [ErrPrecondition]) true.
func (e *GateError) Is(target error) bool { return target == ErrPrecondition }

// More sentinels of the engine.
var (
	// ErrPrecondition: the request's state does not allow the operation.
	// The error is a [*GateError].
	ErrPrecondition = errors.New("failed precondition")
	// ErrLocked: another operation holds the request's lock. The error
	// also matches lock.ErrConflict and carries a *lock.ConflictError.
	ErrLocked = errors.New("request locked")
	// ErrIdempotencyKeyReused: the idempotency key was first used with a
	// different request body.
	ErrIdempotencyKeyReused = errors.New("idempotency key reused with a different request")
)

func gate(op Action, format string, args ...any) error {
	return &GateError{Operation: op, Reason: fmt.Sprintf(format, args...)}
}

// ErrSelfApproval is wrapped (with [ErrPermissionDenied]) when the
// requester tries to approve their own request.
var ErrSelfApproval = errors.New("the requester may not approve their own request")
