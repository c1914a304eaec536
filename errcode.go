package tfpilot

import (
	"context"
	"errors"
	"time"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/lock"
)

// ErrorCode is the kind of failure an error is: the one answer a caller
// branches on, whichever package's sentinel the error wraps. See [Code].
type ErrorCode string

// The kinds of failure, from [Code]. The comment says what the caller
// can do.
const (
	// CodeOK: no error.
	CodeOK ErrorCode = ""
	// CodeCanceled: the caller's context was cancelled.
	CodeCanceled ErrorCode = "canceled"
	// CodeDeadlineExceeded: the caller's context ran out of time; Sync
	// finishes what the call started.
	CodeDeadlineExceeded ErrorCode = "deadline_exceeded"
	// CodeUnauthenticated: [ErrUnauthenticated].
	CodeUnauthenticated ErrorCode = "unauthenticated"
	// CodePermissionDenied: [ErrPermissionDenied] (and [ErrSelfApproval]).
	CodePermissionDenied ErrorCode = "permission_denied"
	// CodeIdempotencyKeyReused: [ErrIdempotencyKeyReused]; use a new key.
	CodeIdempotencyKeyReused ErrorCode = "idempotency_key_reused"
	// CodeInvalid: [ErrInvalid], usually a [*ValidationError] naming each
	// field; fix the input.
	CodeInvalid ErrorCode = "invalid"
	// CodePrecondition: [ErrPrecondition], a [*GateError]: the request's
	// state does not allow the operation yet.
	CodePrecondition ErrorCode = "precondition"
	// CodeLocked: [ErrLocked] (or lock.ErrConflict): another operation
	// holds the request; [RetryAt] says when its lock expires.
	CodeLocked ErrorCode = "locked"
	// CodeConflict: [ErrConflict] (or lock.ErrNotHeld, githubx.ErrConflict
	// and the errors wrapping it): a concurrent change won; retry now.
	CodeConflict ErrorCode = "conflict"
	// CodeNotFound: [ErrNotFound]: no such request or record.
	CodeNotFound ErrorCode = "not_found"
	// CodeAlreadyExists: [ErrAlreadyExists].
	CodeAlreadyExists ErrorCode = "already_exists"
	// CodeRateLimited: GitHub is rate limiting tfpilot
	// (githubx.ErrRateLimited, *githubx.RateLimitError); [RetryAt] says
	// until when when GitHub said.
	CodeRateLimited ErrorCode = "rate_limited"
	// CodeUnavailable: [ErrUnavailable] (or githubx.ErrUnavailable):
	// GitHub is down or unreachable; retry later.
	CodeUnavailable ErrorCode = "unavailable"
	// CodeInternal: anything else, including GitHub's answers about
	// tfpilot's own calls (githubx.ErrNotFound, ErrUnauthorized,
	// ErrForbidden, ErrInvalid, ErrAlreadyExists) and lock.ErrInvalid
	// (the engine builds lock arguments): a configuration or a bug, not
	// the caller's input. Log it; tell the caller little.
	CodeInternal ErrorCode = "internal"
)

// Code says what kind of failure err is, for every sentinel of tfpilot,
// its stores, githubx and lock, however deeply wrapped. When err matches
// several (a rate limit is also [ErrUnavailable]; a self-approval is a
// permission denial), the first of this order wins: cancellation and
// deadline, authentication, permission, idempotency key, invalid input,
// gate, lock, conflict, not found, already exists, rate limit,
// unavailable. nil is [CodeOK].
func Code(err error) ErrorCode {
	is := func(targets ...error) bool {
		for _, t := range targets {
			if errors.Is(err, t) {
				return true
			}
		}
		return false
	}
	var rl *githubx.RateLimitError
	switch {
	case err == nil:
		return CodeOK
	case is(context.Canceled):
		return CodeCanceled
	case is(context.DeadlineExceeded):
		return CodeDeadlineExceeded
	case is(ErrUnauthenticated):
		return CodeUnauthenticated
	case is(ErrPermissionDenied, ErrSelfApproval):
		return CodePermissionDenied
	case is(ErrIdempotencyKeyReused):
		return CodeIdempotencyKeyReused
	case is(ErrInvalid):
		return CodeInvalid
	case is(ErrPrecondition):
		return CodePrecondition
	case is(ErrLocked, lock.ErrConflict):
		return CodeLocked
	case is(ErrConflict, lock.ErrNotHeld, githubx.ErrConflict):
		return CodeConflict
	case is(ErrNotFound):
		return CodeNotFound
	case is(ErrAlreadyExists):
		return CodeAlreadyExists
	case errors.As(err, &rl) || is(githubx.ErrRateLimited):
		return CodeRateLimited
	case is(ErrUnavailable, githubx.ErrUnavailable):
		return CodeUnavailable
	}
	return CodeInternal
}

// RetryAt says when retrying err may succeed, when err knows: the expiry
// of the lock that refused it ([CodeLocked], a *lock.ConflictError) or
// GitHub's rate-limit reset ([CodeRateLimited], a
// *githubx.RateLimitError). ok is false otherwise.
func RetryAt(err error) (at time.Time, ok bool) {
	var lc *lock.ConflictError
	if errors.As(err, &lc) && !lc.ExpiresAt.IsZero() {
		return lc.ExpiresAt, true
	}
	var rl *githubx.RateLimitError
	if errors.As(err, &rl) && !rl.Reset.IsZero() {
		return rl.Reset, true
	}
	return time.Time{}, false
}

// LockHolder says which operation holds the lock that refused err
// ([CodeLocked]) and until when; ok is false when err does not say.
func LockHolder(err error) (operation string, until time.Time, ok bool) {
	var lc *lock.ConflictError
	if !errors.As(err, &lc) {
		return "", time.Time{}, false
	}
	return lc.Operation, lc.ExpiresAt, true
}
