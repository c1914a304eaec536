package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// A document decoded from storage keeps what it was decoded from, so that
// writing it back loses nothing the Go type does not model:
//
//   - orig is the stored document as a tree whose leaves are the stored
//     bytes (numbers, strings and escapes exactly as written);
//   - base is the tree of the Go value as decoded, before anyone changed it.
//
// On encode the tree of the current Go value (new) is merged with them
// (see mergeTree): a field that orig holds and base does not (a field the
// type does not model, at any depth, or a value that decoding had to drop)
// is written back as stored; a value that is unchanged since decode
// (new equals base) is written back as stored, so a version written as
// "3", a config stored as a JSON string, an epoch-millisecond time, a
// malformed timestamp or a lone surrogate survive a read-modify-write;
// everything the caller changed is written as the caller set it.
type rawDoc struct {
	orig, base any
	// drop lists top-level names that are never written back.
	drop []string
	// issues are the problems lenient decoding found.
	issues []DecodeIssue
}

// A JSON tree is *jsonObject, []any (array) or json.RawMessage (any
// other value, as written).

// jsonObject is a JSON object that keeps its keys in order.
type jsonObject struct {
	keys []string
	vals map[string]any
}

func newObject(n int) *jsonObject {
	return &jsonObject{keys: make([]string, 0, n), vals: make(map[string]any, n)}
}

func (o *jsonObject) get(k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	v, ok := o.vals[k]
	return v, ok
}

// set adds or replaces k; a new key goes last.
func (o *jsonObject) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// MarshalJSON writes the object's keys in order (see treeJSON).
func (o *jsonObject) MarshalJSON() ([]byte, error) { return treeJSON(o) }

// parseTree parses the JSON value b into a tree. A key that appears
// twice keeps its last value, at the position of its first occurrence
// (JavaScript's JSON.parse keeps the last value too).
//
// Why a hand-written scanner: the tree needs every leaf exactly as
// written and the keys as json decodes them, in one pass. json.Decoder's
// Token decodes every leaf (numbers to float64, which rejects 1e400) and
// decoding each member into json.RawMessage re-validates its subtree at
// every level (O(depth × size)). Instead b is validated once with
// json.Valid, so that valid and invalid are exactly encoding/json's, and
// the scanner below only walks bytes known to be valid JSON: it never
// has to report an error. Keys are decoded by json.Unmarshal unless they
// are plain (no escape, valid UTF-8), where the bytes are the string.
func parseTree(b []byte) (any, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, fmt.Errorf("empty JSON value")
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("invalid JSON value %.40q", b)
	}
	// One copy of the document; leaves are capped slices of it, so
	// appending to a leaf never writes into its neighbour.
	s := treeScanner{b: bytes.Clone(b)}
	return s.value(), nil
}

// treeScanner walks a JSON text that json.Valid accepted.
type treeScanner struct {
	b []byte
	i int
}

func (s *treeScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *treeScanner) value() any {
	s.space()
	switch s.b[s.i] {
	case '{':
		s.i++
		out := newObject(8)
		s.space()
		if s.b[s.i] == '}' {
			s.i++
			return out
		}
		for {
			s.space()
			k := s.key()
			s.space()
			s.i++ // ':'
			out.set(k, s.value())
			s.space()
			c := s.b[s.i]
			s.i++ // ',' or '}'
			if c == '}' {
				return out
			}
		}
	case '[':
		s.i++
		out := []any{}
		s.space()
		if s.b[s.i] == ']' {
			s.i++
			return out
		}
		for {
			out = append(out, s.value())
			s.space()
			c := s.b[s.i]
			s.i++ // ',' or ']'
			if c == ']' {
				return out
			}
		}
	case '"':
		start := s.i
		s.str()
		return json.RawMessage(s.b[start:s.i:s.i])
	}
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return json.RawMessage(s.b[start:s.i:s.i])
		}
		s.i++
	}
	return json.RawMessage(s.b[start:s.i:s.i])
}

// str moves past the string that starts at s.i and reports whether it
// holds a backslash.
func (s *treeScanner) str() (escaped bool) {
	s.i++ // '"'
	for {
		switch s.b[s.i] {
		case '\\':
			escaped = true
			s.i += 2
		case '"':
			s.i++
			return escaped
		default:
			s.i++
		}
	}
}

// key decodes the object key that starts at s.i.
func (s *treeScanner) key() string {
	start := s.i
	escaped := s.str()
	quoted := s.b[start:s.i]
	if inner := quoted[1 : len(quoted)-1]; !escaped && utf8.Valid(inner) {
		return string(inner)
	}
	var k string
	_ = json.Unmarshal(quoted, &k) // valid: json.Valid accepted it
	return k
}

// treeJSON encodes a tree: object keys in order, leaves as written. The
// result is byte for byte json.Marshal's of the tree (leaves compacted
// and HTML-escaped as json.Marshal writes a json.RawMessage), written in
// one pass; see FuzzParseTree_MatchesOracle.
func treeJSON(t any) ([]byte, error) { return appendTree(nil, t) }

func appendTree(dst []byte, t any) ([]byte, error) {
	var err error
	switch v := t.(type) {
	case nil:
		return append(dst, "null"...), nil
	case json.RawMessage:
		return appendLeaf(dst, v)
	case *jsonObject:
		if v == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '{')
		for i, k := range v.keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendKey(dst, k); err != nil {
				return nil, err
			}
			dst = append(dst, ':')
			if dst, err = appendTree(dst, v.vals[k]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case []any:
		if v == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendTree(dst, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	}
	// Not a tree node: as json.Marshal writes it.
	b, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// htmlSafe reports whether c, in a JSON string, is written as is by
// json.Marshal: printable ASCII other than the quote, the backslash and
// the characters it HTML-escapes (<, >, &).
func htmlSafe(c byte) bool {
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
}

// appendKey appends the object key k as json.Marshal(k) writes it.
func appendKey(dst []byte, k string) ([]byte, error) {
	for i := 0; i < len(k); i++ {
		if !htmlSafe(k[i]) {
			b, err := json.Marshal(k)
			if err != nil {
				return nil, err
			}
			return append(dst, b...), nil
		}
	}
	dst = append(dst, '"')
	dst = append(dst, k...)
	return append(dst, '"'), nil
}

// appendLeaf appends the leaf v as json.Marshal(v) writes it: null when
// nil, else validated, compacted and HTML-escaped. The common leaves
// that need none of that (a plain string, a literal, a number) are
// copied; anything else goes through json.Marshal.
func appendLeaf(dst []byte, v json.RawMessage) ([]byte, error) {
	if v == nil {
		return append(dst, "null"...), nil
	}
	if plainLeaf(v) {
		return append(dst, v...), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// plainLeaf reports whether v is valid JSON that json.Marshal writes
// unchanged: a string of printable ASCII without escapes or characters
// it HTML-escapes (other bytes of 0x80 and above are written as they
// are, except 0xE2 which may start U+2028 or U+2029), true, false, null,
// or a number in JSON's grammar.
func plainLeaf(v []byte) bool {
	switch string(v) {
	case "true", "false", "null":
		return true
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		for _, c := range v[1 : len(v)-1] {
			if !htmlSafe(c) && (c < 0x80 || c == 0xE2) {
				return false
			}
		}
		return true
	}
	return plainNumber(v)
}

// plainNumber reports whether v is -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func plainNumber(v []byte) bool {
	i := 0
	digits := func() bool {
		n := i
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		return i > n
	}
	if i < len(v) && v[i] == '-' {
		i++
	}
	switch {
	case i < len(v) && v[i] == '0':
		i++
	case i < len(v) && v[i] >= '1' && v[i] <= '9':
		digits()
	default:
		return false
	}
	if i < len(v) && v[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(v)
}

// sameTree reports whether two trees encode to the same bytes.
func sameTree(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	buf, err := appendTree(nil, a)
	if err != nil {
		return false
	}
	n := len(buf)
	buf, err = appendTree(buf, b)
	return err == nil && bytes.Equal(buf[:n], buf[n:])
}

// mergeTree returns the tree to write for the current value n, given the
// stored tree o and the decoded tree b (either may be nil). See rawDoc.
func mergeTree(o, b, n any, drop []string) any {
	switch nv := n.(type) {
	case *jsonObject:
		ov, ok := o.(*jsonObject)
		if !ok {
			break
		}
		bv, _ := b.(*jsonObject)
		out := newObject(len(nv.keys) + len(ov.keys))
		for _, k := range nv.keys {
			v := nv.vals[k]
			if oc, ok := ov.get(k); ok {
				bc, _ := bv.get(k)
				out.set(k, mergeTree(oc, bc, v, nil))
			} else {
				out.set(k, v)
			}
		}
		for _, k := range ov.keys {
			if _, ok := nv.get(k); ok || contains(drop, k) {
				continue
			}
			if _, modelled := bv.get(k); modelled {
				continue // the caller removed it (a lock released)
			}
			out.set(k, ov.vals[k])
		}
		return out
	case []any:
		ov, ok := o.([]any)
		if !ok {
			break
		}
		bv, _ := b.([]any)
		out := make([]any, len(nv))
		for i, v := range nv {
			if i < len(ov) {
				var bc any
				if i < len(bv) {
					bc = bv[i]
				}
				out[i] = mergeTree(ov[i], bc, v, nil)
			} else {
				out[i] = v
			}
		}
		return out
	}
	// A leaf, or a value whose shape differs from the stored one: keep
	// the stored form while the value is unchanged since decode.
	if o != nil && b != nil && sameTree(n, b) {
		return o
	}
	return n
}

// decodeLossless decodes the JSON object b into v (a pointer to a value
// of type t, without JSON methods) leniently (see lenient) and returns
// what encoding v must merge with to write b back (see rawDoc). drop
// lists top-level names never written back.
func decodeLossless(b []byte, t reflect.Type, drop []string, v any) (*rawDoc, error) {
	var l lenient
	if bytes.HasPrefix(b, utf8BOM) {
		b = b[len(utf8BOM):]
		l.add("", nil, "UTF-8 byte-order mark before the document, ignored")
	}
	orig, err := parseTree(b)
	if err != nil {
		return nil, err
	}
	if _, ok := orig.(*jsonObject); !ok {
		return nil, fmt.Errorf("the document is %.20s, not a JSON object", b)
	}
	norm, _ := l.normalize(orig, t, "")
	nb, err := treeJSON(norm)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(nb, v); err != nil {
		return nil, err
	}
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	base, err := parseTree(plain)
	if err != nil {
		return nil, err
	}
	return &rawDoc{orig: orig, base: base, drop: drop, issues: l.issues}, nil
}

// encode returns the JSON of the current value, whose plain encoding is
// plain, merged with what d was decoded from.
func (d *rawDoc) encode(plain []byte) ([]byte, error) {
	n, err := parseTree(plain)
	if err != nil {
		return nil, err
	}
	return treeJSON(mergeTree(d.orig, d.base, n, d.drop))
}

// unknownTop returns the top-level fields of the stored document that t
// does not model, minus drop.
func (d *rawDoc) unknownTop(t reflect.Type) map[string]json.RawMessage {
	obj, ok := d.orig.(*jsonObject)
	if !ok {
		return nil
	}
	known := knownFields(t)
	var out map[string]json.RawMessage
	for k, v := range obj.vals {
		if _, ok := known[k]; ok || contains(d.drop, k) {
			continue
		}
		b, err := treeJSON(v)
		if err != nil {
			continue
		}
		if out == nil {
			out = make(map[string]json.RawMessage)
		}
		out[k] = b
	}
	return out
}

var (
	typeOfRequest = reflect.TypeFor[requestJSON]()
	typeOfTime    = reflect.TypeFor[time.Time]()
	typeOfRaw     = reflect.TypeFor[json.RawMessage]()
	knownCache    sync.Map // reflect.Type → map[string]reflect.Type
)

// knownFields maps the JSON names of t's fields to their types.
func knownFields(t reflect.Type) map[string]reflect.Type {
	if v, ok := knownCache.Load(t); ok {
		return v.(map[string]reflect.Type)
	}
	m := make(map[string]reflect.Type)
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	knownCache.Store(t, m)
	return m
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
