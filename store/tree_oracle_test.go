package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// The lossless JSON tree code as it was before issue 19 made it one pass
// (parseTree re-decoding every subtree at every level, treeJSON through
// json.Marshal and a MarshalJSON per object). It is kept, unchanged but
// for names, as the oracle the one-pass code must match byte for byte.

// oracleObject is jsonObject with the old MarshalJSON.
type oracleObject jsonObject

func (o *oracleObject) MarshalJSON() ([]byte, error) {
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

// toOracle returns t with every *jsonObject an *oracleObject.
func toOracle(t any) any {
	switch v := t.(type) {
	case *jsonObject:
		if v == nil {
			return (*oracleObject)(nil)
		}
		out := &oracleObject{keys: v.keys, vals: make(map[string]any, len(v.vals))}
		for k, e := range v.vals {
			out.vals[k] = toOracle(e)
		}
		return out
	case []any:
		if v == nil {
			return v
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = toOracle(e)
		}
		return out
	}
	return t
}

// oracleTreeJSON is the old treeJSON.
func oracleTreeJSON(t any) ([]byte, error) { return json.Marshal(toOracle(t)) }

// oracleParseTree is the old parseTree.
func oracleParseTree(b []byte) (any, error) {
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
			t, err := oracleParseTree(raw)
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
			t, err := oracleParseTree(v)
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
