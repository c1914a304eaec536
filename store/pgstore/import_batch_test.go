package pgstore_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// TestImportBatch_AgreesWithImport: a batch mixing kinds, repeated keys,
// items stored identically or differently beforehand, raw documents and
// a malformed item gets, item by item, what Import gives, and leaves the
// store holding what Import leaves.
func TestImportBatch_AgreesWithImport(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	ctx := t.Context()
	at := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	req := func(id, module string) store.Item {
		var r store.Request
		if err := json.Unmarshal([]byte(fmt.Sprintf(lenientDoc, id)), &r); err != nil {
			t.Fatal(err)
		}
		r.Module, r.Version = module, 3
		return store.Item{Kind: store.KindRequest, Request: &r}
	}
	ev := func(id, name string) store.Item {
		return store.Item{Kind: store.KindEvent, Event: &store.Event{RequestID: "r1", ID: id, Event: name, Timestamp: at,
			Data: map[string]any{"n": json.Number("1e+21"), "s": "nul \u0000"}}}
	}
	run := func(id int64, req string) store.Item {
		return store.Item{Kind: store.KindRunIndex, Run: &store.RunIndexEntry{Kind: runs.Plan, RunID: id, RequestID: req}}
	}
	pr := func(n int, req string) store.Item {
		return store.Item{Kind: store.KindPRIndex, PR: &store.PRIndexEntry{PR: store.PRRef{Owner: "o", Repo: "r", Number: n}, RequestID: req}}
	}
	delivery := store.Item{Kind: store.KindDelivery, Delivery: &store.Delivery{ID: "d1", Event: "push", ClaimedAt: at}}
	before := []store.Item{req("r2", "same"), req("r3", "stored"), ev("e2", "same"), run(2, "r2"), pr(2, "r3")}
	batch := []store.Item{
		req("r1", "m"), req("r1", "m"), req("r1", "other"), req("r2", "same"), req("r3", "changed"),
		ev("e1", "x"), ev("e1", "x"), ev("e2", "same"), ev("e3", "y"),
		run(1, "r1"), run(2, "r2"), run(1, "r9"),
		pr(1, "r1"), pr(2, "r1"),
		delivery,
		{Kind: store.KindRunIndex, Run: &store.RunIndexEntry{Kind: runs.Plan, RunID: 0, RequestID: "r1"}},
	}
	one, many := openStore(t, dsn, nil), openStore(t, testenv.PostgresDSN(t), nil)
	for _, it := range before {
		if _, err := one.Import(ctx, it); err != nil {
			t.Fatal(err)
		}
		if _, err := many.Import(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	got, err := many.ImportBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range batch {
		written, err := one.Import(ctx, it)
		if got[i].Written != written || (got[i].Err == nil) != (err == nil) ||
			errors.Is(got[i].Err, store.ErrAlreadyExists) != errors.Is(err, store.ErrAlreadyExists) ||
			errors.Is(got[i].Err, store.ErrInvalid) != errors.Is(err, store.ErrInvalid) {
			t.Errorf("item %d (%s %s): batch gave %v, %v; Import gives %v, %v", i, it.Kind, it.Key(), got[i].Written, got[i].Err, written, err)
		}
	}
	for _, kind := range store.ItemKinds() {
		var a, b []string
		for _, x := range []struct {
			s   store.Exporter
			out *[]string
		}{{one, &a}, {many, &b}} {
			err := x.s.Export(ctx, kind, func(it store.Item) error {
				c, err := it.Canonical()
				*x.out = append(*x.out, string(c))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%s: Import stored\n%v\nImportBatch stored\n%v", kind, a, b)
		}
	}
}
