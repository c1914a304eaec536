package hclblocks_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/tfpilot/tfpilot/hclblocks"
)

// parses reports whether src parses as an HCL file with no error diagnostics.
func parses(src []byte) (bool, hcl.Diagnostics) {
	_, diags := hclsyntax.ParseConfig(src, "t.tf", hcl.InitialPos)
	return !diags.HasErrors(), diags
}

// checkUpsertOutside checks that out keeps every byte of src outside the
// region that Upsert(src, id, ...) was allowed to touch.
func checkUpsertOutside(t *testing.T, ed hclblocks.Editor, src, out []byte, id string) {
	t.Helper()
	before, err := ed.List(src)
	if err != nil {
		t.Fatalf("List(src): %v", err)
	}
	for _, r := range before {
		if r.ID != id {
			continue
		}
		prefix, suffix := src[:r.Start], src[r.End:]
		if !bytes.HasPrefix(out, prefix) {
			t.Fatalf("prefix before region %q changed:\nsrc: %q\nout: %q", id, prefix, out[:min(len(out), len(prefix))])
		}
		if !bytes.HasSuffix(out, suffix) || len(out) < len(prefix)+len(suffix) {
			t.Fatalf("suffix after region %q changed:\nsrc: %q\nout: %q", id, suffix, out[max(0, len(out)-len(suffix)):])
		}
		return
	}
	// Appended: src is kept whole, followed by line endings and the region.
	if !bytes.HasPrefix(out, src) {
		t.Fatalf("append changed the existing bytes:\nsrc: %q\nout: %q", src, out[:min(len(out), len(src))])
	}
	tail := out[len(src):]
	begin := []byte(ed.Markers.BeginLine(id))
	sep, _, ok := bytes.Cut(tail, begin)
	if !ok || len(bytes.Trim(sep, "\r\n")) != 0 || len(sep) > 4 {
		t.Fatalf("appended tail does not start with line endings and the begin marker: %q", tail[:min(len(tail), 80)])
	}
}

// checkRemoveOutside checks that Remove kept the suffix exactly and dropped
// at most two line endings from the end of the prefix.
func checkRemoveOutside(t *testing.T, ed hclblocks.Editor, src, out []byte, id string) {
	t.Helper()
	r, err := ed.Find(src, id)
	if err != nil {
		t.Fatalf("Find(src, %q): %v", id, err)
	}
	prefix, suffix := src[:r.Start], src[r.End:]
	if !bytes.HasSuffix(out, suffix) || len(out) < len(suffix) {
		t.Fatalf("suffix after region %q changed:\nsrc: %q\nout: %q", id, suffix, out)
	}
	kept := out[:len(out)-len(suffix)]
	if !bytes.HasPrefix(prefix, kept) {
		t.Fatalf("prefix before region %q changed:\nsrc: %q\nout: %q", id, prefix, kept)
	}
	dropped := prefix[len(kept):]
	if len(bytes.Trim(dropped, "\r\n")) != 0 || len(dropped) > 4 {
		t.Fatalf("Remove dropped more than line endings before the region: %q", dropped)
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustRender(t testing.TB, m hclblocks.Module) []byte {
	t.Helper()
	b, err := hclblocks.RenderModule(m)
	if err != nil {
		t.Fatalf("RenderModule: %v", err)
	}
	return b
}

var allSentinels = []error{
	hclblocks.ErrInvalidID, hclblocks.ErrInvalidMarkers, hclblocks.ErrUnclosedBegin,
	hclblocks.ErrUnmatchedEnd, hclblocks.ErrDuplicateID, hclblocks.ErrNestedMarkers,
	hclblocks.ErrNotFound, hclblocks.ErrInvalidRegion, hclblocks.ErrInvalidFile,
	hclblocks.ErrInvalidContent, hclblocks.ErrUnsafeEdit, hclblocks.ErrInvalidModule,
	hclblocks.ErrInvalidValue,
}

// checkOneSentinel fails unless err wraps exactly one sentinel, so that
// errors.Is answers are unambiguous.
func checkOneSentinel(t *testing.T, err error) {
	t.Helper()
	n := 0
	for _, s := range allSentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error %q wraps %d sentinels, want exactly 1", err, n)
	}
}
