package hclblocks_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/hclblocks"
)

// realisticFiles are the hand-written files in testdata with the regions
// they hold. Each is also edited as a CRLF (or LF) twin.
var realisticFiles = []struct {
	file string
	ids  []string
}{
	{"network.tf", []string{"req-7f3a9c", "req-b21e04"}},
	{"iam.tf", []string{"req-c4d5e6"}},
	{"platform.tf", []string{"req-0001", "req-0002"}},
	{"legacy_windows.tf", []string{"req-az-01", "req-az-02"}},
}

func realisticInputs(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range realisticFiles {
		src := readTestdata(t, f.file)
		out[f.file] = src
		if bytes.Contains(src, []byte("\r\n")) {
			out[f.file+"+lf"] = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
		} else {
			out[f.file+"+crlf"] = bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n"))
		}
	}
	return out
}

func idsOf(t *testing.T, src []byte) []string {
	t.Helper()
	regs, err := hclblocks.List(src)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var ids []string
	for _, r := range regs {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestRealisticFiles_EditsKeepEverythingElse(t *testing.T) {
	t.Parallel()
	inputs := realisticInputs(t)
	strict := hclblocks.Editor{Strict: true}
	for _, f := range realisticFiles {
		for _, variant := range []string{"", "+lf", "+crlf"} {
			src, ok := inputs[f.file+variant]
			if !ok {
				continue
			}
			t.Run(f.file+variant, func(t *testing.T) {
				t.Parallel()
				if ok, diags := parses(src); !ok {
					t.Fatalf("testdata does not parse: %v", diags)
				}
				if got := idsOf(t, src); !slices.Equal(got, f.ids) {
					t.Fatalf("List = %v, want %v", got, f.ids)
				}
				block := mustRender(t, hclblocks.Module{
					Name: "replaced", Source: "../../modules/replaced", Version: "2.0.0",
					Inputs: map[string]any{"name": "x\"\n}\nresource \"null_resource\" \"pwn\" {", "tags": map[string]any{"team": "t"}},
				})

				// Replace each existing region, then remove it.
				for _, id := range f.ids {
					out, err := strict.Upsert(src, id, block)
					if err != nil {
						t.Fatalf("Upsert %s: %v", id, err)
					}
					checkUpsertOutside(t, strict, src, out, id)
					mustParse(t, out)
					if again, err := strict.Upsert(out, id, block); err != nil || !bytes.Equal(again, out) {
						t.Fatalf("Upsert %s not idempotent (err %v)", id, err)
					}
					if !slices.Equal(idsOf(t, out), f.ids) {
						t.Fatalf("regions changed after Upsert %s: %v", id, idsOf(t, out))
					}
					rm, err := strict.Remove(src, id)
					if err != nil {
						t.Fatalf("Remove %s: %v", id, err)
					}
					checkRemoveOutside(t, strict, src, rm, id)
					mustParse(t, rm)
					if want := slices.DeleteFunc(slices.Clone(f.ids), func(s string) bool { return s == id }); !slices.Equal(idsOf(t, rm), want) {
						t.Fatalf("regions after Remove %s: %v, want %v", id, idsOf(t, rm), want)
					}
				}

				// Append three new regions, then remove them in another order.
				cur := src
				var added []string
				for i := range 3 {
					id := fmt.Sprintf("req-new-%d", i)
					out, err := strict.Upsert(cur, id, block)
					if err != nil {
						t.Fatalf("Upsert %s: %v", id, err)
					}
					checkUpsertOutside(t, strict, cur, out, id)
					mustParse(t, out)
					back, err := strict.Remove(out, id)
					if err != nil || !bytes.Equal(back, cur) {
						t.Fatalf("Remove(Upsert(src, %s)) != src (err %v)", id, err)
					}
					cur = out
					added = append(added, id)
				}
				if got := idsOf(t, cur); !slices.Equal(got, append(slices.Clone(f.ids), added...)) {
					t.Fatalf("regions after appends: %v", got)
				}
				for _, id := range []string{"req-new-2", "req-new-1", "req-new-0"} {
					out, err := strict.Remove(cur, id)
					if err != nil {
						t.Fatalf("Remove %s: %v", id, err)
					}
					checkRemoveOutside(t, strict, cur, out, id)
					cur = out
				}
				if !bytes.Equal(cur, src) {
					t.Fatalf("appending then removing three regions did not restore the file")
				}
				if variant == "+crlf" || strings.Contains(string(src), "\r\n") {
					if bytes.Count(cur, []byte("\n")) != bytes.Count(cur, []byte("\r\n")) {
						t.Fatal("CRLF file gained LF-only lines")
					}
				}
			})
		}
	}
}

func TestRealisticFiles_LookalikesAreNotMarkers(t *testing.T) {
	t.Parallel()
	src := readTestdata(t, "iam.tf")
	for _, id := range []string{"req-in-block-comment", "req-inside-heredoc", "req-trailing-comment", "req-nospace", "req-x", "req-upper"} {
		if !bytes.Contains(src, []byte(id)) {
			t.Fatalf("testdata lost its %s lookalike", id)
		}
		out, err := hclblocks.Editor{Strict: true}.Upsert(src, id, []byte(moduleA))
		if err != nil {
			t.Fatalf("Upsert %s: %v", id, err)
		}
		if !bytes.HasPrefix(out, src) {
			t.Fatalf("Upsert %s edited a lookalike instead of appending", id)
		}
	}
}

func mustParse(t *testing.T, src []byte) {
	t.Helper()
	if ok, diags := parses(src); !ok {
		t.Fatalf("output does not parse: %v", diags)
	}
}
