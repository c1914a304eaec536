package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tfpilot/tfpilot/store/s3store"
)

// runReindex builds the list index of a bucket served as it is (one the
// original TfPilot wrote lists nothing until then). Reindex writes only
// missing entries and removes stale ones, so an interrupted run is
// finished by running it again; a document that cannot be read is
// reported as unlistable and never stops it. Exit 1 when some requests
// stay unlistable.
func runReindex(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("reindex", stderr)
	var sf storeFlags
	sf.register(fs)
	storeURL := fs.String("store", "", "the S3 store to reindex (s3://bucket[/prefix])")
	if code, ok := parseArgs(fs, args, stdout); !ok {
		return code
	}
	if *storeURL == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, "tfpilot-migrate reindex: --store is required and it takes no arguments\n")
		return exitError
	}
	st, closeStore, err := openStore(ctx, *storeURL, &sf, true)
	if err != nil {
		fmt.Fprintf(stderr, "tfpilot-migrate reindex: %v\n", err)
		return exitError
	}
	defer closeStore()
	s, ok := st.(*s3store.Store)
	if !ok {
		fmt.Fprintf(stderr, "tfpilot-migrate reindex: %s is not an S3 store; only s3store keeps a list index to rebuild\n", *storeURL)
		return exitError
	}
	start := time.Now()
	res, err := s.Reindex(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "tfpilot-migrate reindex: %v\n", err)
		fmt.Fprintln(stderr, "tfpilot-migrate reindex: run the same command again to finish it")
		return exitError
	}
	for _, id := range res.Unlistable {
		fmt.Fprintf(stdout, "unlistable: requests/%s.json (id outside the list alphabet, id not matching its key, or unreadable; readable by id only)\n", id)
	}
	fmt.Fprintf(stdout, "reindexed %d requests: %d entries added, %d stale removed, %d unlistable in %s\n",
		res.Requests, res.Added, res.Removed, len(res.Unlistable), time.Since(start).Round(time.Millisecond))
	if len(res.Unlistable) > 0 {
		return exitFindings
	}
	return exitOK
}
