package store

import (
	"errors"
	"strings"
)

// Sentinel errors of the store contract. Every error a store (and the
// engine over it) returns that falls in one of these classes wraps the
// sentinel with %w; check with errors.Is. Their texts name no package
// ("not found"): the layer that wraps one with its context puts its own
// prefix in front once (`memstore: update request "r1": version
// conflict`), so no message repeats a prefix.
var (
	// ErrNotFound: the request, index entry or record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a compare-and-swap write lost to a concurrent write
	// (the stored version is not the expected one). Re-read and retry.
	ErrConflict = errors.New("version conflict")
	// ErrAlreadyExists: create-if-absent found the item present, or a
	// claim or index entry is held by someone else.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalid: the input is malformed. The error is usually a
	// [*ValidationError] listing each field's problem.
	ErrInvalid = errors.New("invalid argument")
)

// FieldViolation says what is wrong with one field of an input.
type FieldViolation struct {
	// Field is the field's path, e.g. "project" or "config.bucket_name".
	Field string
	// Description says what is wrong, for people.
	Description string
}

// ValidationError reports every field of an input that failed
// validation. It matches [ErrInvalid] with errors.Is. Its text is
// "invalid argument: " and the violations ("field: description",
// joined by "; "), for people.
type ValidationError struct {
	Violations []FieldViolation
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid argument: ")
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
