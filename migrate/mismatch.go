package migrate

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/tfpilot/tfpilot/store"
)

// mismatches names the items of kind on which src and dst differ,
// comparing the canonical JSON of each (a request's is its raw
// document, unknown fields included): missing from the target,
// different there, or only there. Copy calls it when a kind's counts or
// checksums differ, so that a mismatch is never reported without the
// documents behind it.
func mismatches(ctx context.Context, src store.Exporter, fates store.FateExporter, dst store.Exporter, kind store.ItemKind) ([]Conflict, error) {
	target := map[string][32]byte{}
	err := dst.Export(ctx, kind, func(it store.Item) error {
		b, err := it.Canonical()
		if err != nil {
			return err
		}
		target[it.Key()] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read target: %w", err)
	}
	var out []Conflict
	seen := map[string]bool{}
	visit := func(it store.Item) error {
		b, err := it.Canonical()
		if err != nil {
			return nil // reported as a conflict already
		}
		key := it.Key()
		seen[key] = true
		sum, ok := target[key]
		switch {
		case !ok:
			out = append(out, Conflict{Kind: kind, Key: key, Detail: "in the source, missing from the target"})
		case sum != sha256.Sum256(b):
			out = append(out, Conflict{Kind: kind, Key: key, Detail: "the target holds a different document"})
		}
		return nil
	}
	if fates != nil {
		err = fates.ExportFates(ctx, kind, visit, func(store.ObjectFate) error { return nil })
	} else {
		err = src.Export(ctx, kind, visit)
	}
	if err != nil {
		return nil, fmt.Errorf("read source: %w", err)
	}
	for key := range target {
		if !seen[key] {
			out = append(out, Conflict{Kind: kind, Key: key, Detail: "only in the target"})
		}
	}
	slices.SortFunc(out, func(a, b Conflict) int {
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	return out, nil
}
