package hclblocks

import (
	"errors"
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers branch with [errors.Is]. Errors about marker structure are
// also a [*MarkerError] and errors that carry HCL diagnostics are also a
// [*ParseError]; use [errors.As] to read their details.
var (
	// ErrInvalidID reports a request id outside the safe set (see [ValidateID]).
	ErrInvalidID = errors.New("hclblocks: invalid id")

	// ErrInvalidMarkers reports an unusable [Markers] configuration.
	ErrInvalidMarkers = errors.New("hclblocks: invalid marker format")

	// ErrUnclosedBegin reports a begin marker with no matching end marker.
	ErrUnclosedBegin = errors.New("hclblocks: begin marker without end marker")

	// ErrUnmatchedEnd reports an end marker with no open begin marker for the
	// same id.
	ErrUnmatchedEnd = errors.New("hclblocks: end marker without begin marker")

	// ErrDuplicateID reports an id whose markers appear more than once.
	ErrDuplicateID = errors.New("hclblocks: id marked more than once")

	// ErrNestedMarkers reports a begin marker found while another region is
	// still open (nested or interleaved regions).
	ErrNestedMarkers = errors.New("hclblocks: nested or interleaved markers")

	// ErrNotFound reports that no region is marked with the requested id.
	ErrNotFound = errors.New("hclblocks: id not found")

	// ErrInvalidRegion reports a marked region whose content does not parse
	// as HCL.
	ErrInvalidRegion = errors.New("hclblocks: marked region does not parse")

	// ErrInvalidFile reports a file that does not parse in strict mode (see
	// [Editor].Strict), a file to which nothing can be appended safely
	// because it ends inside an unclosed block, expression, string or
	// heredoc, or a file nested so deeply (over 1000 levels) that the HCL
	// parser would exhaust the stack.
	ErrInvalidFile = errors.New("hclblocks: file does not parse")

	// ErrInvalidContent reports content given to [Editor.Upsert] that does
	// not parse as HCL, defines a top-level argument, contains a marker line
	// of its own, or is nested over 1000 levels deep.
	ErrInvalidContent = errors.New("hclblocks: invalid block content")

	// ErrUnsafeEdit reports an edit that would change how the markers of
	// the file are read (for example new content closing a comment that an
	// unparseable file left open). It guards against inputs that the other
	// checks cannot classify; the input is returned untouched.
	ErrUnsafeEdit = errors.New("hclblocks: edit would change marker structure")

	// ErrInvalidModule reports a [Module] that cannot be rendered: a name that
	// is not an HCL identifier, an empty source, or an input name that is not
	// an identifier or is reserved by Terraform.
	ErrInvalidModule = errors.New("hclblocks: invalid module")

	// ErrInvalidValue reports an input value that has no HCL rendering (an
	// unsupported Go type, NaN or infinity, invalid UTF-8, a cycle or too
	// deep nesting).
	ErrInvalidValue = errors.New("hclblocks: invalid value")
)

// MarkerError describes a marker structure problem: which marker, where.
// Err is one of [ErrUnclosedBegin], [ErrUnmatchedEnd], [ErrDuplicateID] or
// [ErrNestedMarkers].
type MarkerError struct {
	Err  error  // the sentinel
	ID   string // the id on the offending marker
	Line int    // 1-based line of the offending marker
}

// Error implements the error interface.
func (e *MarkerError) Error() string {
	return fmt.Sprintf("%v: id %.140q at line %d", e.Err, e.ID, e.Line)
}

// Unwrap returns the sentinel, so [errors.Is] matches it.
func (e *MarkerError) Unwrap() error { return e.Err }

// ParseError carries the HCL diagnostics behind [ErrInvalidRegion],
// [ErrInvalidFile] or [ErrInvalidContent]. ID is set for a region.
type ParseError struct {
	Err         error // the sentinel
	ID          string
	Diagnostics hcl.Diagnostics
}

// Error implements the error interface; it reports the first error
// diagnostic.
func (e *ParseError) Error() string {
	msg := e.Err.Error()
	if e.ID != "" {
		msg = fmt.Sprintf("%s: id %.140q", msg, e.ID)
	}
	for _, d := range e.Diagnostics {
		if d.Severity != hcl.DiagError {
			continue
		}
		if d.Subject != nil {
			return fmt.Sprintf("%s: line %d: %s", msg, d.Subject.Start.Line, d.Summary)
		}
		return fmt.Sprintf("%s: %s", msg, d.Summary)
	}
	return msg
}

// Unwrap returns the sentinel, so [errors.Is] matches it.
func (e *ParseError) Unwrap() error { return e.Err }
