package tfpilot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/tfpilot/tfpilot/githubx"
)

// Sentinel errors. Every error tfpilot and its stores return that falls in
// one of these classes wraps the sentinel with %w; check with errors.Is.
var (
	// ErrNotFound: the request, index entry or record does not exist.
	ErrNotFound = errors.New("tfpilot: not found")
	// ErrConflict: a compare-and-swap write lost to a concurrent write
	// (the stored version is not the expected one). Re-read and retry.
	ErrConflict = errors.New("tfpilot: version conflict")
	// ErrAlreadyExists: create-if-absent found the item present, or a
	// claim or index entry is held by someone else.
	ErrAlreadyExists = errors.New("tfpilot: already exists")
	// ErrInvalid: the input is malformed. The error is usually a
	// [*ValidationError] listing each field's problem.
	ErrInvalid = errors.New("tfpilot: invalid argument")
	// ErrUnavailable: GitHub could not be reached, answered 5xx after the
	// client's retries, or is rate limiting tfpilot. Nothing is lost: retry
	// later, and Sync finishes what the call started. The error also
	// wraps the GitHub client's error, so errors.Is and errors.As still
	// reach githubx.ErrUnavailable, githubx.ErrRateLimited and
	// *githubx.RateLimitError (its Reset says when to retry).
	ErrUnavailable = errors.New("tfpilot: GitHub unavailable")
)

// FieldViolation says what is wrong with one field of an input.
type FieldViolation struct {
	// Field is the field's path, e.g. "project" or "config.bucket_name".
	Field string
	// Description says what is wrong, for people.
	Description string
}

// ValidationError reports every field of an input that failed
// validation. It matches [ErrInvalid] with errors.Is.
type ValidationError struct {
	Violations []FieldViolation
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("tfpilot: invalid argument: ")
	for i, v := range e.Violations {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.Field)
		b.WriteString(": ")
		b.WriteString(v.Description)
	}
	return b.String()
}

// Is makes errors.Is(err, [ErrInvalid]) true for a *ValidationError.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// invalid returns a *ValidationError with one violation.
func invalid(field, description string) *ValidationError {
	return &ValidationError{Violations: []FieldViolation{{Field: field, Description: description}}}
}

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
