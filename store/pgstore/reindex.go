package pgstore

import (
	"context"
	"fmt"

	"github.com/tfpilot/tfpilot/store"
)

// ReindexPR implements [store.PRIndexRepairer] with one conditional
// UPDATE on the entry's current holder.
func (s *Store) ReindexPR(ctx context.Context, pr store.PRRef, from, to string) error {
	op := fmt.Sprintf("reindex PR %s/%s#%d from %q to %q", pr.Owner, pr.Repo, pr.Number, from, to)
	if pr.Owner == "" || pr.Repo == "" || pr.Number <= 0 || to == "" {
		return wrap(op, store.ErrInvalid)
	}
	res, err := s.db.NewUpdate().Model((*prIndexRow)(nil)).
		Set("request_id = ?", to).Set("indexed_at = ?", s.now()).
		Where("owner = ?", pr.Owner).Where("repo = ?", pr.Repo).Where("number = ?", pr.Number).
		Where("request_id IN (?, ?)", from, to).Exec(ctx)
	if err != nil {
		return wrap(op, err)
	}
	if ok, err := wrote(res); err != nil || ok {
		return wrapIf(op, err)
	}
	if _, err := s.LookupPR(ctx, pr); err != nil {
		return wrap(op, err)
	}
	return wrap(op, store.ErrConflict)
}
