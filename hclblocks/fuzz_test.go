package hclblocks_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/tfpilot/tfpilot/hclblocks"
)

// FuzzEdit applies a random edit to a random file. Whatever the input: no
// panic; on error the input comes back untouched; on success the bytes
// outside the region are kept, the markers still read, Upsert is idempotent
// and undone by Remove when the id was new, and a file that parsed still
// parses.
//
//	go test -run '^$' -fuzz FuzzEdit -fuzztime 30s ./hclblocks/
func FuzzEdit(f *testing.F) {
	for _, in := range edgeInputs {
		f.Add([]byte(in.src), uint8(0), uint8(0), []byte(moduleA))
		f.Add([]byte(in.src), uint8(2), uint8(1), []byte("x\"\n}\nresource \"a\" \"b\" {"))
	}
	for _, rf := range realisticFiles {
		f.Add(readTestdata(f, rf.file), uint8(1), uint8(3), []byte("# tfpilot:end/req-0001"))
		f.Add(readTestdata(f, rf.file), uint8(2), uint8(0), []byte(nil))
	}
	f.Add([]byte("/*\n# tfpilot:begin/r1\nx = 1\n# tfpilot:end/r1\n"), uint8(0), uint8(0), []byte("locals {\n  a = \"*/\"\n}\n"))
	f.Add([]byte("v = <<EOT\n"), uint8(0), uint8(9), []byte("locals {}\n"))
	f.Add([]byte("a = 1\n// b:r\nlocals {}\n// e:r\n"), uint8(16+8), uint8(0), []byte("locals {\n  x = 1\n}\n"))

	f.Fuzz(func(t *testing.T, src []byte, op, idSel uint8, content []byte) {
		orig := bytes.Clone(src)
		srcParses, _ := parses(src)
		ed := hclblocks.Editor{Strict: op&8 != 0}
		if op&16 != 0 {
			ed.Markers = hclblocks.Markers{Begin: "// b:", End: "// e:"}
		}

		// Pick an id: one present in the file, or a new one.
		id := fmt.Sprintf("req-fz%d", idSel%4)
		present := false
		if regs, err := ed.List(src); err == nil && len(regs) > 0 && idSel%2 == 0 {
			id, present = regs[int(idSel/2)%len(regs)].ID, true
		}
		var out []byte
		var err error
		switch op % 3 {
		case 0: // raw content
			out, err = ed.Upsert(src, id, content)
		case 1: // content rendered from a value
			block, rerr := hclblocks.RenderModule(hclblocks.Module{Name: "fz", Source: string(content), Inputs: map[string]any{"v": string(content), "m": map[string]any{string(content): []any{string(content)}}}})
			if rerr != nil {
				if !errors.Is(rerr, hclblocks.ErrInvalidValue) && !errors.Is(rerr, hclblocks.ErrInvalidModule) {
					t.Fatalf("RenderModule: untyped error %v", rerr)
				}
				return
			}
			if ok, diags := parses(block); !ok {
				t.Fatalf("rendered block does not parse: %v\n%s", diags, block)
			}
			content = block
			out, err = ed.Upsert(src, id, content)
		case 2:
			out, err = ed.Remove(src, id)
		}
		if !bytes.Equal(src, orig) {
			t.Fatal("input modified")
		}
		if err != nil {
			checkOneSentinel(t, err)
			if !bytes.Equal(out, src) {
				t.Fatalf("error %v but output differs from input", err)
			}
			contentParses, _ := parses(content)
			if errors.Is(err, hclblocks.ErrUnsafeEdit) && srcParses && contentParses {
				t.Fatalf("ErrUnsafeEdit on a file that parses: %v", err)
			}
			return
		}
		before, _ := ed.List(src)
		after, lerr := ed.List(out)
		if lerr != nil {
			t.Fatalf("output markers do not read: %v", lerr)
		}
		if srcParses {
			if ok, diags := parses(out); !ok {
				t.Fatalf("input parsed, output does not: %v\nsrc: %q\nout: %q", diags, src, out)
			}
		}
		if op%3 == 2 {
			checkRemoveOutside(t, ed, src, out, id)
			if len(after) != len(before)-1 {
				t.Fatalf("Remove left %d regions, had %d", len(after), len(before))
			}
			return
		}
		checkUpsertOutside(t, ed, src, out, id)
		wantLen := len(before)
		if !present && !slices.ContainsFunc(before, func(r hclblocks.Region) bool { return r.ID == id }) {
			wantLen++
			back, err := ed.Remove(out, id)
			if err != nil || !bytes.Equal(back, src) {
				t.Fatalf("Remove(Upsert(src)) != src (err %v)\nsrc:  %q\nback: %q", err, src, back)
			}
		}
		if len(after) != wantLen {
			t.Fatalf("Upsert left %d regions, want %d", len(after), wantLen)
		}
		again, err := ed.Upsert(out, id, content)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("Upsert not idempotent (err %v)", err)
		}
	})
}
