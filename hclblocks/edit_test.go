package hclblocks_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/hclblocks"
)

const moduleA = "module \"a\" {\n  source = \"./a\"\n}\n"

// edgeInputs are small files with the features the byte-preservation
// properties must survive. Some hold a region for "req-1"; none holds
// "req-new".
var edgeInputs = []struct {
	name string
	src  string
}{
	{"empty", ""},
	{"lf", "a = 1\n"},
	{"no final newline", "a = 1"},
	{"only blank lines", "\n\n"},
	{"crlf", "a = 1\r\nb = 2\r\n"},
	{"crlf no final newline", "a = 1\r\nb = 2"},
	{"mixed line endings", "a = 1\r\nb = 2\n"},
	{"tabs and odd spacing", "resource \"x\" \"y\" {\n\tname    =   \"t\"\n  \t}\n\n\n"},
	{"heredoc holding marker lines", "v = <<EOT\n# tfpilot:begin/req-1\nx\n# tfpilot:end/req-1\nEOT\n"},
	{"indented heredoc", "locals {\n  v = <<-EOT\n    # tfpilot:end/req-new\n  EOT\n}\n"},
	{"trailing comment lookalike", "a = 1 # tfpilot:begin/req-1\nb = 2 // tfpilot:end/req-1\n"},
	{"lookalike inside a block", "locals {\n  # tfpilot:begin/req-1\n  a = 1\n  # tfpilot:end/req-1\n}\n"},
	{"lookalike inside block comment", "/*\n# tfpilot:begin/req-1\n# tfpilot:end/req-1\n*/\nx = 1\n"},
	{"lookalike in prose", "# tfpilot:begin/<request-id> starts a region\n#tfpilot:begin/req-1\n"},
	{"lookalike in string", "a = \"# tfpilot:begin/req-1\"\n"},
	{"region", "a = 1\n\n# tfpilot:begin/req-1\n" + moduleA + "# tfpilot:end/req-1\n\nb = 2\n"},
	{"region crlf", "a = 1\r\n\r\n# tfpilot:begin/req-1\r\nlocals {\r\n  x = 1\r\n}\r\n# tfpilot:end/req-1\r\n\r\nb = 2\r\n"},
	{"region at end without final newline", "a = 1\n\n# tfpilot:begin/req-1\nlocals {}\n# tfpilot:end/req-1"},
	{"region with indented markers", "  # tfpilot:begin/req-1  \nlocals {}\n\t# tfpilot:end/req-1\t\n"},
	{"region empty", "# tfpilot:begin/req-1\n# tfpilot:end/req-1\n"},
	{"region next to another", "# tfpilot:begin/req-0\nlocals {}\n# tfpilot:end/req-0\n# tfpilot:begin/req-1\nlocals {}\n# tfpilot:end/req-1"},
	{"region holding heredoc", "# tfpilot:begin/req-1\nlocals {\n  v = <<EOT\n# tfpilot:end/req-1\nEOT\n}\n# tfpilot:end/req-1\n"},
}

func contents(t *testing.T) map[string][]byte {
	t.Helper()
	return map[string][]byte{
		"module":     mustRender(t, hclblocks.Module{Name: "m", Source: "./m", Inputs: map[string]any{"n": 1}}),
		"crlf":       []byte("locals {\r\n  a = 1\r\n}\r\n"),
		"no newline": []byte("locals {\n  a = 1\n}"),
		"empty":      nil,
		"heredoc":    []byte("locals {\n  v = <<EOT\n# tfpilot:begin/req-zzz\nEOT\n}\n"),
	}
}

func TestUpsert_KeepsBytesOutsideMarkers(t *testing.T) {
	t.Parallel()
	for _, in := range edgeInputs {
		for cname, content := range contents(t) {
			for _, id := range []string{"req-1", "req-new"} {
				t.Run(in.name+"/"+cname+"/"+id, func(t *testing.T) {
					t.Parallel()
					src := []byte(in.src)
					out, err := hclblocks.Upsert(src, id, content)
					if err != nil {
						t.Fatalf("Upsert: %v", err)
					}
					checkUpsertOutside(t, hclblocks.Editor{}, src, out, id)
					if string(src) != in.src {
						t.Fatal("Upsert modified its input")
					}
				})
			}
		}
	}
}

func TestRemove_KeepsBytesOutsideMarkers(t *testing.T) {
	t.Parallel()
	for _, in := range edgeInputs {
		if !strings.Contains(in.name, "region") {
			continue
		}
		t.Run(in.name, func(t *testing.T) {
			t.Parallel()
			src := []byte(in.src)
			out, err := hclblocks.Remove(src, "req-1")
			if err != nil {
				t.Fatalf("Remove: %v", err)
			}
			checkRemoveOutside(t, hclblocks.Editor{}, src, out, "req-1")
			if _, err := hclblocks.Find(out, "req-1"); !errors.Is(err, hclblocks.ErrNotFound) {
				t.Fatalf("Find after Remove: %v, want ErrNotFound", err)
			}
			if string(src) != in.src {
				t.Fatal("Remove modified its input")
			}
		})
	}
}

func TestRemove_UndoesUpsertOfAbsentID(t *testing.T) {
	t.Parallel()
	for _, in := range edgeInputs {
		for cname, content := range contents(t) {
			t.Run(in.name+"/"+cname, func(t *testing.T) {
				t.Parallel()
				src := []byte(in.src)
				up, err := hclblocks.Upsert(src, "req-new", content)
				if err != nil {
					t.Fatalf("Upsert: %v", err)
				}
				back, err := hclblocks.Remove(up, "req-new")
				if err != nil {
					t.Fatalf("Remove: %v", err)
				}
				if !bytes.Equal(back, src) {
					t.Fatalf("Remove(Upsert(src)) != src\nsrc:  %q\nup:   %q\nback: %q", src, up, back)
				}
			})
		}
	}
}

func TestUpsert_IsIdempotent(t *testing.T) {
	t.Parallel()
	for _, in := range edgeInputs {
		for cname, content := range contents(t) {
			for _, id := range []string{"req-1", "req-new"} {
				t.Run(in.name+"/"+cname+"/"+id, func(t *testing.T) {
					t.Parallel()
					once, err := hclblocks.Upsert([]byte(in.src), id, content)
					if err != nil {
						t.Fatalf("first Upsert: %v", err)
					}
					twice, err := hclblocks.Upsert(once, id, content)
					if err != nil {
						t.Fatalf("second Upsert: %v", err)
					}
					if !bytes.Equal(once, twice) {
						t.Fatalf("not idempotent:\nonce:  %q\ntwice: %q", once, twice)
					}
				})
			}
		}
	}
}

func TestUpsert_OutputParsesWhenInputParses(t *testing.T) {
	t.Parallel()
	for _, in := range edgeInputs {
		if ok, _ := parses([]byte(in.src)); !ok {
			continue
		}
		for cname, content := range contents(t) {
			for _, id := range []string{"req-1", "req-new"} {
				t.Run(in.name+"/"+cname+"/"+id, func(t *testing.T) {
					t.Parallel()
					out, err := hclblocks.Editor{Strict: true}.Upsert([]byte(in.src), id, content)
					if err != nil {
						t.Fatalf("Upsert: %v", err)
					}
					if ok, diags := parses(out); !ok {
						t.Fatalf("output does not parse: %v\n%s", diags, out)
					}
					rm, err := hclblocks.Editor{Strict: true}.Remove(out, id)
					if err != nil {
						t.Fatalf("Remove: %v", err)
					}
					if ok, diags := parses(rm); !ok {
						t.Fatalf("output of Remove does not parse: %v\n%s", diags, rm)
					}
				})
			}
		}
	}
}

func TestUpsert_WritesFileLineEndings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, id, want string
	}{
		{"crlf file, lf content", "a = 1\r\n", "r", "a = 1\r\n\r\n# tfpilot:begin/r\r\nlocals {}\r\n# tfpilot:end/r\r\n"},
		{"lf file, crlf content", "a = 1\n", "r", "a = 1\n\n# tfpilot:begin/r\nlocals {}\n# tfpilot:end/r\n"},
		{"no final newline", "a = 1", "r", "a = 1\n\n# tfpilot:begin/r\nlocals {}\n# tfpilot:end/r"},
		{"empty file", "", "r", "# tfpilot:begin/r\nlocals {}\n# tfpilot:end/r\n"},
		{"replace keeps end line ending", "# tfpilot:begin/r\r\nx = 1\r\n# tfpilot:end/r", "r", "# tfpilot:begin/r\r\nlocals {}\r\n# tfpilot:end/r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			content := "locals {}\n"
			if strings.Contains(tt.name, "crlf content") {
				content = "locals {}\r\n"
			}
			out, err := hclblocks.Upsert([]byte(tt.src), tt.id, []byte(content))
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Fatalf("got  %q\nwant %q", out, tt.want)
			}
		})
	}
}

func TestRemove_DropsOnlySeparatorBlankLine(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"blank line above is the separator", "a = 1\n\n# tfpilot:begin/r\n# tfpilot:end/r\n\nb = 2\n", "a = 1\n\nb = 2\n"},
		{"no blank line above", "a = 1\n# tfpilot:begin/r\n# tfpilot:end/r\nb = 2\n", "a = 1\nb = 2\n"},
		{"two blank lines above keep one", "a = 1\n\n\n# tfpilot:begin/r\n# tfpilot:end/r\n", "a = 1\n\n"},
		{"line of spaces is not blank", "a = 1\n  \n# tfpilot:begin/r\n# tfpilot:end/r\n", "a = 1\n  \n"},
		{"region ends file without newline", "a = 1\n# tfpilot:begin/r\n# tfpilot:end/r", "a = 1"},
		{"previous region becomes last line without newline", "# tfpilot:begin/q\n# tfpilot:end/q\n# tfpilot:begin/r\n# tfpilot:end/r", "# tfpilot:begin/q\n# tfpilot:end/q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := hclblocks.Remove([]byte(tt.src), "r")
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Fatalf("got  %q\nwant %q", out, tt.want)
			}
		})
	}
}

func TestUpsertAndRemove_OutputNeverAliasesInput(t *testing.T) {
	t.Parallel()
	text := "a = 1\n\n# tfpilot:begin/r\nlocals {}\n# tfpilot:end/r\n"
	src := make([]byte, len(text), len(text)+4096) // spare capacity invites aliasing bugs
	copy(src, text)
	for _, op := range []func() ([]byte, error){
		func() ([]byte, error) { return hclblocks.Upsert(src, "r", []byte(moduleA)) },
		func() ([]byte, error) { return hclblocks.Upsert(src, "new", []byte(moduleA)) },
		func() ([]byte, error) { return hclblocks.Remove(src, "r") },
	} {
		out, err := op()
		if err != nil {
			t.Fatal(err)
		}
		for i := range out {
			out[i] = 'X'
		}
		if string(src) != text || string(src[:cap(src)][len(text):len(text)+1]) == "X" {
			t.Fatal("writing to the output changed the input")
		}
	}
}

func TestFind_ReturnsRegionOffsetsAndContent(t *testing.T) {
	t.Parallel()
	src := []byte("a = 1\r\n\r\n  # tfpilot:begin/r  \r\nlocals {}\r\n# tfpilot:end/r")
	r, err := hclblocks.Find(src, "r")
	if err != nil {
		t.Fatal(err)
	}
	want := hclblocks.Region{ID: "r", Start: 9, ContentStart: 32, ContentEnd: 43, End: len(src), BeginLine: 3, EndLine: 5}
	got := r
	if got.ID != want.ID || got.Start != want.Start || got.ContentStart != want.ContentStart ||
		got.ContentEnd != want.ContentEnd || got.End != want.End || got.BeginLine != want.BeginLine || got.EndLine != want.EndLine {
		t.Fatalf("Find = %+v, want %+v", got, want)
	}
	if c := string(r.Content(src)); c != "locals {}\r\n" {
		t.Fatalf("Content = %q", c)
	}
	if r.Content(src[:10]) != nil {
		t.Fatal("Content of a too short source is not nil")
	}
}
