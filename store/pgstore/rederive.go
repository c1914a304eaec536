package pgstore

import (
	"context"
	"fmt"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/store"
)

// Rederive recomputes the status column of every live request from its
// document ([lifecycle.IndexStatus]), and its done_until column (what
// insights select documents by, see [Store.InsightsAggregate]) where
// that is not known, and returns how many rows it changed. Every write
// keeps both columns current; run Rederive once after upgrading from a
// version that derived the status otherwise (with the clock, or with
// older derivation rules) or kept no done_until, so that status filters
// find those requests, and insights skip them, before their next write. It reads the table in pages of 500
// by id and updates a row only at the version it read, so it is safe
// while the store is in use (a concurrent write derives the column
// itself). A document that does not decode is skipped and reported in
// the error after the walk.
func (s *Store) Rederive(ctx context.Context) (int, error) {
	const page = 500
	changed, after := 0, ""
	var bad []string
	for {
		var rows []requestRow
		if err := s.db.NewSelect().Model(&rows).Column("id", "status", "version", "doc", "raw", "done_until").
			Where("id > ?", after).Order("id").Limit(page).Scan(ctx); err != nil {
			return changed, wrap("rederive statuses", err)
		}
		for _, row := range rows {
			after = row.ID
			r, err := decodeRequest(row.Doc, row.Raw, row.Version)
			if err != nil {
				bad = append(bad, row.ID)
				continue
			}
			st := string(lifecycle.IndexStatus(r.Facts()))
			if st == row.Status && row.DoneUntil != nil {
				continue
			}
			res, err := s.db.NewUpdate().Table("tfpilot_requests").Set("status = ?", st).Set("done_until = ?", doneUntil(r)).
				Where("id = ? AND version = ?", row.ID, row.Version).Exec(ctx)
			if err != nil {
				return changed, wrap(fmt.Sprintf("rederive status of %q", row.ID), err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				changed++
			}
		}
		if len(rows) < page {
			break
		}
	}
	if len(bad) > 0 {
		return changed, fmt.Errorf("pgstore: rederive statuses: %d documents do not decode (%q…): %w", len(bad), bad[0], store.ErrInvalid)
	}
	return changed, nil
}
