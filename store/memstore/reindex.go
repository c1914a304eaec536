package memstore

import (
	"context"
	"fmt"

	"github.com/tfpilot/tfpilot/store"
)

// ReindexPR implements [store.PRIndexRepairer].
func (s *Store) ReindexPR(ctx context.Context, pr store.PRRef, from, to string) error {
	if !validPR(pr) || to == "" {
		return fmt.Errorf("memstore: reindex PR %s/%s#%d to request %q: %w", pr.Owner, pr.Repo, pr.Number, to, store.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: reindex PR %s/%s#%d: %w", pr.Owner, pr.Repo, pr.Number, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.prIndex[pr]
	switch {
	case !ok:
		return fmt.Errorf("memstore: reindex PR %s/%s#%d: %w", pr.Owner, pr.Repo, pr.Number, store.ErrNotFound)
	case cur != from && cur != to:
		return fmt.Errorf("memstore: reindex PR %s/%s#%d from %q: held by %q: %w", pr.Owner, pr.Repo, pr.Number, from, cur, store.ErrConflict)
	}
	s.prIndex[pr] = to
	return nil
}
