package hclblocks

import (
	"bytes"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Editor edits marked regions of one Terraform file. The zero value is ready
// to use: default markers, lenient mode.
//
// An Editor only ever changes the bytes of the region it is asked to change
// (see [Editor.Upsert] and [Editor.Remove] for the exact rules); every other
// byte of the file, including comments, blank lines, line endings and a
// missing final newline, comes back unchanged. On any error the input slice
// is returned as is (it is never modified) together with the error.
//
// An Editor holds no state; its methods are pure functions of their
// arguments and safe for concurrent use.
type Editor struct {
	// Markers is the marker format. The zero value means [DefaultMarkers].
	Markers Markers

	// Strict makes every operation first parse the whole file and fail with
	// [ErrInvalidFile] when it has error diagnostics. When false (the
	// default), only the region being edited is parsed, so a file with an
	// unrelated syntax error can still be edited. In both modes, when the
	// input parses, the output parses.
	Strict bool

	// Filename names the file in diagnostics. Default: "file.tf".
	Filename string

	// lexOnly makes every scan use the HCL lexer, never quickScan; tests
	// compare the two paths with it.
	lexOnly bool
}

// scan finds the marker lines of src: with [Markers.quickScan], which
// allocates nothing per byte, or with the HCL lexer ([Markers.scan]) when
// quickScan gives up or lexOnly is set. Both give the same answer.
func (e Editor) scan(m Markers, src []byte, filename string) ([]mark, scanInfo) {
	if !e.lexOnly {
		if marks, info, ok := m.quickScan(src); ok {
			return marks, info
		}
	}
	return m.scan(src, filename)
}

func (e Editor) filename() string {
	if e.Filename == "" {
		return "file.tf"
	}
	return e.Filename
}

// List returns the marked regions of src in file order. It fails with a
// [*MarkerError] when the markers are malformed, and with [ErrInvalidFile]
// in strict mode when src does not parse or, in any mode, when src is
// nested too deeply to parse safely. It does not parse region contents.
func (e Editor) List(src []byte) ([]Region, error) {
	regs, _, err := e.inspect(src)
	return regs, err
}

// Find returns the region marked with id. It fails with [ErrNotFound] when
// there is none and with [ErrInvalidRegion] when its content does not parse.
func (e Editor) Find(src []byte, id string) (Region, error) {
	if err := ValidateID(id); err != nil {
		return Region{}, err
	}
	regs, _, err := e.inspect(src)
	if err != nil {
		return Region{}, err
	}
	i := indexOf(regs, id)
	if i < 0 {
		return Region{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if err := e.parseRegion(src, regs[i]); err != nil {
		return Region{}, err
	}
	return regs[i], nil
}

// Upsert sets the content of the region marked with id and returns the new
// file. content is HCL text made of top-level blocks only (typically one
// block from [RenderModule]); it must parse, define no top-level arguments
// (so it cannot clash with the rest of the file) and hold no marker lines. Its line endings are
// converted to the file's and a final line ending is added.
//
// When id is present, the two marker lines and everything between them are
// replaced; bytes before the begin line and after the end line are kept
// exactly, including the end line's own line ending or its absence.
// When id is absent, a region is appended after one blank line (added even
// when the file already ends with blank lines); if src does not end with a
// line ending, one is added before the blank line and the new region ends
// without one, so the file keeps its final-newline style and
// [Editor.Remove] can undo the append exactly. Appending fails with
// [ErrInvalidFile] when the file ends inside an unclosed block, expression,
// string or heredoc.
//
// Upsert is idempotent. On error src is returned unchanged.
func (e Editor) Upsert(src []byte, id string, content []byte) ([]byte, error) {
	out, err := e.upsert(src, id, content)
	if err != nil {
		return src, err
	}
	return out, nil
}

// Remove deletes the region marked with id, both marker lines included, and
// returns the new file. It fails with [ErrNotFound] when id is absent.
//
// Bytes after the end line are kept exactly. Bytes before the begin line are
// kept except for line endings, of which at most two are dropped: one blank
// line directly above the begin line (the separator [Editor.Upsert] adds
// when appending), and, when the region ended the file without a final line
// ending, the line ending before it, so the file again ends without one.
// Hence Remove(Upsert(src, id, b), id) == src whenever id was absent.
// On error src is returned unchanged.
func (e Editor) Remove(src []byte, id string) ([]byte, error) {
	out, err := e.remove(src, id)
	if err != nil {
		return src, err
	}
	return out, nil
}

// inspect validates the configuration, finds the regions and, in strict
// mode, parses the whole file.
func (e Editor) inspect(src []byte) ([]Region, bool, error) {
	m := e.Markers.orDefault()
	if err := m.Validate(); err != nil {
		return nil, false, err
	}
	marks, info := e.scan(m, src, e.filename())
	regs, err := regions(marks)
	if err != nil {
		return nil, false, err
	}
	if info.tooDeep {
		return nil, false, fmt.Errorf("%w: nested too deeply to parse safely (more than %d levels)", ErrInvalidFile, maxNesting)
	}
	if e.Strict {
		if _, diags := hclsyntax.ParseConfig(src, e.filename(), hcl.InitialPos); diags.HasErrors() {
			return nil, false, &ParseError{Err: ErrInvalidFile, Diagnostics: diags}
		}
	}
	return regs, info.topLevelAtEOF, nil
}

func (e Editor) parseRegion(src []byte, r Region) error {
	pos := hcl.Pos{Line: r.BeginLine + 1, Column: 1, Byte: r.ContentStart}
	if _, diags := hclsyntax.ParseConfig(r.Content(src), e.filename(), pos); diags.HasErrors() {
		return &ParseError{Err: ErrInvalidRegion, ID: r.ID, Diagnostics: diags}
	}
	return nil
}

func (e Editor) upsert(src []byte, id string, content []byte) ([]byte, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	m := e.Markers.orDefault()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if err := e.checkContent(m, content); err != nil {
		return nil, err
	}
	regs, topLevelAtEOF, err := e.inspect(src)
	if err != nil {
		return nil, err
	}

	var out []byte
	var want Region // where the region must be found in out
	if i := indexOf(regs, id); i >= 0 {
		r := regs[i]
		if err := e.parseRegion(src, r); err != nil {
			return nil, err
		}
		region := renderRegion(m, id, content, r.eol, r.term)
		out = make([]byte, 0, len(src)-(r.End-r.Start)+len(region))
		out = append(out, src[:r.Start]...)
		out = append(out, region...)
		out = append(out, src[r.End:]...)
		want = Region{ID: id, Start: r.Start, End: r.Start + len(region), term: r.term}
	} else {
		if !topLevelAtEOF {
			return nil, fmt.Errorf("%w: cannot append %q: the file ends inside an unclosed block, expression, string or heredoc", ErrInvalidFile, id)
		}
		eol := detectEOL(src)
		var sep []byte
		term := eol
		switch {
		case len(src) == 0:
		case src[len(src)-1] == '\n':
			sep = []byte(eol)
		default:
			sep = []byte(eol + eol)
			term = ""
		}
		region := renderRegion(m, id, content, eol, term)
		out = make([]byte, 0, len(src)+len(sep)+len(region))
		out = append(out, src...)
		out = append(out, sep...)
		out = append(out, region...)
		want = Region{ID: id, Start: len(src) + len(sep), End: len(out), term: term}
	}
	if err := e.verify(m, out, regs, want, false); err != nil {
		return nil, err
	}
	return out, nil
}

func (e Editor) remove(src []byte, id string) ([]byte, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	regs, _, err := e.inspect(src)
	if err != nil {
		return nil, err
	}
	i := indexOf(regs, id)
	if i < 0 {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	r := regs[i]
	if err := e.parseRegion(src, r); err != nil {
		return nil, err
	}
	prefix := src[:r.Start]
	if rest, ok := bytes.CutSuffix(prefix, []byte(r.eol)); ok && (len(rest) == 0 || rest[len(rest)-1] == '\n') {
		prefix = rest // the blank line separating the region from what precedes it
	}
	if r.term == "" {
		if rest, ok := bytes.CutSuffix(prefix, []byte(r.eol)); ok {
			prefix = rest // the file ended without a line ending; keep it so
		}
	}
	out := make([]byte, 0, len(prefix)+len(src)-r.End)
	out = append(out, prefix...)
	out = append(out, src[r.End:]...)
	want := Region{ID: id, Start: len(prefix), End: len(prefix)}
	if err := e.verify(e.Markers.orDefault(), out, regs, want, true); err != nil {
		return nil, err
	}
	return out, nil
}

// verify rescans out and checks that its regions are exactly the regions of
// the input with the edited one replaced (removed when removed is true) and
// the others shifted by the size change. Guards against inputs whose lexing
// the edit would change (see [ErrUnsafeEdit]).
func (e Editor) verify(m Markers, out []byte, before []Region, edited Region, removed bool) error {
	marks, _ := e.scan(m, out, e.filename())
	after, err := regions(marks)
	if err != nil {
		return fmt.Errorf("%w: the output would read as: %v", ErrUnsafeEdit, err)
	}
	var want []Region
	delta := 0
	found := false
	for _, r := range before {
		if r.ID == edited.ID {
			found = true
			delta = (edited.End - edited.Start) - (r.End - r.Start)
			if removed {
				delta = edited.Start - r.End
				continue
			}
			want = append(want, edited)
			continue
		}
		if found {
			r.Start += delta
			r.End += delta
		}
		want = append(want, r)
	}
	if !found && !removed {
		want = append(want, edited)
	}
	if len(after) != len(want) {
		return fmt.Errorf("%w: %d regions after the edit, want %d", ErrUnsafeEdit, len(after), len(want))
	}
	for i := range want {
		// A region's line ending may change when text is appended after an
		// end marker that had none; the marker text itself may not move.
		a, w := after[i], want[i]
		if a.ID != w.ID || a.Start != w.Start || a.End-len(a.term) != w.End-len(w.term) {
			return fmt.Errorf("%w: region %q moved", ErrUnsafeEdit, after[i].ID)
		}
	}
	return nil
}

// checkContent rejects content that does not parse as an HCL body, that
// defines top-level arguments, or that holds marker lines of its own.
func (e Editor) checkContent(m Markers, content []byte) error {
	marks, info := e.scan(m, content, "content.tf")
	if info.tooDeep {
		return fmt.Errorf("%w: nested too deeply to parse safely (more than %d levels)", ErrInvalidContent, maxNesting)
	}
	f, diags := hclsyntax.ParseConfig(content, "content.tf", hcl.InitialPos)
	if diags.HasErrors() {
		return &ParseError{Err: ErrInvalidContent, Diagnostics: diags}
	}
	// Only blocks: the top level of a Terraform file holds no arguments, and
	// an argument could clash with one of the same name elsewhere in the file.
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return fmt.Errorf("%w: not native HCL syntax", ErrInvalidContent)
	}
	for name, a := range body.Attributes {
		return fmt.Errorf("%w: line %d: argument %q at top level; content must be blocks", ErrInvalidContent, a.NameRange.Start.Line, name)
	}
	if len(marks) > 0 {
		return fmt.Errorf("%w: line %d is a marker line", ErrInvalidContent, marks[0].line)
	}
	return nil
}

// renderRegion returns the marker lines around content, whose line endings
// become eol; term ends the end marker line.
func renderRegion(m Markers, id string, content []byte, eol, term string) []byte {
	out := make([]byte, 0, len(m.Begin)+len(m.End)+2*len(id)+len(content)+len(content)/16+3*len(eol))
	out = append(out, m.Begin...)
	out = append(out, id...)
	out = append(out, eol...)
	for len(content) > 0 {
		line, rest, _ := bytes.Cut(content, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		out = append(out, line...)
		out = append(out, eol...)
		content = rest
	}
	out = append(out, m.End...)
	out = append(out, id...)
	out = append(out, term...)
	return out
}

// detectEOL returns the line ending of the first line of src that has one,
// "\n" when none has.
func detectEOL(src []byte) string {
	if i := bytes.IndexByte(src, '\n'); i > 0 && src[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

func indexOf(regs []Region, id string) int {
	for i := range regs {
		if regs[i].ID == id {
			return i
		}
	}
	return -1
}
