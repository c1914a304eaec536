package pgstore_test

import (
	"context"
	"errors"
	"log"
	"os"

	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/pgstore"
)

func ExampleOpen() {
	ctx := context.Background()
	s, err := pgstore.Open(ctx, os.Getenv("DATABASE_URL"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	r, err := store.Mutate(ctx, s, "req-1", func(r *store.Request) error {
		r.BranchName = "tfpilot/req-1"
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		log.Print("no such request")
	case err != nil:
		log.Fatal(err)
	default:
		log.Printf("request %s is at version %d", r.ID, r.Version)
	}
}
