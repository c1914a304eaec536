package hclblocks_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/hclblocks"
)

// scanPieces are fragments that the generated files are made of: the
// constructs whose lexing decides where a marker line can be (strings,
// escapes, template sequences, heredocs, comments, brackets), real and
// lookalike markers, and bytes the lexer treats specially.
var scanPieces = []string{
	"a = 1\n", "locals {\n", "}\n", "{", "}", "[", "]", "(", ")", "~}", " ", "\t", "\n", "\r\n", "\r",
	"x = \"", "\"", "\"\n", "\\", "\\\"", "\\\\", "${", "${~", "%{", "%{~", "$${", "%%{", "$", "%", "$$", "%%",
	"%{ if x }", "%{ for a in b }", "%{ endif }", "%{ endfor }", "%{if", "%{endfor~}",
	"v = <<EOT\n", "v = <<-EOT\n", "<<EOT\r\n", "<<E-1_x\n", "<<EOT", "<< EOT\n", "<<<EOT\n", "<<é\n",
	"EOT\n", "  EOT\n", "EOT", "\tEOT \r\n", "E-1_x\n", "EOT$\n", "$EOT\n", "EOT\r\r\n",
	"# tfpilot:begin/req-1\n", "# tfpilot:end/req-1\n", "# tfpilot:begin/req-2\n", "# tfpilot:end/req-2\n",
	"  # tfpilot:begin/req-1  \r\n", "// tfpilot:end/req-1", "# tfpilot:end/req-1", "// b:r1\n", "// e:r1\n",
	"x = 1 # tfpilot:begin/req-1\n", "/* # tfpilot:end/req-1 */\n", "/*\n", "*/\n", "/*", "*/", "//", "#",
	"-", "!", "- -", "!=", "?", ":", "1e-5", "a-b", "é", "\xff", "\xc3", "\xc3\xa9", "\u00a0", "\xef\xbb\xbf",
	"module \"m\" {\n  source = \"./m\"\n  v = \"${var.a} $${b} %{ if c }d%{ endif }\"\n}\n",
	"locals {\n  p = <<-JSON\n    {\"a\": \"$${aws:username}\", \"b\": \"${var.b}\"}\n  JSON\n}\n",
	"x = \"${ { a = \"}\" } }\"\n", "y = \"${\"${\"}\"}\"}\"\n",
}

// genFile concatenates n random pieces.
func genFile(r *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for range n {
		b.WriteString(scanPieces[r.IntN(len(scanPieces))])
	}
	return b.Bytes()
}

var scanMarkers = []hclblocks.Markers{{}, {Begin: "// b:", End: "// e:"}}

// checkQuickScan fails when quickScan accepts src and disagrees with the
// lexer; it reports whether quickScan accepted it.
func checkQuickScan(t *testing.T, m hclblocks.Markers, src []byte) bool {
	t.Helper()
	got, ok := hclblocks.QuickScan(m, src)
	if !ok {
		return false
	}
	if want := hclblocks.LexScan(m, src); !reflect.DeepEqual(got, want) {
		t.Fatalf("quickScan disagrees with the lexer on %q:\nquick: %+v\nlexer: %+v", src, got, want)
	}
	return true
}

// TestQuickScan_AgreesWithTheLexer checks, on the realistic files, the
// edge inputs and ten thousand generated files, that whenever the byte
// scanner accepts a file it finds exactly the marks (id, line, offsets,
// line ending) and end state that the lexer-based scan finds, and that it
// accepts the realistic files and many generated ones.
func TestQuickScan_AgreesWithTheLexer(t *testing.T) {
	t.Parallel()
	for _, rf := range realisticFiles {
		src := readTestdata(t, rf.file)
		if !checkQuickScan(t, hclblocks.Markers{}, src) {
			t.Errorf("%s: quickScan gave up on a realistic file", rf.file)
		}
	}
	for _, in := range edgeInputs {
		if !checkQuickScan(t, hclblocks.Markers{}, []byte(in.src)) {
			t.Errorf("%s: quickScan gave up", in.name)
		}
	}
	r := rand.New(rand.NewPCG(19, 1))
	const files = 10_000
	accepted := 0
	for i := range files {
		src := genFile(r, 1+r.IntN(40))
		if checkQuickScan(t, scanMarkers[i%2], src) {
			accepted++
		}
	}
	// It gives up only on the pieces it does not model (a byte outside
	// ASCII in an expression or a heredoc, a lone "\r" in a heredoc), which
	// are 7 of the pieces; real files seldom hold them.
	if accepted < files*3/10 {
		t.Errorf("quickScan accepted %d of %d generated files, want at least 30%%", accepted, files)
	}
	t.Logf("quickScan accepted %d of %d generated files", accepted, files)
}

// TestQuickScan_GivesUpNearTheNestingLimits checks that files the lexer
// finds too deep are never answered by quickScan, which leaves them to the
// lexer.
func TestQuickScan_GivesUpNearTheNestingLimits(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		strings.Repeat("(", 1001),
		"a = " + strings.Repeat("- ", 1001) + "1\n",
		"a = " + strings.Repeat("!", 1001) + "x\n",
		"a = \"" + strings.Repeat("%{ if x }", 1001) + "\"\n",
		"a = " + strings.Repeat("x ? ", 100_001) + "1\n",
		strings.Repeat("\"${", 501),
	} {
		if !hclblocks.LexScan(hclblocks.Markers{}, []byte(src)).TooDeep {
			t.Fatalf("lexer does not find %.40q too deep", src)
		}
		if _, ok := hclblocks.QuickScan(hclblocks.Markers{}, []byte(src)); ok {
			t.Errorf("quickScan answered %.40q", src)
		}
	}
}

// FuzzQuickScan is the same property on arbitrary bytes.
//
//	go test -run '^$' -fuzz FuzzQuickScan -fuzztime 60s ./hclblocks/
func FuzzQuickScan(f *testing.F) {
	for _, p := range scanPieces {
		f.Add([]byte(p), false)
	}
	for _, in := range edgeInputs {
		f.Add([]byte(in.src), false)
	}
	for _, rf := range realisticFiles {
		f.Add(readTestdata(f, rf.file), true)
	}
	r := rand.New(rand.NewPCG(19, 2))
	for range 50 {
		f.Add(genFile(r, 20), r.IntN(2) == 0)
	}
	f.Fuzz(func(t *testing.T, src []byte, alt bool) {
		m := scanMarkers[0]
		if alt {
			m = scanMarkers[1]
		}
		checkQuickScan(t, m, src)
	})
}

// TestEdit_QuickScanGivesTheLexersOutput is the equivalence property of the
// two paths: on generated files, every Upsert, Remove, List and Find
// returns byte for byte the same result and the same error whether markers
// are found by quickScan or by the lexer.
func TestEdit_QuickScanGivesTheLexersOutput(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(19, 3))
	block := mustRender(t, hclblocks.Module{Name: "m", Source: "./m", Inputs: map[string]any{"v": "${x} %{y} # tfpilot:end/req-1", "n": 1}})
	contentsTried := [][]byte{block, []byte("locals {\n  v = <<EOT\n# tfpilot:begin/req-9\nEOT\n}\n"), []byte("locals {\n  a = \"*/\"\n}\n"), []byte("x = 1\n")}
	for i := range 1000 {
		var src []byte
		if i%3 == 0 {
			src = genFile(r, 1+r.IntN(30))
		} else {
			src = genRegions(r)
		}
		for _, strict := range []bool{false, true} {
			quick := hclblocks.Editor{Strict: strict}
			lex := hclblocks.LexOnly(quick)
			same := func(op string, a, b []byte, ea, eb error) {
				t.Helper()
				if !bytes.Equal(a, b) || fmt.Sprint(ea) != fmt.Sprint(eb) {
					t.Fatalf("%s on %q (strict %v):\nquick: %q, %v\nlexer: %q, %v", op, src, strict, a, ea, b, eb)
				}
			}
			ra, ea := quick.List(src)
			rb, eb := lex.List(src)
			if !reflect.DeepEqual(ra, rb) || fmt.Sprint(ea) != fmt.Sprint(eb) {
				t.Fatalf("List on %q: quick %v %v, lexer %v %v", src, ra, ea, rb, eb)
			}
			for _, id := range []string{"req-1", "req-2", "req-new"} {
				fa, ea := quick.Find(src, id)
				fb, eb := lex.Find(src, id)
				if !reflect.DeepEqual(fa, fb) || fmt.Sprint(ea) != fmt.Sprint(eb) {
					t.Fatalf("Find %s on %q: quick %v %v, lexer %v %v", id, src, fa, ea, fb, eb)
				}
				content := contentsTried[r.IntN(len(contentsTried))]
				a, ea2 := quick.Upsert(src, id, content)
				b, eb2 := lex.Upsert(src, id, content)
				same("Upsert "+id, a, b, ea2, eb2)
				a, ea2 = quick.Remove(src, id)
				b, eb2 = lex.Remove(src, id)
				same("Remove "+id, a, b, ea2, eb2)
			}
		}
	}
}

// genRegions generates a file that mostly parses: blocks, heredocs,
// comments and marked regions for req-1 and req-2, sometimes with a
// piece from scanPieces thrown in.
func genRegions(r *rand.Rand) []byte {
	parts := []string{
		"a = 1\n", "\n", "# a comment\n", "/* block\n comment */\n",
		"locals {\n  v = \"${var.x}-$${y}\"\n}\n",
		"locals {\n  h = <<-EOT\n    # tfpilot:begin/req-1\n    ${var.a}\n  EOT\n}\n",
		"resource \"x\" \"y\" {\r\n  n = 1\r\n}\r\n",
		"# tfpilot:begin/req-1\nmodule \"a\" {\n  source = \"./a\"\n}\n# tfpilot:end/req-1\n",
		"# tfpilot:begin/req-2\nlocals {\n  s = <<EOT\n# tfpilot:end/req-2\nEOT\n}\n# tfpilot:end/req-2",
	}
	var b bytes.Buffer
	for range 1 + r.IntN(8) {
		if r.IntN(6) == 0 {
			b.WriteString(scanPieces[r.IntN(len(scanPieces))])
			continue
		}
		b.WriteString(parts[r.IntN(len(parts))])
	}
	return b.Bytes()
}
