package tfpilot_test

import (
	"errors"
	"testing"

	"github.com/tfpilot/tfpilot"
)

// withNoteModule replaces the catalogue with one whose module takes a
// free-form string and object, which field validation lets through.
func withNoteModule(t testing.TB) envOption {
	return func(cfg *tfpilot.Config, _ *tfpilot.Store) {
		c, err := tfpilot.NewCatalog(tfpilot.Module{
			Name: "s3_bucket", Source: "../../modules/s3-bucket",
			Fields: []tfpilot.Field{
				{Name: "note", Type: tfpilot.FieldString},
				{Name: "extra", Type: tfpilot.FieldObject},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Catalog = c
	}
}

// TestCreate_ConfigThatCannotRenderStoresNothing: Create renders the
// module block while validating, so a config hclblocks refuses is
// answered ErrInvalid with no request, no event and nothing on GitHub.
func TestCreate_ConfigThatCannotRenderStoresNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		config map[string]any
	}{
		{"invalid UTF-8 string", map[string]any{"note": "caf\xe9"}},
		{"invalid UTF-8 object key", map[string]any{"extra": map[string]any{"k\xff": "v"}}},
		{"value with no HCL form", map[string]any{"extra": map[string]any{"ch": make(chan int)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withNoteModule(t))
			_, err := e.pilot.Create(e.ctx, dev, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket", Config: tc.config})
			if !errors.Is(err, tfpilot.ErrInvalid) {
				t.Fatalf("Create = %v, want ErrInvalid", err)
			}
			page, err := e.store.ListRequests(e.ctx, tfpilot.ListQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Requests) != 0 {
				r := page.Requests[0]
				evs, _ := e.store.ListEvents(e.ctx, r.ID)
				t.Fatalf("an orphan request %s was stored (%d events)", r.ID, len(evs))
			}
			if n := len(e.fake.Runs("acme", "infra")); n != 0 {
				t.Fatalf("%d runs dispatched for a refused request", n)
			}
		})
	}
	// A config that renders is still accepted.
	e := newEnv(t, withNoteModule(t))
	if _, err := e.pilot.Create(e.ctx, dev, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
		Config: map[string]any{"note": "café", "extra": map[string]any{"k": []any{1.0, "v"}}}}); err != nil {
		t.Fatalf("Create of a renderable config: %v", err)
	}
}
