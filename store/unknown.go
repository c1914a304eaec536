package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"time"
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

// MarshalJSON writes the object's keys in order.
func (o *jsonObject) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		buf.Write(kb)
		buf.WriteByte(':')
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// parseTree parses the JSON value b into a tree. A key that appears
// twice keeps its last value, as JavaScript's JSON.parse does.
func parseTree(b []byte) (any, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, fmt.Errorf("empty JSON value")
	}
	switch b[0] {
	case '{':
		dec := json.NewDecoder(bytes.NewReader(b))
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		out := newObject(8)
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, ok := tok.(string)
			if !ok {
				return nil, fmt.Errorf("object key %v is not a string", tok)
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, err
			}
			t, err := parseTree(raw)
			if err != nil {
				return nil, err
			}
			out.set(k, t)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, fmt.Errorf("data after the JSON object")
		}
		return out, nil
	case '[':
		var arr []json.RawMessage
		if err := json.Unmarshal(b, &arr); err != nil {
			return nil, err
		}
		out := make([]any, len(arr))
		for i, v := range arr {
			t, err := parseTree(v)
			if err != nil {
				return nil, err
			}
			out[i] = t
		}
		return out, nil
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("invalid JSON value %.40q", b)
	}
	return json.RawMessage(bytes.Clone(b)), nil
}

// treeJSON encodes a tree: object keys in order, leaves as written.
func treeJSON(t any) ([]byte, error) { return json.Marshal(t) }

// sameTree reports whether two trees encode to the same bytes.
func sameTree(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ja, err1 := treeJSON(a)
	jb, err2 := treeJSON(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
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
