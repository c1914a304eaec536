package pgstore_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/runs"
)

// TestImportBatch_AgreesWithImport: a batch mixing kinds, repeated keys,
// items stored identically or differently beforehand, raw documents and
// a malformed item gets, item by item, what Import gives, and leaves the
// store holding what Import leaves.
func TestImportBatch_AgreesWithImport(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	ctx := t.Context()
	at := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	req := func(id, module string) tfpilot.Item {
		var r tfpilot.Request
		if err := json.Unmarshal([]byte(fmt.Sprintf(lenientDoc, id)), &r); err != nil {
			t.Fatal(err)
		}
		r.Module, r.Version = module, 3
		return tfpilot.Item{Kind: tfpilot.KindRequest, Request: &r}
	}
	ev := func(id, name string) tfpilot.Item {
		return tfpilot.Item{Kind: tfpilot.KindEvent, Event: &tfpilot.Event{RequestID: "r1", ID: id, Event: name, Timestamp: at,
			Data: map[string]any{"n": json.Number("1e+21"), "s": "nul \u0000"}}}
	}
	run := func(id int64, req string) tfpilot.Item {
		return tfpilot.Item{Kind: tfpilot.KindRunIndex, Run: &tfpilot.RunIndexEntry{Kind: runs.Plan, RunID: id, RequestID: req}}
	}
	pr := func(n int, req string) tfpilot.Item {
		return tfpilot.Item{Kind: tfpilot.KindPRIndex, PR: &tfpilot.PRIndexEntry{PR: tfpilot.PRRef{Owner: "o", Repo: "r", Number: n}, RequestID: req}}
	}
	delivery := tfpilot.Item{Kind: tfpilot.KindDelivery, Delivery: &tfpilot.Delivery{ID: "d1", Event: "push", ClaimedAt: at}}
	before := []tfpilot.Item{req("r2", "same"), req("r3", "stored"), ev("e2", "same"), run(2, "r2"), pr(2, "r3")}
	batch := []tfpilot.Item{
		req("r1", "m"), req("r1", "m"), req("r1", "other"), req("r2", "same"), req("r3", "changed"),
		ev("e1", "x"), ev("e1", "x"), ev("e2", "same"), ev("e3", "y"),
		run(1, "r1"), run(2, "r2"), run(1, "r9"),
		pr(1, "r1"), pr(2, "r1"),
		delivery,
		{Kind: tfpilot.KindRunIndex, Run: &tfpilot.RunIndexEntry{Kind: runs.Plan, RunID: 0, RequestID: "r1"}},
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
			errors.Is(got[i].Err, tfpilot.ErrAlreadyExists) != errors.Is(err, tfpilot.ErrAlreadyExists) ||
			errors.Is(got[i].Err, tfpilot.ErrInvalid) != errors.Is(err, tfpilot.ErrInvalid) {
			t.Errorf("item %d (%s %s): batch gave %v, %v; Import gives %v, %v", i, it.Kind, it.Key(), got[i].Written, got[i].Err, written, err)
		}
	}
	for _, kind := range tfpilot.ItemKinds() {
		var a, b []string
		for _, x := range []struct {
			s   tfpilot.Exporter
			out *[]string
		}{{one, &a}, {many, &b}} {
			err := x.s.Export(ctx, kind, func(it tfpilot.Item) error {
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
