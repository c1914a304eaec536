package hclblocks_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/hclblocks"
)

func TestMalformedMarkers_FailWithTypedErrorAndUntouchedInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		src      string
		sentinel error
		id       string
		line     int
	}{
		{"begin without end", "a = 1\n# tfpilot:begin/r1\nlocals {}\n", hclblocks.ErrUnclosedBegin, "r1", 2},
		{"begin at end of file", "# tfpilot:begin/r1", hclblocks.ErrUnclosedBegin, "r1", 1},
		{"end without begin", "locals {}\n# tfpilot:end/r1\n", hclblocks.ErrUnmatchedEnd, "r1", 2},
		{"end before begin", "# tfpilot:end/r1\n# tfpilot:begin/r1\n", hclblocks.ErrUnmatchedEnd, "r1", 1},
		{"end of another id", "# tfpilot:begin/r1\n# tfpilot:end/r2\n", hclblocks.ErrUnmatchedEnd, "r2", 2},
		{"same id twice", "# tfpilot:begin/r1\n# tfpilot:end/r1\n\n# tfpilot:begin/r1\n# tfpilot:end/r1\n", hclblocks.ErrDuplicateID, "r1", 4},
		{"nested", "# tfpilot:begin/r1\n# tfpilot:begin/r2\n# tfpilot:end/r2\n# tfpilot:end/r1\n", hclblocks.ErrNestedMarkers, "r2", 2},
		{"interleaved", "# tfpilot:begin/r1\n# tfpilot:begin/r2\n# tfpilot:end/r1\n# tfpilot:end/r2\n", hclblocks.ErrNestedMarkers, "r2", 2},
		{"end hidden in a block", "# tfpilot:begin/r1\nlocals {\n# tfpilot:end/r1\n}\n", hclblocks.ErrUnclosedBegin, "r1", 1},
		{"crlf end without begin", "a = 1\r\n# tfpilot:end/r1\r\n", hclblocks.ErrUnmatchedEnd, "r1", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := []byte(tt.src)
			check := func(op string, out []byte, err error) {
				t.Helper()
				if !errors.Is(err, tt.sentinel) {
					t.Fatalf("%s: err = %v, want %v", op, err, tt.sentinel)
				}
				checkOneSentinel(t, err)
				var me *hclblocks.MarkerError
				if !errors.As(err, &me) || me.ID != tt.id || me.Line != tt.line {
					t.Fatalf("%s: MarkerError = %+v, want id %q line %d", op, me, tt.id, tt.line)
				}
				if out != nil && !bytes.Equal(out, []byte(tt.src)) {
					t.Fatalf("%s: returned %q, want the input untouched", op, out)
				}
			}
			_, err := hclblocks.List(src)
			check("List", nil, err)
			_, err = hclblocks.Find(src, "r1")
			check("Find", nil, err)
			out, err := hclblocks.Upsert(src, "r1", []byte(moduleA))
			check("Upsert existing", out, err)
			out, err = hclblocks.Upsert(src, "other", []byte(moduleA))
			check("Upsert other", out, err)
			out, err = hclblocks.Remove(src, "r1")
			check("Remove", out, err)
			if string(src) != tt.src {
				t.Fatal("input modified")
			}
		})
	}
}

func TestInvalidInputs_FailWithTypedErrorAndUntouchedInput(t *testing.T) {
	t.Parallel()
	good := "a = 1\n\n# tfpilot:begin/r1\n" + moduleA + "# tfpilot:end/r1\n"
	tests := []struct {
		name      string
		ed        hclblocks.Editor
		src       string
		op        string // upsert or remove
		id        string
		content   string
		sentinel  error
		wantDiags bool
	}{
		{"id with slash", hclblocks.Editor{}, good, "upsert", "a/b", moduleA, hclblocks.ErrInvalidID, false},
		{"id with dot dot", hclblocks.Editor{}, good, "remove", "a..b", "", hclblocks.ErrInvalidID, false},
		{"empty id", hclblocks.Editor{}, good, "upsert", "", moduleA, hclblocks.ErrInvalidID, false},
		{"id too long", hclblocks.Editor{}, good, "upsert", strings.Repeat("a", 129), moduleA, hclblocks.ErrInvalidID, false},
		{"absent id", hclblocks.Editor{}, good, "remove", "r2", "", hclblocks.ErrNotFound, false},
		{"content does not parse", hclblocks.Editor{}, good, "upsert", "r1", "module \"a\" {\n", hclblocks.ErrInvalidContent, true},
		{"content holds an end marker", hclblocks.Editor{}, good, "upsert", "r1", "# tfpilot:end/r1\n", hclblocks.ErrInvalidContent, false},
		{"content holds another begin marker", hclblocks.Editor{}, good, "upsert", "r1", "locals {}\n  # tfpilot:begin/r9\n", hclblocks.ErrInvalidContent, false},
		{"region does not parse (upsert)", hclblocks.Editor{}, "# tfpilot:begin/r1\nmodule \"a\" {\n  source = \n}\n# tfpilot:end/r1\n", "upsert", "r1", moduleA, hclblocks.ErrInvalidRegion, true},
		{"region does not parse (remove)", hclblocks.Editor{}, "# tfpilot:begin/r1\nx = = 1\n# tfpilot:end/r1\n", "remove", "r1", "", hclblocks.ErrInvalidRegion, true},
		{"strict rejects broken file", hclblocks.Editor{Strict: true}, good + "resource \"x\" {\n", "upsert", "r1", moduleA, hclblocks.ErrInvalidFile, true},
		{"strict rejects broken file on remove", hclblocks.Editor{Strict: true}, good + "x = \n", "remove", "r1", "", hclblocks.ErrInvalidFile, true},
		{"append after unclosed heredoc", hclblocks.Editor{}, "v = <<EOT\nno end\n", "upsert", "r1", moduleA, hclblocks.ErrInvalidFile, false},
		{"append after unclosed block", hclblocks.Editor{}, "locals {\n  a = 1\n", "upsert", "r1", moduleA, hclblocks.ErrInvalidFile, false},
		{"new content would close an open comment", hclblocks.Editor{}, "/*\n# tfpilot:begin/r1\nx = 1\n# tfpilot:end/r1\n", "upsert", "r1", "locals {\n  a = \"*/\"\n}\n", hclblocks.ErrUnsafeEdit, false},
		{"content defines a top-level argument", hclblocks.Editor{}, "a = 1\n", "upsert", "r1", "a = 2\n", hclblocks.ErrInvalidContent, false},
		{"bad marker format", hclblocks.Editor{Markers: hclblocks.Markers{Begin: "tfpilot begin ", End: "# end "}}, good, "upsert", "r1", moduleA, hclblocks.ErrInvalidMarkers, false},
		{"marker prefix of the other", hclblocks.Editor{Markers: hclblocks.Markers{Begin: "# x", End: "# x/end"}}, good, "remove", "r1", "", hclblocks.ErrInvalidMarkers, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := []byte(tt.src)
			var out []byte
			var err error
			switch tt.op {
			case "upsert":
				out, err = tt.ed.Upsert(src, tt.id, []byte(tt.content))
			case "remove":
				out, err = tt.ed.Remove(src, tt.id)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("err = %v, want %v", err, tt.sentinel)
			}
			checkOneSentinel(t, err)
			if !bytes.Equal(out, []byte(tt.src)) || string(src) != tt.src {
				t.Fatalf("input not returned untouched: %q", out)
			}
			var pe *hclblocks.ParseError
			if got := errors.As(err, &pe) && len(pe.Diagnostics) > 0; got != tt.wantDiags {
				t.Fatalf("ParseError with diagnostics = %v, want %v (err %v)", got, tt.wantDiags, err)
			}
		})
	}
}

func TestLenientMode_EditsFileWithUnrelatedSyntaxError(t *testing.T) {
	t.Parallel()
	src := []byte("resource \"x\" \"y\" {\n  a = \n}\n\n# tfpilot:begin/r1\nlocals {}\n# tfpilot:end/r1\n")
	out, err := hclblocks.Upsert(src, "r1", []byte(moduleA))
	if err != nil {
		t.Fatalf("lenient Upsert: %v", err)
	}
	checkUpsertOutside(t, hclblocks.Editor{}, src, out, "r1")
	if _, err := (hclblocks.Editor{Strict: true}).Upsert(src, "r1", []byte(moduleA)); !errors.Is(err, hclblocks.ErrInvalidFile) {
		t.Fatalf("strict Upsert: %v, want ErrInvalidFile", err)
	}
}

func TestValidateID_AcceptsOnlySafeSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id string
		ok bool
	}{
		{"req-abc123", true},
		{"A.b_c-9", true},
		{"a.b.c", true},
		{strings.Repeat("x", 128), true},
		{strings.Repeat("x", 129), false},
		{"", false},
		{"a..b", false},
		{"..", false},
		{"a/b", false},
		{"a b", false},
		{"a\nb", false},
		{"é", false},
		{"a\x00", false},
		{"a*", false},
		{"${x}", false},
		{".", false},
		{".hidden", false},
		{"-rf", false},
		{"_x", false},
		{"9-lives", true},
	}
	for _, tt := range tests {
		err := hclblocks.ValidateID(tt.id)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
		if err != nil && !errors.Is(err, hclblocks.ErrInvalidID) {
			t.Errorf("ValidateID(%q) = %v, does not wrap ErrInvalidID", tt.id, err)
		}
	}
}

func TestMarkers_ValidateRejectsAmbiguousFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m  hclblocks.Markers
		ok bool
	}{
		{hclblocks.Markers{}, true},
		{hclblocks.DefaultMarkers(), true},
		{hclblocks.Markers{Begin: "// start ", End: "// stop "}, true},
		{hclblocks.Markers{Begin: "#b:", End: "#e:"}, true},
		{hclblocks.Markers{Begin: "start ", End: "# stop "}, false},
		{hclblocks.Markers{Begin: "/* start ", End: "# stop "}, false},
		{hclblocks.Markers{Begin: "# start\n", End: "# stop "}, false},
		{hclblocks.Markers{Begin: "# a", End: "# ab"}, false},
		{hclblocks.Markers{Begin: "# same", End: "# same"}, false},
		{hclblocks.Markers{Begin: "# only begin"}, false},
	}
	for _, tt := range tests {
		err := tt.m.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tt.m, err, tt.ok)
		}
		if err != nil && !errors.Is(err, hclblocks.ErrInvalidMarkers) {
			t.Errorf("Validate(%+v) = %v, does not wrap ErrInvalidMarkers", tt.m, err)
		}
	}
}

func TestParseErrors_PointAtFileLines(t *testing.T) {
	t.Parallel()
	ed := hclblocks.Editor{Filename: "envs/dev/main.tf"}
	src := []byte("a = 1\n\n# tfpilot:begin/r1\nmodule \"a\" {\n  source = = 1\n}\n# tfpilot:end/r1\n")
	_, err := ed.Upsert(src, "r1", []byte(moduleA))
	var pe *hclblocks.ParseError
	if !errors.As(err, &pe) || !errors.Is(err, hclblocks.ErrInvalidRegion) || pe.ID != "r1" {
		t.Fatalf("err = %v, want a ParseError for region r1", err)
	}
	d := pe.Diagnostics[0]
	if d.Subject == nil || d.Subject.Filename != "envs/dev/main.tf" || d.Subject.Start.Line != 5 {
		t.Fatalf("diagnostic at %v, want envs/dev/main.tf line 5", d.Subject)
	}
	if !strings.Contains(err.Error(), "line 5") {
		t.Fatalf("message %q does not name line 5", err)
	}
}

// The HCL parser recurses once per nesting level and overflows the stack, a
// fatal error that no recover can catch, at around 10^5 nested brackets or
// 10^6 chained unary operators. Such input must fail with a typed error
// before it reaches the parser; without the guard the 100,000-bracket cases
// crash this test binary. (The unary case is kept small for speed: it checks
// the guard, not the crash.)
func TestDeepNesting_FailsWithTypedErrorInsteadOfCrashing(t *testing.T) {
	t.Parallel()
	const parens = 100_000 // the parser crashed at 80,000 in a probe
	deepExpr := strings.Repeat("(", parens) + "1" + strings.Repeat(")", parens)
	deepBlock := "locals {\n  a = " + deepExpr + "\n}\n"
	unary := "locals {\n  a = " + strings.Repeat("!", 5000) + "true\n}\n"
	region := func(body string) []byte {
		return []byte("# tfpilot:begin/r1\n" + body + "# tfpilot:end/r1\n")
	}
	tests := []struct {
		name     string
		ed       hclblocks.Editor
		src      []byte
		content  string
		sentinel error
	}{
		{"deep region", hclblocks.Editor{}, region(deepBlock), moduleA, hclblocks.ErrInvalidFile},
		{"deep file in strict mode", hclblocks.Editor{Strict: true}, []byte(deepBlock), moduleA, hclblocks.ErrInvalidFile},
		{"unary run in region", hclblocks.Editor{}, region(unary), moduleA, hclblocks.ErrInvalidFile},
		{"deep content", hclblocks.Editor{}, []byte("a = 1\n"), deepBlock, hclblocks.ErrInvalidContent},
		{"template directives over the limit", hclblocks.Editor{}, region("locals {\n  a = <<EOT\n" + strings.Repeat("%{ if true }", 1001) + "x" + strings.Repeat("%{ endif }", 1001) + "\nEOT\n}\n"), moduleA, hclblocks.ErrInvalidFile},
		{"just over the limit", hclblocks.Editor{}, region("locals {\n  a = " + strings.Repeat("[", 1001) + strings.Repeat("]", 1001) + "\n}\n"), moduleA, hclblocks.ErrInvalidFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := tt.ed.Upsert(tt.src, "r1", []byte(tt.content))
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("err = %v, want %v", err, tt.sentinel)
			}
			checkOneSentinel(t, err)
			if !bytes.Equal(out, tt.src) {
				t.Fatal("input not returned untouched")
			}
		})
	}
	// Up to the limit, deep but legal nesting still works.
	for _, body := range []string{
		"locals {\n  a = " + strings.Repeat("[", 990) + strings.Repeat("]", 990) + "\n}\n",
		"locals {\n  a = <<EOT\n" + strings.Repeat("%{ if true }x%{ endif }", 2000) + "\nEOT\n}\n",
		"locals {\n  a = " + strings.Repeat("-1 - ", 2000) + "1\n}\n",
	} {
		if _, err := hclblocks.Upsert(region(body), "r1", []byte(moduleA)); err != nil {
			t.Fatalf("nesting under the limit: %v", err)
		}
	}
}
