package hclblocks

import (
	"bytes"
)

// quickScan finds the marker lines of src exactly as [Markers.scan] does,
// without the HCL lexer's token slice: it walks the bytes once and keeps
// only the part of the lexer's state that decides where a top-level line
// comment can start (strings, template sequences and their brace levels,
// heredocs, comments) and what scan counts (nesting depth, %{if}/%{for}
// blocks, "?" tokens). It allocates only the marks it returns.
//
// It models the lexer (hclsyntax/scan_tokens.rl) only where that model is
// simple enough to be exact, and otherwise gives up (ok is false) so that
// the caller lexes: a byte outside ASCII in an expression (outside strings
// and comments) or in a heredoc, or a carriage return without a line feed
// in a heredoc; a heredoc name or a word after "%{" that
// goes on with a byte outside ASCII; and any file nested, chained or
// conditioned anywhere near the limits behind scanInfo.tooDeep, which is
// then left to the lexer to decide. FuzzQuickScan and
// TestQuickScan_AgreesWithTheLexer check that on every input it accepts
// it returns what scan returns.
func (m Markers) quickScan(src []byte) (marks []mark, info scanInfo, ok bool) {
	q := quickScanner{src: src, m: m, line: 1}
	if bytes.HasPrefix(src, utf8BOM) {
		q.p = len(utf8BOM) // the lexer skips a byte order mark
	}
	if !q.run() {
		return nil, scanInfo{}, false
	}
	return q.marks, scanInfo{topLevelAtEOF: q.depth == 0}, true
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// frame is one level of the lexer's call stack: the main (expression)
// state, a quoted string, or a heredoc with its closing name.
type frame struct {
	kind        frameKind
	name        []byte // heredoc: the closing name
	startOfLine bool   // heredoc: the next literal starts a line
}

type frameKind uint8

const (
	frameMain frameKind = iota
	frameString
	frameHeredoc
)

type quickScanner struct {
	src   []byte
	m     Markers
	p     int // next byte
	line  int // 1-based line of src[p]
	marks []mark

	stack     []frame // stack[0] is the file's main state
	braces    int     // the lexer's brace counter
	retBraces []int   // brace levels at which "}" ends a template sequence

	// What scan counts, from the tokens it sees.
	depth      int  // open brackets, strings, heredocs, template sequences (floored at 0)
	directives int  // open %{if} and %{for} blocks (floored at 0)
	questions  int  // "?" tokens
	unaryRun   int  // bytes of "-" and "!" with only spaces between: at least the run of those tokens
	afterCtl   bool // the previous token opened a template directive ("%{")
}

// run scans the whole input; it returns false to give up.
func (q *quickScanner) run() bool {
	var mainOnly [8]frame
	q.stack = append(mainOnly[:0], frame{kind: frameMain})
	var rb [8]int
	q.retBraces = rb[:0]
	for q.p < len(q.src) {
		var ok bool
		switch top := &q.stack[len(q.stack)-1]; top.kind {
		case frameMain:
			ok = q.main()
		case frameString:
			ok = q.str()
		default:
			ok = q.heredoc(top)
		}
		if !ok {
			return false
		}
	}
	return true
}

func (q *quickScanner) open() bool {
	q.depth++
	return q.depth <= maxNesting
}

func (q *quickScanner) close() {
	if q.depth > 0 {
		q.depth--
	}
}

// main reads one token (or run of spaces) in the main state.
func (q *quickScanner) main() bool {
	src, p := q.src, q.p
	c := src[p]
	if c == ' ' || c == '\t' {
		q.p++
		return true
	}
	if q.afterCtl {
		q.afterCtl = false
		if !q.directive() {
			return false
		}
	}
	if c >= 0x80 {
		// The lexer's identifier rules, generated from Unicode tables,
		// can run on over ASCII bytes that follow a non-ASCII one.
		return false
	}
	if c == '-' || c == '!' {
		q.unaryRun++
		if q.unaryRun > maxNesting {
			return false
		}
		q.p++
		return true
	}
	q.unaryRun = 0
	switch c {
	case '#':
		q.lineComment()
	case '/':
		switch {
		case p+1 < len(src) && src[p+1] == '/':
			q.lineComment()
		case p+1 < len(src) && src[p+1] == '*':
			end := bytes.Index(src[p+2:], []byte("*/"))
			if end < 0 {
				// No "*/" follows: the lexer reads "/" alone and goes on
				// with "*". So does every later "/*", which the lexer
				// handles the same way.
				q.p++
				return true
			}
			q.comment(p + 2 + end + 2)
		default:
			q.p++
		}
	case '\n':
		q.line++
		q.p++
	case '"':
		q.p++
		q.stack = append(q.stack, frame{kind: frameString})
		return q.open()
	case '<':
		return q.heredocOpen()
	case '{', '[', '(':
		if c == '{' {
			q.braces++
		}
		q.p++
		return q.open()
	case ']', ')':
		q.close()
		q.p++
	case '}':
		q.p++
		return q.closeBrace()
	case '~':
		if p+1 < len(src) && src[p+1] == '}' {
			q.p += 2
			return q.closeBrace()
		}
		q.p++
	case '?':
		q.questions++
		q.p++
		return q.questions <= maxConditionals
	default:
		q.p++
	}
	return true
}

// closeBrace handles "}" or "~}" as the lexer does: either ends the
// innermost template sequence when the brace level matches, and otherwise
// closes a brace ("~}" is then still read as the end of a sequence, which
// scan counts the same way). It returns false to give up.
func (q *quickScanner) closeBrace() bool {
	q.close()
	if n := len(q.retBraces); n > 0 && q.retBraces[n-1] == q.braces {
		if len(q.stack) < 2 {
			return false // not reached: a sequence always pushed a frame
		}
		q.braces--
		q.retBraces = q.retBraces[:n-1]
		q.stack = q.stack[:len(q.stack)-1]
		return true
	}
	q.braces--
	return true
}

// directive reads the token after "%{": an identifier if, for, endif or
// endfor opens or closes a directive block. It returns false to give up.
func (q *quickScanner) directive() bool {
	src, p := q.src, q.p
	end := p
	if end < len(src) && (isAlpha(src[end]) || src[end] == '_') {
		for end < len(src) && (isIdentASCII(src[end])) {
			end++
		}
	}
	if end == p {
		return true // not an ASCII identifier, so none of the four
	}
	word := string(src[p:end])
	switch word {
	case "if", "for", "endif", "endfor":
	default:
		return true
	}
	if end < len(src) && src[end] >= 0x80 {
		return false // the identifier may go on with a non-ASCII letter
	}
	switch word {
	case "if", "for":
		q.directives++
		return q.directives <= maxNesting
	default:
		q.directives = max(0, q.directives-1)
	}
	return true
}

// lineComment reads a "#" or "//" comment up to and including its line
// feed and records it when it is a marker line at the top level.
func (q *quickScanner) lineComment() {
	end := len(q.src)
	if i := bytes.IndexByte(q.src[q.p:], '\n'); i >= 0 {
		end = q.p + i + 1
	}
	q.comment(end)
}

// comment records the comment src[q.p:end] when it is a marker line at
// the top level and moves past it.
func (q *quickScanner) comment(end int) {
	if q.depth == 0 {
		if mk, ok := q.m.markerAt(q.src, q.src[q.p:end], q.p, end, q.line); ok {
			q.marks = append(q.marks, mk)
		}
	}
	q.line += bytes.Count(q.src[q.p:end], []byte("\n"))
	q.p = end
}

// heredocOpen reads "<<NAME" or "<<-NAME" followed by a line ending, which
// opens a heredoc, or else a single "<".
func (q *quickScanner) heredocOpen() bool {
	src, p := q.src, q.p
	i := p + 1
	if i >= len(src) || src[i] != '<' {
		q.p++
		return true
	}
	i++
	if i < len(src) && src[i] == '-' {
		i++
	}
	start := i
	if i < len(src) && (isAlpha(src[i]) || src[i] == '_') {
		for i < len(src) && isIdentASCII(src[i]) {
			i++
		}
	}
	if i < len(src) && src[i] >= 0x80 {
		return false // a name with non-ASCII letters: leave it to the lexer
	}
	name := src[start:i]
	if len(name) == 0 {
		q.p++
		return true
	}
	switch {
	case i < len(src) && src[i] == '\n':
		i++
	case i+1 < len(src) && src[i] == '\r' && src[i+1] == '\n':
		i += 2
	default:
		q.p++ // "<<" not followed by a name and a line ending
		return true
	}
	q.p = i
	q.line++
	q.stack = append(q.stack, frame{kind: frameHeredoc, name: name, startOfLine: true})
	return q.open()
}

// templateSeq reads "${" or "%{" (with an optional "~") at q.p, if there
// is one, and enters the main state for its expression.
func (q *quickScanner) templateSeq() (found, ok bool) {
	src, p := q.src, q.p
	if p+1 >= len(src) || src[p+1] != '{' || (src[p] != '$' && src[p] != '%') {
		return false, true
	}
	q.p += 2
	if q.p < len(src) && src[q.p] == '~' {
		q.p++
	}
	q.afterCtl = src[p] == '%'
	q.unaryRun = 0
	q.braces++
	q.retBraces = append(q.retBraces, q.braces)
	q.stack = append(q.stack, frame{kind: frameMain})
	return true, q.open()
}

// str reads one piece of a quoted string.
func (q *quickScanner) str() bool {
	src := q.src
	q.unaryRun = 0
	if found, ok := q.templateSeq(); found {
		return ok
	}
	for q.p < len(src) {
		switch c := src[q.p]; c {
		case '"':
			q.p++
			q.close()
			q.stack = q.stack[:len(q.stack)-1]
			return true
		case '\\':
			if q.p+1 < len(src) && src[q.p+1] != '\n' && src[q.p+1] != '\r' {
				q.p += 2 // an escape: the next character is literal
			} else {
				q.p++
			}
		case '$', '%':
			if q.p+1 < len(src) && src[q.p+1] == '{' {
				return true // a template sequence: the caller's next round
			}
			if q.p+2 < len(src) && src[q.p+1] == c && src[q.p+2] == '{' {
				q.p += 3 // "$${" or "%%{", a literal
			} else {
				q.p++
			}
		case '\n':
			q.line++
			q.p++
		default:
			q.p++
		}
	}
	return true
}

// heredoc reads one piece of a heredoc's template: a template sequence, or
// a literal up to the next "$", "%" or line ending. A literal that makes a
// whole line and is the heredoc's name, apart from white space, closes it.
func (q *quickScanner) heredoc(h *frame) bool {
	src := q.src
	q.unaryRun = 0
	if found, ok := q.templateSeq(); found {
		h.startOfLine = false
		return ok
	}
	start := q.p
	i := start
	switch c := src[i]; {
	case (c == '$' || c == '%') && i+2 < len(src) && src[i+1] == c && src[i+2] == '{':
		i += 3 // "$${" or "%%{", a literal on its own
	case c == '$' || c == '%':
		i++ // a "$" or "%" not starting a sequence, a literal on its own
	default:
		for i < len(src) {
			c := src[i]
			if c == '$' || c == '%' || c == '\n' || c == '\r' {
				break
			}
			if c >= 0x80 {
				return false
			}
			i++
		}
	}
	eol := 0
	switch {
	case i < len(src) && src[i] == '\n':
		eol = 1
	case i < len(src) && src[i] == '\r':
		if i+1 >= len(src) || src[i+1] != '\n' {
			return false // the lexer stops at a lone carriage return here
		}
		eol = 2
	}
	if eol == 0 {
		if i < len(src) && src[i] >= 0x80 {
			return false
		}
		h.startOfLine = false
		q.p = i
		return true
	}
	end := i + eol
	if h.startOfLine && bytes.Equal(bytes.TrimSpace(src[start:end]), h.name) {
		q.close()
		q.stack = q.stack[:len(q.stack)-1]
	} else {
		h.startOfLine = true
	}
	q.line++
	q.p = end
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// isIdentASCII reports whether c may continue an HCL identifier, among
// ASCII bytes.
func isIdentASCII(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }
