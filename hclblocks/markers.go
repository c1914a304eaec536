package hclblocks

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Default marker prefixes. A begin line is DefaultBegin followed by the id,
// an end line DefaultEnd followed by the id.
const (
	DefaultBegin = "# tfpilot:begin/"
	DefaultEnd   = "# tfpilot:end/"
)

// Markers is the marker format: the text before the id on a begin line and
// on an end line. The zero value means [DefaultBegin] and [DefaultEnd].
//
// Both prefixes must start a line comment ("#" or "//") and hold no line
// break, and neither may be a prefix of the other. See [Markers.Validate].
type Markers struct {
	Begin string
	End   string
}

// DefaultMarkers returns the default format, "# tfpilot:begin/<id>" and
// "# tfpilot:end/<id>".
func DefaultMarkers() Markers { return Markers{Begin: DefaultBegin, End: DefaultEnd} }

func (m Markers) orDefault() Markers {
	if m == (Markers{}) {
		return DefaultMarkers()
	}
	return m
}

// Validate reports whether m is a usable format; the zero value is. The
// error wraps [ErrInvalidMarkers].
func (m Markers) Validate() error {
	m = m.orDefault()
	for _, p := range []struct{ name, s string }{{"begin", m.Begin}, {"end", m.End}} {
		switch {
		case !strings.HasPrefix(p.s, "#") && !strings.HasPrefix(p.s, "//"):
			return fmt.Errorf("%w: %s prefix %q must start a line comment (# or //)", ErrInvalidMarkers, p.name, p.s)
		case strings.ContainsAny(p.s, "\r\n"):
			return fmt.Errorf("%w: %s prefix %q contains a line break", ErrInvalidMarkers, p.name, p.s)
		}
	}
	if strings.HasPrefix(m.Begin, m.End) || strings.HasPrefix(m.End, m.Begin) {
		return fmt.Errorf("%w: begin %q and end %q: one is a prefix of the other", ErrInvalidMarkers, m.Begin, m.End)
	}
	return nil
}

// BeginLine returns the begin marker text for id, without line ending.
func (m Markers) BeginLine(id string) string { return m.orDefault().Begin + id }

// EndLine returns the end marker text for id, without line ending.
func (m Markers) EndLine(id string) string { return m.orDefault().End + id }

// Region is one marked region of a file, located by byte offsets into the
// source it was found in. src[Start:End] covers both marker lines with
// their line endings; src[ContentStart:ContentEnd] is what lies between
// them.
type Region struct {
	ID           string
	Start        int // first byte of the begin marker line
	ContentStart int // first byte after the begin marker line
	ContentEnd   int // first byte of the end marker line
	End          int // first byte after the end marker line
	BeginLine    int // 1-based line of the begin marker
	EndLine      int // 1-based line of the end marker

	eol  string // line ending of the begin marker line
	term string // line ending of the end marker line ("" at end of file)
}

// Content returns the bytes between the markers of r in src, the source r
// was found in. It returns nil when src is too short to be that source.
func (r Region) Content(src []byte) []byte {
	if r.ContentStart < 0 || r.ContentStart > r.ContentEnd || r.ContentEnd > len(src) {
		return nil
	}
	return src[r.ContentStart:r.ContentEnd]
}

// mark is one marker line found by scan.
type mark struct {
	begin bool
	id    string
	line  int
	start int    // first byte of the line
	end   int    // first byte after the line (after its line ending)
	eol   string // the line's ending: "\n", "\r\n" or "" at end of file
}

// scan finds the marker lines of src. A marker line is a line comment that
// the HCL lexer sees at the top level of the file (outside any block,
// expression, string, heredoc or block comment), alone on its line apart
// from spaces and tabs, whose text is exactly a prefix of m followed by a
// valid id. Anything else that merely looks like a marker is ordinary text.
func (m Markers) scan(src []byte, filename string) ([]mark, scanInfo) {
	toks, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	var marks []mark
	var info scanInfo
	// depth counts open brackets of every kind; directives counts open
	// template %{if} and %{for} blocks, which the parser also nests.
	depth, directives, unaryRun, questions := 0, 0, 0, 0
	for i, t := range toks {
		if t.Type == hclsyntax.TokenIdent && i > 0 && toks[i-1].Type == hclsyntax.TokenTemplateControl {
			switch string(t.Bytes) {
			case "if", "for":
				directives++
				if directives > maxNesting {
					info.tooDeep = true
				}
			case "endif", "endfor":
				directives = max(0, directives-1)
			}
		}
		if t.Type == hclsyntax.TokenBang || t.Type == hclsyntax.TokenMinus {
			unaryRun++
			if unaryRun > maxNesting {
				info.tooDeep = true
			}
		} else {
			unaryRun = 0
		}
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl,
			hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc:
			depth++
			if depth > maxNesting {
				info.tooDeep = true
			}
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
			hclsyntax.TokenTemplateSeqEnd, hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc:
			if depth > 0 {
				depth--
			}
		case hclsyntax.TokenQuestion:
			questions++
			if questions > maxConditionals {
				info.tooDeep = true
			}
		case hclsyntax.TokenComment:
			if depth != 0 {
				continue
			}
			if mk, ok := m.markerAt(src, t.Bytes, t.Range.Start.Byte, t.Range.End.Byte, t.Range.Start.Line); ok {
				marks = append(marks, mk)
			}
		}
	}
	info.topLevelAtEOF = depth == 0
	return marks, info
}

// scanInfo is what scan learns about a file besides its markers.
type scanInfo struct {
	// topLevelAtEOF reports whether the file ends at the top level, i.e.
	// whether text appended to it would be read at the top level too.
	topLevelAtEOF bool
	// tooDeep reports nesting that the HCL parser, which recurses once per
	// level, could not parse without exhausting the goroutine stack (a fatal
	// error, not a panic): see maxNesting and maxConditionals.
	tooDeep bool
}

// Limits on what is handed to the HCL parser. Real configurations nest a
// few dozen levels at most; in probes the parser overflowed the 1 GB stack
// between 6*10^4 and 8*10^4 nested parentheses, and between 10^5 and 10^6
// chained unary operators, conditionals or nested blocks.
const (
	maxNesting      = 1000    // brackets, braces, templates, strings, heredocs; %{if}/%{for} blocks; runs of ! and -
	maxConditionals = 100_000 // "?" tokens in one file
)

// markerAt reads the comment token b, src[start:end] on line line, as a
// marker line.
func (m Markers) markerAt(src, b []byte, start, end, line int) (mark, bool) {
	if len(b) == 0 || (b[0] != '#' && b[0] != '/') || bytes.HasPrefix(b, []byte("/*")) {
		return mark{}, false
	}
	for start > 0 && (src[start-1] == ' ' || src[start-1] == '\t') {
		start--
	}
	if start > 0 && src[start-1] != '\n' {
		return mark{}, false
	}
	eol := ""
	switch {
	case bytes.HasSuffix(b, []byte("\r\n")):
		eol = "\r\n"
	case bytes.HasSuffix(b, []byte("\n")):
		eol = "\n"
	}
	text := string(bytes.TrimRight(b[:len(b)-len(eol)], " \t"))
	mk := mark{line: line, start: start, end: end, eol: eol}
	switch {
	case strings.HasPrefix(text, m.Begin):
		mk.begin, mk.id = true, text[len(m.Begin):]
	case strings.HasPrefix(text, m.End):
		mk.id = text[len(m.End):]
	default:
		return mark{}, false
	}
	if !validID(mk.id) {
		return mark{}, false
	}
	return mk, true
}

// regions pairs marker lines into regions, in file order, and reports the
// first structural problem as a [*MarkerError].
func regions(marks []mark) ([]Region, error) {
	var out []Region
	seen := make(map[string]bool, len(marks)/2)
	var open *mark
	for i := range marks {
		mk := &marks[i]
		if mk.begin {
			if open != nil {
				return nil, &MarkerError{Err: ErrNestedMarkers, ID: mk.id, Line: mk.line}
			}
			if seen[mk.id] {
				return nil, &MarkerError{Err: ErrDuplicateID, ID: mk.id, Line: mk.line}
			}
			seen[mk.id] = true
			open = mk
			continue
		}
		if open == nil || open.id != mk.id {
			return nil, &MarkerError{Err: ErrUnmatchedEnd, ID: mk.id, Line: mk.line}
		}
		out = append(out, Region{
			ID:           mk.id,
			Start:        open.start,
			ContentStart: open.end,
			ContentEnd:   mk.start,
			End:          mk.end,
			BeginLine:    open.line,
			EndLine:      mk.line,
			eol:          open.eol,
			term:         mk.eol,
		})
		open = nil
	}
	if open != nil {
		return nil, &MarkerError{Err: ErrUnclosedBegin, ID: open.id, Line: open.line}
	}
	return out, nil
}
