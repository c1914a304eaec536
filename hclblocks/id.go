package hclblocks

import (
	"fmt"
	"strings"
)

// MaxIDLen is the longest id [ValidateID] accepts.
const MaxIDLen = 128

// ValidateID reports whether id may be used as a request id in a marker.
// The safe set is ASCII letters, digits, '-', '_' and '.', starting with a
// letter or digit (so an id is never ".", a hidden file name or an
// option), with no "..", and 1 to [MaxIDLen] bytes. The error wraps
// [ErrInvalidID]. tfpilot.ValidateRequestID applies the same rule.
//
// Other packages may reuse it wherever a request id reaches a file name,
// a key or a marker.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty", ErrInvalidID)
	case len(id) > MaxIDLen:
		return fmt.Errorf("%w: %d bytes, at most %d allowed", ErrInvalidID, len(id), MaxIDLen)
	case strings.Contains(id, ".."):
		return fmt.Errorf("%w: %q contains \"..\"", ErrInvalidID, id)
	case !isAlnum(id[0]):
		return fmt.Errorf("%w: %q must start with a letter or digit", ErrInvalidID, id)
	}
	for i := 0; i < len(id); i++ {
		if !isIDByte(id[i]) {
			return fmt.Errorf("%w: %q has byte %q at offset %d", ErrInvalidID, id, id[i], i)
		}
	}
	return nil
}

// validID is [ValidateID] without building an error.
func validID(id string) bool {
	if id == "" || len(id) > MaxIDLen || strings.Contains(id, "..") || !isAlnum(id[0]) {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !isIDByte(id[i]) {
			return false
		}
	}
	return true
}

func isIDByte(c byte) bool { return isAlnum(c) || c == '-' || c == '_' || c == '.' }

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
