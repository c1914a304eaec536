package s3store

import (
	"context"
	"errors"
	"fmt"
)

// errUnreadable marks a request document that exists but cannot be
// read as one (empty, not JSON, not an object): a problem of that
// document, not of the store.
var errUnreadable = errors.New("s3store: unreadable request document")

// ListIndexMissing reports whether the bucket holds request documents
// but no list-index entry at all: a bucket the original TfPilot wrote,
// which [Store.ListRequests] lists as empty until [Store.Reindex] runs.
// Servers call it at start-up to tell the operator (tfpilot-migrate
// reindex runs Reindex). It costs two one-key listings.
func (s *Store) ListIndexMissing(ctx context.Context) (bool, error) {
	docs, _, err := s.listOnce(ctx, s.prefix+requestsDir, "", 1)
	if err != nil {
		return false, fmt.Errorf("s3store: list index check: %w", err)
	}
	if len(docs) == 0 {
		return false, nil
	}
	entries, _, err := s.listOnce(ctx, s.prefix+listDir, "", 1)
	if err != nil {
		return false, fmt.Errorf("s3store: list index check: %w", err)
	}
	return len(entries) == 0, nil
}

// isUnreadable reports whether err is about one unreadable document.
func isUnreadable(err error) bool { return errors.Is(err, errUnreadable) }
