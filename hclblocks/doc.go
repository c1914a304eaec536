// Package hclblocks edits the regions of a Terraform file that tfpilot owns
// and leaves every other byte alone.
//
// tfpilot writes into infrastructure repositories that people also edit. It
// may change only what lies between its own marker comments:
//
//	# tfpilot:begin/req-abc123
//	module "s3_bucket_req_abc123" {
//	  source      = "../../modules/s3-bucket"
//	  bucket_name = "reports"
//	}
//	# tfpilot:end/req-abc123
//
// [List] and [Find] locate marked regions, [Upsert] replaces a region's
// content or appends a new region, and [Remove] deletes one. [RenderModule]
// renders a module block from Go values through hclwrite and cty, so a
// value can never escape its quoted string. An [Editor] carries the options:
// another marker format ([Markers]) and strict mode.
//
// Typical use:
//
//	block, err := hclblocks.RenderModule(hclblocks.Module{
//		Name:   "s3_bucket_req_abc123",
//		Source: "../../modules/s3-bucket",
//		Inputs: map[string]any{"bucket_name": "reports"},
//	})
//	if err != nil { ... }
//	out, err := hclblocks.Upsert(src, "req-abc123", block)
//	if err != nil { ... } // src is untouched; write nothing
//
// # How markers are read
//
// A marker is a line comment that the HCL lexer sees at the top level of the
// file (not inside a block, expression, string, heredoc or block comment),
// alone on its line apart from spaces and tabs, whose text is exactly the
// begin or end prefix followed by an id that passes [ValidateID]. Text that
// merely looks like a marker anywhere else (a trailing comment, a heredoc
// line, a comment inside a block, "# tfpilot:begin/<id>" in prose) is
// ordinary text and is never edited.
//
// Each operation scans the whole file once with HCL's lexical rules (that
// is what makes heredocs and block comments safe), parses only the region
// it edits and the new content, and rescans its own output to check that
// every region is still read where it should be. In strict mode
// ([Editor].Strict) it also parses the whole input. The scan is a single
// pass over the bytes that keeps only the lexer state that decides where a
// top-level comment can start, so an edit allocates about the size of its
// output plus what parsing the edited region costs; a file holding what
// that pass does not model (a byte outside ASCII in an expression or a
// heredoc, a lone carriage return in a heredoc, nesting near the limits
// below) is scanned with the HCL lexer itself, with the same result.
//
// Line endings of new text follow the file (CRLF stays CRLF); a file
// without a final newline keeps that property.
//
// # Errors
//
// Every error wraps one sentinel; branch with [errors.Is]:
//
//   - [ErrInvalidID]: an id outside the safe set.
//   - [ErrUnclosedBegin], [ErrUnmatchedEnd], [ErrDuplicateID],
//     [ErrNestedMarkers]: malformed markers; [errors.As] gives a
//     [*MarkerError] with the id and line.
//   - [ErrInvalidRegion], [ErrInvalidFile], [ErrInvalidContent]: HCL that
//     does not parse; [errors.As] gives a [*ParseError] with the
//     diagnostics. Two cases carry no diagnostics: appending to a file that
//     ends inside an unclosed construct, and input nested more than 1000
//     levels deep, which is refused before it reaches the HCL parser
//     because the parser would overflow the stack (a fatal error, not a
//     panic).
//   - [ErrNotFound]: no region with that id ([Find], [Remove]).
//   - [ErrUnsafeEdit]: the edit would change how markers are read.
//   - [ErrInvalidMarkers], [ErrInvalidModule], [ErrInvalidValue]: bad
//     arguments.
//
// On any error, [Editor.Upsert] and [Editor.Remove] return the input slice
// unchanged (it is never modified in place), so a caller that writes the
// result back writes the original bytes, but the intended use is to write
// nothing.
package hclblocks
