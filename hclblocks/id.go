package hclblocks

import (
	"fmt"
	"strings"
)

// MaxIDLen is the longest id [ValidateID] accepts.
const MaxIDLen = 128

// ValidateID reports whether id may be used as a request id in a marker.
// The safe set is ASCII letters, digits, '-', '_' and '.', with no "..",
// and 1 to [MaxIDLen] bytes. The error wraps [ErrInvalidID].
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
	if id == "" || len(id) > MaxIDLen || strings.Contains(id, "..") {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !isIDByte(id[i]) {
			return false
		}
	}
	return true
}

func isIDByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.'
}
