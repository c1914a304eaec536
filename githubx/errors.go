package githubx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// Sentinel errors. Errors returned by [Client] wrap one of them; check with
// errors.Is. A rate limit is reported as a [*RateLimitError] (check with
// errors.As to read the reset time; it also matches [ErrRateLimited]).
var (
	// ErrNotFound: the repository, branch, file, pull request, run or job
	// does not exist (or the credentials cannot see it).
	ErrNotFound = errors.New("githubx: not found")
	// ErrUnauthorized: the credentials were refused (401), or an App
	// installation token could not be minted.
	ErrUnauthorized = errors.New("githubx: unauthorized")
	// ErrForbidden: the credentials lack a permission (403 that is not a
	// rate limit).
	ErrForbidden = errors.New("githubx: forbidden")
	// ErrConflict: the change conflicts with the current state (409, a
	// non-fast-forward ref update). [ErrNotMergeable] and
	// [ErrHeadSHAMismatch] also match it.
	ErrConflict = errors.New("githubx: conflict")
	// ErrNotMergeable: GitHub refused the merge (405): the pull request is
	// closed, conflicting or blocked by branch protection.
	ErrNotMergeable = fmt.Errorf("githubx: pull request not mergeable: %w", ErrConflict)
	// ErrHeadSHAMismatch: the pull request's head moved away from the
	// expected SHA; re-read it before merging.
	ErrHeadSHAMismatch = fmt.Errorf("githubx: head sha mismatch: %w", ErrConflict)
	// ErrAlreadyExists: the ref or pull request already exists (422).
	ErrAlreadyExists = errors.New("githubx: already exists")
	// ErrInvalid: GitHub rejected the request as invalid (422), or the
	// arguments were invalid before any call was made.
	ErrInvalid = errors.New("githubx: invalid request")
	// ErrRateLimited: a primary or secondary rate limit was hit and the
	// wait was too long to sleep through. See [*RateLimitError].
	ErrRateLimited = errors.New("githubx: rate limited")
	// ErrUnavailable: GitHub answered 5xx after the retries allowed.
	ErrUnavailable = errors.New("githubx: github unavailable")
)

// Error is the error type of every failed [Client] call. Err is one of the
// sentinels (or a [*RateLimitError], or a transport error), so errors.Is
// and errors.As see through it.
type Error struct {
	// Op is the operation, e.g. "githubx.MergePR".
	Op string
	// StatusCode is GitHub's HTTP status, 0 if none was received.
	StatusCode int
	// Message is GitHub's error message, if any.
	Message string
	// Err is the classified cause.
	Err error
}

// Error formats the operation, status, GitHub's message and the cause.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": %d", e.StatusCode)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, " %q", e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the classified cause.
func (e *Error) Unwrap() error { return e.Err }

// RateLimitError reports a rate limit that the client did not wait out
// because the wait exceeded Options.MaxRateLimitWait. It matches
// [ErrRateLimited] with errors.Is.
type RateLimitError struct {
	// Reset is when requests may be made again.
	Reset time.Time
	// Secondary is true for a secondary (abuse) limit announced with
	// Retry-After, false for the primary hourly budget.
	Secondary bool
	// StatusCode is 403 or 429; 0 when the client refused to send the
	// request because a limit known from earlier answers was still active.
	StatusCode int
}

// Error says which limit was hit and until when.
func (e *RateLimitError) Error() string {
	kind := "primary"
	if e.Secondary {
		kind = "secondary"
	}
	return fmt.Sprintf("githubx: %s rate limit until %s", kind, e.Reset.UTC().Format(time.RFC3339))
}

// Is reports whether target is [ErrRateLimited].
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// wrapErr classifies an error from go-github or the transport.
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Op: op, Err: err}
	}
	var rle *RateLimitError
	if errors.As(err, &rle) {
		return &Error{Op: op, StatusCode: rle.StatusCode, Err: rle}
	}
	var own *Error
	if errors.As(err, &own) {
		return &Error{Op: op, StatusCode: own.StatusCode, Message: own.Message, Err: own.Err}
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		msg := errorMessage(er)
		return &Error{Op: op, StatusCode: er.Response.StatusCode, Message: msg, Err: classify(er.Response.StatusCode, msg, er.Errors)}
	}
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return &Error{Op: op, StatusCode: http.StatusForbidden, Message: rl.Message, Err: &RateLimitError{Reset: rl.Rate.Reset.Time, StatusCode: http.StatusForbidden}}
	}
	var ab *github.AbuseRateLimitError
	if errors.As(err, &ab) {
		return &Error{Op: op, StatusCode: http.StatusForbidden, Message: ab.Message, Err: &RateLimitError{Secondary: true, StatusCode: http.StatusForbidden}}
	}
	return &Error{Op: op, Err: err}
}

// errorMessage joins GitHub's top-level message with the reasons in its
// errors[] array. GitHub's documented validation error
// (components/schemas/validation-error in its OpenAPI description) says
// only "Validation Failed" at the top and puts the reason in
// errors[].message, or in errors[].code with resource and field.
func errorMessage(er *github.ErrorResponse) string {
	var reasons []string
	for _, e := range er.Errors {
		switch {
		case e.Message != "":
			reasons = append(reasons, e.Message)
		case e.Code != "":
			r := e.Code
			if e.Resource != "" || e.Field != "" {
				r = strings.Trim(e.Resource+"."+e.Field, ".") + " " + e.Code
			}
			reasons = append(reasons, r)
		}
	}
	if len(reasons) == 0 {
		return er.Message
	}
	if er.Message == "" {
		return strings.Join(reasons, "; ")
	}
	return er.Message + ": " + strings.Join(reasons, "; ")
}

func classify(status int, msg string, details []github.Error) error {
	low := strings.ToLower(msg)
	exists := strings.Contains(low, "already exists")
	for _, d := range details {
		exists = exists || d.Code == "already_exists" // GitHub's documented validation code
	}
	switch {
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusConflict:
		return ErrConflict
	case status == http.StatusMethodNotAllowed:
		return ErrNotMergeable
	case status == http.StatusUnprocessableEntity && exists:
		return ErrAlreadyExists
	case status == http.StatusUnprocessableEntity && strings.Contains(low, "fast forward"):
		return ErrConflict
	case status == http.StatusUnprocessableEntity || status == http.StatusBadRequest:
		return ErrInvalid
	case status >= 500:
		return ErrUnavailable
	}
	return fmt.Errorf("githubx: unexpected status %d", status)
}

// retryable reports whether a failed call may be retried: a 5xx after the
// transport's own retries, or a transport-level failure (no status).
func retryable(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrRateLimited) {
		return false
	}
	return e.StatusCode >= 500 || e.StatusCode == 0
}
