package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/memstore"
)

func Example() {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := memstore.New(&memstore.Options{Now: func() time.Time { return now }})

	r, err := s.CreateRequest(ctx, &store.Request{ID: "req-1", Project: "payments", Environment: "dev", Module: "s3-bucket"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("created version", r.Version, "received", r.ReceivedAt.Format(time.RFC3339))

	stale := r.Clone()
	r.BranchName = "tfpilot/req-1"
	r, _ = s.UpdateRequest(ctx, r)
	fmt.Println("updated to version", r.Version)

	stale.CommitSHA = "abc"
	_, err = s.UpdateRequest(ctx, stale)
	fmt.Println(errors.Is(err, store.ErrConflict), err)
	// Output:
	// created version 1 received 2026-01-02T03:04:05Z
	// updated to version 2
	// true memstore: update request "req-1" at version 1 (stored 2): version conflict
}
