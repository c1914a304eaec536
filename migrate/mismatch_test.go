package migrate_test

import (
	"context"
	"testing"

	"github.com/tfpilot/tfpilot/migrate"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// TestCopy_MismatchNamesEveryDifferingDocument: when a kind's counts or
// checksums differ after a copy, the result names each document behind
// the difference, not only the kind.
func TestCopy_MismatchNamesEveryDifferingDocument(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, dst := memstore.New(nil), memstore.New(nil)
	for _, c := range []struct {
		s  *memstore.Store
		id string
	}{{src, "req-both"}, {dst, "req-only-in-target"}} {
		if _, err := c.s.CreateRequest(ctx, &store.Request{ID: c.id, Project: "p", Environment: "dev", Module: "m"}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := migrate.Copy(ctx, src, dst, &migrate.CopyOptions{Kinds: []store.ItemKind{store.KindRequest}})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() || len(res.Mismatches) != 1 || res.Mismatches[0].Key != "req-only-in-target" || res.Mismatches[0].Detail != "only in the target" {
		t.Fatalf("mismatches %+v (OK %v), want req-only-in-target named", res.Mismatches, res.OK())
	}
}
