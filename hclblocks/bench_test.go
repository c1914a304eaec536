package hclblocks_test

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/tfpilot/tfpilot/hclblocks"
)

// benchFile builds a realistic file of at least size bytes from the testdata
// files (LF line endings), whole files at a time, renaming region ids so
// that every copy's regions are distinct.
func benchFile(b testing.TB, size int) []byte {
	b.Helper()
	var files [][]byte
	for _, f := range realisticFiles {
		files = append(files, bytes.ReplaceAll(readTestdata(b, f.file), []byte("\r\n"), []byte("\n")))
	}
	var out bytes.Buffer
	for i := 0; out.Len() < size; i++ {
		f := files[i%len(files)]
		f = bytes.ReplaceAll(f, []byte("tfpilot:begin/req-"), fmt.Appendf(nil, "tfpilot:begin/req-c%d-", i))
		f = bytes.ReplaceAll(f, []byte("tfpilot:end/req-"), fmt.Appendf(nil, "tfpilot:end/req-c%d-", i))
		out.Write(f)
		if !bytes.HasSuffix(f, []byte("\n")) {
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// BenchmarkUpsert compares Upsert with the floor, hclwrite.ParseConfig plus
// Bytes on the same input: what any edit through the hclwrite tree costs at
// least. Results and how to read them are in BENCHMARKS.md (## hclblocks).
//
//	go test -run '^$' -bench 'BenchmarkUpsert/size=(60|600)KB' -benchmem -count 6 ./hclblocks/
func BenchmarkUpsert(b *testing.B) {
	block, err := hclblocks.RenderModule(hclblocks.Module{
		Name: "s3_bucket_req_bench", Source: "../../modules/s3-bucket", Version: "1.4.2",
		Inputs: map[string]any{"bucket_name": "bench", "versioning": true, "tags": map[string]any{"team": "perf"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{6_000, 60_000, 600_000} {
		src := benchFile(b, size)
		regs, err := hclblocks.List(src)
		if err != nil || len(regs) == 0 {
			b.Fatalf("bench file: %d regions, %v", len(regs), err)
		}
		mid := regs[len(regs)/2].ID // a region in the middle of the file
		name := fmt.Sprintf("size=%dKB", size/1000)

		b.Run(name+"/floor", func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			defer reportAllocPerByte(b, len(src))()
			for b.Loop() {
				f, diags := hclwrite.ParseConfig(src, "bench.tf", hcl.InitialPos)
				if diags.HasErrors() {
					b.Fatal(diags)
				}
				_ = f.Bytes()
			}
		})
		for _, c := range []struct {
			name string
			ed   hclblocks.Editor
			id   string
		}{
			{"upsert-replace", hclblocks.Editor{}, mid},
			{"upsert-append", hclblocks.Editor{}, "req-bench-new"},
			{"upsert-replace-strict", hclblocks.Editor{Strict: true}, mid},
		} {
			b.Run(name+"/"+c.name, func(b *testing.B) {
				b.SetBytes(int64(len(src)))
				defer reportAllocPerByte(b, len(src))()
				for b.Loop() {
					if _, err := c.ed.Upsert(src, c.id, block); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(name+"/remove", func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			defer reportAllocPerByte(b, len(src))()
			for b.Loop() {
				if _, err := hclblocks.Remove(src, mid); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// reportAllocPerByte starts counting allocated bytes; the function it
// returns reports them per op and per input byte as "alloc-B/in-B", the
// figure the allocation target is stated in (issue 19: at most 50).
func reportAllocPerByte(b *testing.B, size int) func() {
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	return func() {
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/float64(size), "alloc-B/in-B")
	}
}
