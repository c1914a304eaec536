package hclblocks_test

import (
	"runtime"
	"testing"

	"github.com/tfpilot/tfpilot/hclblocks"
)

// maxAllocPerByte is the allocation budget of one edit, in bytes allocated
// per byte of input (issue 19; BENCHMARKS.md, ## hclblocks).
const maxAllocPerByte = 50

// TestEdit_AllocatesInProportionToTheInput checks that Upsert (replace and
// append) and Remove on a 600 KB file allocate at most maxAllocPerByte
// bytes per input byte: the whole file is scanned without a token slice,
// and only the edited region and the new content are parsed. It counts
// bytes (runtime.MemStats.TotalAlloc), not time, and is not parallel so
// that no other test allocates meanwhile.
func TestEdit_AllocatesInProportionToTheInput(t *testing.T) {
	src := benchFile(t, 600_000)
	regs, err := hclblocks.List(src)
	if err != nil || len(regs) == 0 {
		t.Fatalf("bench file: %d regions, %v", len(regs), err)
	}
	mid := regs[len(regs)/2].ID
	block := mustRender(t, hclblocks.Module{Name: "m", Source: "./m", Inputs: map[string]any{"v": "x", "tags": map[string]any{"a": "b"}}})
	ed := hclblocks.Editor{}
	for _, op := range []struct {
		name string
		run  func() error
	}{
		{"upsert-replace", func() error { _, err := ed.Upsert(src, mid, block); return err }},
		{"upsert-append", func() error { _, err := ed.Upsert(src, "req-alloc-new", block); return err }},
		{"remove", func() error { _, err := ed.Remove(src, mid); return err }},
	} {
		if err := op.run(); err != nil { // warm up
			t.Fatalf("%s: %v", op.name, err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const runs = 3
		for range runs {
			if err := op.run(); err != nil {
				t.Fatalf("%s: %v", op.name, err)
			}
		}
		runtime.ReadMemStats(&after)
		perByte := float64(after.TotalAlloc-before.TotalAlloc) / runs / float64(len(src))
		t.Logf("%s: %.1f bytes allocated per input byte", op.name, perByte)
		if perByte > maxAllocPerByte {
			t.Errorf("%s allocates %.1f bytes per input byte, want at most %d", op.name, perByte, maxAllocPerByte)
		}
	}
}
