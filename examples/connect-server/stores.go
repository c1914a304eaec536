package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// s3Options are the settings of --store s3.
type s3Options struct {
	bucket, prefix, endpoint, region string
}

// openStore opens the backend --store names. It returns the store, a
// readiness check for /readyz, and a function releasing the store.
func openStore(ctx context.Context, o options, log *slog.Logger) (tfpilot.Store, func(context.Context) error, func(), error) {
	switch o.store {
	case "memory":
		return memstore.New(nil), nil, func() {}, nil
	case "postgres", "s3":
		return nil, nil, nil, fmt.Errorf("--store %s: this build has no %s backend yet; use --store memory", o.store, o.store)
	}
	return nil, nil, nil, fmt.Errorf("--store %q: want memory, postgres or s3", o.store)
}
