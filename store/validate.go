package store

import (
	"fmt"
	"strings"
)

// Limits on identifiers. Identifiers become branch names, file paths and
// HCL labels, so they are short and drawn from a safe set.
const (
	MaxNameLen      = 63
	MaxRequestIDLen = 128
)

// ValidateName checks a project, environment or module name: 1 to
// [MaxNameLen] characters, lower-case letters, digits, '-' and '_',
// starting with a letter. field names the input in the error. It returns
// a [*ValidationError] (errors.Is(err, [ErrInvalid])) or nil.
func ValidateName(field, name string) error {
	if reason := nameProblem(name); reason != "" {
		return invalid(field, reason)
	}
	return nil
}

func nameProblem(name string) string {
	switch {
	case name == "":
		return "must not be empty"
	case len(name) > MaxNameLen:
		return fmt.Sprintf("is %d characters long; the limit is %d", len(name), MaxNameLen)
	case strings.Contains(name, "..") || strings.ContainsAny(name, `/\`):
		return "must not contain a path (\"..\", \"/\" or \"\\\")"
	case name[0] < 'a' || name[0] > 'z':
		return "must start with a lower-case letter"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Sprintf("has %q at byte %d; only lower-case letters, digits, '-' and '_' are allowed", c, i)
		}
	}
	return ""
}

// ValidateRequestID checks a request id: 1 to [MaxRequestIDLen]
// characters, letters, digits, '-', '_' and '.', starting with a letter
// or digit, with no "..". It is the rule hclblocks.ValidateID applies to
// marker ids. It returns a [*ValidationError] or nil.
func ValidateRequestID(id string) error {
	if reason := requestIDProblem(id); reason != "" {
		return invalid("id", reason)
	}
	return nil
}

// requestIDProblem describes what is wrong with id, or "". It is the
// rule hclblocks.ValidateID applies to marker ids, word for word (the
// root package's tests hold the two equal): request ids become marker
// text, branch names and store keys, and this package may not import
// hclblocks (DESIGN.md, dependency rule).
func requestIDProblem(id string) string {
	switch {
	case id == "":
		return "empty"
	case len(id) > MaxRequestIDLen:
		return fmt.Sprintf("%d bytes, at most %d allowed", len(id), MaxRequestIDLen)
	case strings.Contains(id, ".."):
		return fmt.Sprintf("%q contains \"..\"", id)
	case !isAlnum(id[0]):
		return fmt.Sprintf("%q must start with a letter or digit", id)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return fmt.Sprintf("%q has byte %q at offset %d", id, c, i)
		}
	}
	return ""
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// Validate checks the identifiers of r (id, project, environment,
// module) against today's rules and reports every problem at once. It is
// the rule for a new request ([Pilot.Create] applies it); stores check
// only [Request.ValidateID], so a document whose legacy project name
// predates the rules (e.g. "Payments") stays readable and updatable.
func (r *Request) Validate() error {
	var v ValidationError
	if p := requestIDProblem(r.ID); p != "" {
		v.Violations = append(v.Violations, FieldViolation{"id", p})
	}
	for _, f := range []struct{ field, value string }{{"project", r.Project}, {"environment", r.Environment}, {"module", r.Module}} {
		if p := nameProblem(f.value); p != "" {
			v.Violations = append(v.Violations, FieldViolation{f.field, p})
		}
	}
	if len(v.Violations) > 0 {
		return &v
	}
	return nil
}

// ValidateID checks what a store's keys depend on: the request id
// ([ValidateRequestID]). Stores apply it, not [Request.Validate], on every
// write, so a legacy name never makes a stored request read-only.
func (r *Request) ValidateID() error {
	if p := requestIDProblem(r.ID); p != "" {
		return &ValidationError{Violations: []FieldViolation{{"id", p}}}
	}
	return nil
}
