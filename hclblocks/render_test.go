package hclblocks_test

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/tfpilot/tfpilot/hclblocks"
	"github.com/zclconf/go-cty/cty"
)

// injections are values that would break out of a quoted string if they were
// concatenated into HCL text.
var injections = []string{
	"x\"\n}\nresource \"null_resource\" \"pwn\" {",
	"# tfpilot:end/req-1",
	"\n# tfpilot:end/req-1\n# tfpilot:begin/req-1\n",
	"${file(\"/etc/passwd\")}",
	"%{ if true }yes%{ endif }",
	"EOT\n}\nresource \"x\" \"y\" {}\n<<EOT",
	"\\\"\n}",
	"*/ /* // #",
	"\r\n}\r\n",
	"\u2028\u2029\x00\x7f",
	"$${already escaped}",
}

func TestRenderModule_InjectedValuesStayInsideQuotedStrings(t *testing.T) {
	t.Parallel()
	base := readTestdata(t, "network.tf")
	baseFile, diags := hclsyntax.ParseConfig(base, "network.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	baseBlocks := len(baseFile.Body.(*hclsyntax.Body).Blocks)
	for i, inj := range injections {
		t.Run(strings.ReplaceAll(inj, "\n", `\n`), func(t *testing.T) {
			t.Parallel()
			m := hclblocks.Module{
				Name:    "pwn_check",
				Source:  inj,
				Version: inj,
				Inputs: map[string]any{
					"plain":  inj,
					"list":   []any{inj, map[string]any{inj: inj}},
					"object": map[string]any{inj: inj, "nested": map[string]string{"k": inj}},
				},
			}
			block := mustRender(t, m)

			// The rendered text is exactly one block and nothing else.
			f, diags := hclsyntax.ParseConfig(block, "block.tf", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatalf("rendered block does not parse: %v\n%s", diags, block)
			}
			body := f.Body.(*hclsyntax.Body)
			if len(body.Blocks) != 1 || len(body.Attributes) != 0 {
				t.Fatalf("got %d blocks and %d attributes, want one block:\n%s", len(body.Blocks), len(body.Attributes), block)
			}
			attrs := body.Blocks[0].Body.Attributes
			for _, name := range []string{"source", "version", "plain"} {
				v, diags := attrs[name].Expr.Value(nil)
				if diags.HasErrors() || v.AsString() != cty.StringVal(inj).AsString() {
					t.Fatalf("%s reads back as %#v (%v), want %q", name, v, diags, inj)
				}
			}
			obj, diags := attrs["object"].Expr.Value(nil)
			if diags.HasErrors() || !obj.Type().IsObjectType() || obj.LengthInt() != 2 || obj.GetAttr(cty.StringVal(inj).AsString()).AsString() != cty.StringVal(inj).AsString() {
				t.Fatalf("object reads back as %#v (%v)", obj, diags)
			}

			// Upserted into a real file, it adds exactly one top-level block
			// and exactly one region.
			id := "req-1"
			if i%2 == 1 {
				id = "req-7f3a9c" // an existing region
			}
			out, err := hclblocks.Editor{Strict: true}.Upsert(base, id, block)
			if err != nil {
				t.Fatalf("Upsert: %v", err)
			}
			of, diags := hclsyntax.ParseConfig(out, "out.tf", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatalf("output does not parse: %v", diags)
			}
			want := baseBlocks + 1
			if id != "req-1" {
				want = baseBlocks // replaced one module block by another
			}
			if got := len(of.Body.(*hclsyntax.Body).Blocks); got != want {
				t.Fatalf("output has %d top-level blocks, want %d", got, want)
			}
			regs, err := hclblocks.List(out)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range regs {
				ids = append(ids, r.ID)
			}
			wantIDs := "req-7f3a9c,req-b21e04"
			if id == "req-1" {
				wantIDs += ",req-1"
			}
			if strings.Join(ids, ",") != wantIDs {
				t.Fatalf("regions %v, want %s", ids, wantIDs)
			}
			checkUpsertOutside(t, hclblocks.Editor{}, base, out, id)
		})
	}
}

func TestRenderModule_IsFormatStable(t *testing.T) {
	t.Parallel()
	mods := []hclblocks.Module{
		{Name: "m", Source: "./m"},
		{Name: "s3_bucket_req_abc", Source: "../../modules/s3", Version: ">= 1.0, < 2.0", Inputs: map[string]any{
			"bucket_name": "reports", "a": 1, "longer_name_here": []string{"x", "y"},
			"deep": map[string]any{"l1": map[string]any{"l2": []any{1, "two", true, nil, map[string]any{"x": 1.5}}}},
		}},
		{Name: "with-dash", Source: "git::https://example.com/m.git?ref=v1", Inputs: map[string]any{"s": strings.Join(injections, "")}},
	}
	for _, m := range mods {
		out := mustRender(t, m)
		if f := hclwrite.Format(out); !bytes.Equal(f, out) {
			t.Errorf("RenderModule(%s) is not Format-stable:\n%s\n--- formatted:\n%s", m.Name, out, f)
		}
		if ok, diags := parses(out); !ok {
			t.Errorf("RenderModule(%s) does not parse: %v", m.Name, diags)
		}
		if !bytes.HasSuffix(out, []byte("}\n")) {
			t.Errorf("RenderModule(%s) does not end with a newline", m.Name)
		}
	}
}

type env string

func TestRenderModule_RendersGoValues(t *testing.T) {
	t.Parallel()
	s := "pointed"
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"string", "a", `"a"`},
		{"named string", env("dev"), `"dev"`},
		{"bool", false, `false`},
		{"int", -42, `-42`},
		{"uint64 max", uint64(math.MaxUint64), `18446744073709551615`},
		{"float", 0.25, `0.25`},
		{"nil", nil, `null`},
		{"nil slice", []string(nil), `null`},
		{"empty slice", []string{}, `[]`},
		{"tuple", []any{1, "a", true}, `[1, "a", true]`},
		{"array", [2]int{1, 2}, `[1, 2]`},
		{"pointer", &s, `"pointed"`},
		{"object sorted", map[string]int{"b": 2, "a": 1}, "{\n    a = 1\n    b = 2\n  }"},
		{"key for quoted", map[string]int{"for": 1, "null": 2, "true": 3, "ok": 4}, "{\n    \"for\" = 1\n    null  = 2\n    ok    = 4\n    true  = 3\n  }"},
		{"odd key quoted", map[string]int{"a b": 1}, "{\n    \"a b\" = 1\n  }"},
		{"cty list", cty.ListVal([]cty.Value{cty.StringVal("x")}), `["x"]`},
		{"cty number", cty.NumberIntVal(7), `7`},
		{"cty null", cty.NullVal(cty.String), `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := hclblocks.RenderModule(hclblocks.Module{Name: "m", Source: "s", Inputs: map[string]any{"v": tt.in}})
			if err != nil {
				t.Fatal(err)
			}
			want := "module \"m\" {\n  source = \"s\"\n\n  v = " + tt.want + "\n}\n"
			if string(out) != want {
				t.Fatalf("got\n%s\nwant\n%s", out, want)
			}
			if ok, diags := parses(out); !ok {
				t.Fatalf("does not parse: %v", diags)
			}
		})
	}
}

func TestRenderModule_RejectsWhatHasNoSafeRendering(t *testing.T) {
	t.Parallel()
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	deep := any("leaf")
	for range hclblocks.MaxValueDepth + 2 {
		deep = []any{deep}
	}
	tests := []struct {
		name     string
		m        hclblocks.Module
		sentinel error
	}{
		{"name not identifier", hclblocks.Module{Name: "a b", Source: "s"}, hclblocks.ErrInvalidModule},
		{"name injection", hclblocks.Module{Name: "x\" {\n}\nresource \"a", Source: "s"}, hclblocks.ErrInvalidModule},
		{"name starts with digit", hclblocks.Module{Name: "1m", Source: "s"}, hclblocks.ErrInvalidModule},
		{"empty name", hclblocks.Module{Source: "s"}, hclblocks.ErrInvalidModule},
		{"empty source", hclblocks.Module{Name: "m"}, hclblocks.ErrInvalidModule},
		{"input not identifier", hclblocks.Module{Name: "m", Source: "s", Inputs: map[string]any{"a = 1\nb": 1}}, hclblocks.ErrInvalidModule},
		{"reserved input", hclblocks.Module{Name: "m", Source: "s", Inputs: map[string]any{"count": 1}}, hclblocks.ErrInvalidModule},
		{"reserved input source", hclblocks.Module{Name: "m", Source: "s", Inputs: map[string]any{"source": "x"}}, hclblocks.ErrInvalidModule},
		{"NaN", hclblocks.Module{Name: "m", Source: "s", Inputs: map[string]any{"v": math.NaN()}}, hclblocks.ErrInvalidValue},
		{"infinity", hclblocks.Module{Name: "m", Source: "s", Inputs: map[string]any{"v": math.Inf(1)}}, hclblocks.ErrInvalidValue},
		{"invalid UTF-8", hclblocks.Module{Name: "m", Source: "s", Inputs: map[string]any{"v": "\xff"}}, hclblocks.ErrInvalidValue},
		{"invalid UTF-8 key", hclblocks.Module{Name: "m", Source: "s", Inputs: map[string]any{"v": map[string]int{"\xff": 1}}}, hclblocks.ErrInvalidValue},
		{"invalid UTF-8 source", hclblocks.Module{Name: "m", Source: "\xff"}, hclblocks.ErrInvalidValue},
		{"struct", hclblocks.Module{Name: "m", Source: "s", Inputs: map[string]any{"v": struct{ A int }{1}}}, hclblocks.ErrInvalidValue},
		{"int keys", hclblocks.Module{Name: "m", Source: "s", Inputs: map[string]any{"v": map[int]int{1: 1}}}, hclblocks.ErrInvalidValue},
		{"func", hclblocks.Module{Name: "m", Source: "s", Inputs: map[string]any{"v": func() {}}}, hclblocks.ErrInvalidValue},
		{"cycle", hclblocks.Module{Name: "m", Source: "s", Inputs: map[string]any{"v": cyclic}}, hclblocks.ErrInvalidValue},
		{"too deep", hclblocks.Module{Name: "m", Source: "s", Inputs: map[string]any{"v": deep}}, hclblocks.ErrInvalidValue},
		{"unknown cty", hclblocks.Module{Name: "m", Source: "s", Inputs: map[string]any{"v": cty.UnknownVal(cty.String)}}, hclblocks.ErrInvalidValue},
		{"marked cty", hclblocks.Module{Name: "m", Source: "s", Inputs: map[string]any{"v": cty.StringVal("x").Mark("sensitive")}}, hclblocks.ErrInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := hclblocks.RenderModule(tt.m)
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("err = %v, want %v", err, tt.sentinel)
			}
			checkOneSentinel(t, err)
			if out != nil {
				t.Fatalf("output on error: %q", out)
			}
		})
	}
}

func TestRenderModule_ObjectKeysReadBackLiterally(t *testing.T) {
	t.Parallel()
	keys := []string{"for", "null", "true", "false", "if", "in", "a b", "${x}", "%{y}", "-x", "x-y", "1a", "", "é", "# tfpilot:end/r"}
	obj := map[string]any{}
	for i, k := range keys {
		obj[k] = i
	}
	out := mustRender(t, hclblocks.Module{Name: "m", Source: "s", Inputs: map[string]any{"v": obj}})
	f, diags := hclsyntax.ParseConfig(out, "m.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("does not parse: %v\n%s", diags, out)
	}
	v, diags := f.Body.(*hclsyntax.Body).Blocks[0].Body.Attributes["v"].Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("does not evaluate: %v\n%s", diags, out)
	}
	if v.LengthInt() != len(keys) {
		t.Fatalf("got %d keys, want %d:\n%s", v.LengthInt(), len(keys), out)
	}
	for i, k := range keys {
		if !v.Type().HasAttribute(k) {
			t.Errorf("key %q missing:\n%s", k, out)
			continue
		}
		got := v.GetAttr(k)
		if n, _ := got.AsBigFloat().Int64(); int(n) != i {
			t.Errorf("key %q reads back as %#v, want %d", k, got, i)
		}
	}
}
