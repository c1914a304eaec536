package main

import (
	"context"
	"net/url"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/store/pgstore"
)

func init() {
	openers["postgres"] = openPostgres
	openers["postgresql"] = openPostgres
}

// openPostgres connects to the database; a store the command will
// write to gets its schema brought up to date first (pgstore's
// migrations are idempotent).
func openPostgres(ctx context.Context, u *url.URL, _ *storeFlags, forWrite bool) (tfpilot.Store, func(), error) {
	s, err := pgstore.Open(ctx, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	if forWrite {
		if err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, nil, err
		}
	}
	return s, func() { s.Close() }, nil
}
