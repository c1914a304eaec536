package memstore

import (
	"context"
	"fmt"

	"github.com/tfpilot/tfpilot"
)

// ReindexPR implements [tfpilot.PRIndexRepairer].
func (s *Store) ReindexPR(ctx context.Context, pr tfpilot.PRRef, from, to string) error {
	if !validPR(pr) || to == "" {
		return fmt.Errorf("memstore: reindex PR %s/%s#%d to request %q: %w", pr.Owner, pr.Repo, pr.Number, to, tfpilot.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: reindex PR %s/%s#%d: %w", pr.Owner, pr.Repo, pr.Number, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.prIndex[pr]
	switch {
	case !ok:
		return fmt.Errorf("memstore: reindex PR %s/%s#%d: %w", pr.Owner, pr.Repo, pr.Number, tfpilot.ErrNotFound)
	case cur != from && cur != to:
		return fmt.Errorf("memstore: reindex PR %s/%s#%d from %q: held by %q: %w", pr.Owner, pr.Repo, pr.Number, from, cur, tfpilot.ErrConflict)
	}
	s.prIndex[pr] = to
	return nil
}
