package tfpilot

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"time"
)

// unknownFields holds the parts of a decoded JSON object that its Go type
// does not model: fields by name, and, for modelled fields whose value is
// itself an object, the unknown parts of that object.
type unknownFields struct {
	fields   map[string]json.RawMessage
	children map[string]*unknownFields
}

var (
	typeOfRequest = reflect.TypeFor[requestJSON]()
	typeOfTime    = reflect.TypeFor[time.Time]()
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

// objectType returns the struct type whose unknown fields we track for a
// value of type t, or nil.
func objectType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == typeOfTime {
		return nil
	}
	return t
}

// collectUnknown returns the fields of the JSON object b that t does not
// model, recursing into modelled struct-valued fields; drop lists
// top-level names to forget. It returns nil when there are none.
func collectUnknown(b []byte, t reflect.Type, drop []string) (*unknownFields, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, err
	}
	known := knownFields(t)
	var u unknownFields
	for k, v := range obj {
		ft, ok := known[k]
		if !ok {
			if !contains(drop, k) {
				if u.fields == nil {
					u.fields = make(map[string]json.RawMessage)
				}
				u.fields[k] = v
			}
			continue
		}
		st := objectType(ft)
		if st == nil {
			continue
		}
		child, err := collectUnknown(v, st, nil)
		if err != nil {
			return nil, err
		}
		if child != nil {
			if u.children == nil {
				u.children = make(map[string]*unknownFields)
			}
			u.children[k] = child
		}
	}
	if u.fields == nil && u.children == nil {
		return nil, nil
	}
	return &u, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// mergeInto adds u's fields to the JSON object b. A modelled field that b
// no longer holds (a lock released, say) stays gone: only unknown names
// are added back, and children merge into objects b still has.
func (u *unknownFields) mergeInto(b []byte) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, err
	}
	for k, v := range u.fields {
		if _, ok := obj[k]; !ok {
			obj[k] = v
		}
	}
	for k, child := range u.children {
		cur, ok := obj[k]
		if !ok || len(cur) == 0 || cur[0] != '{' {
			continue
		}
		merged, err := child.mergeInto(cur)
		if err != nil {
			return nil, err
		}
		obj[k] = merged
	}
	return json.Marshal(obj)
}
