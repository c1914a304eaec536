package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// DecodeIssue is a value in a stored document that does not have the
// shape the schema gives it and that decoding read leniently, the way the
// original TfPilot (JavaScript) read it. The stored value is kept as it
// is and written back unchanged unless the field is changed; see
// [Request.DecodeIssues].
type DecodeIssue struct {
	// Path locates the value, e.g. "runs.plan.attempts[0].dispatchedAt";
	// "" is the document itself.
	Path string `json:"path"`
	// Raw is the stored value, as written.
	Raw json.RawMessage `json:"raw,omitempty"`
	// Problem says what is wrong with it and how it was read, e.g.
	// "empty timestamp, read as absent".
	Problem string `json:"problem"`
}

func (i DecodeIssue) String() string {
	p := i.Path
	if p == "" {
		p = "(document)"
	}
	if len(i.Raw) > 0 {
		return fmt.Sprintf("%s = %.60s: %s", p, i.Raw, i.Problem)
	}
	return fmt.Sprintf("%s: %s", p, i.Problem)
}

// utf8BOM is the byte-order mark some editors and SDKs put in front of
// JSON; JSON itself forbids it.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// lenient is the normalisation of one stored document towards the Go
// type it decodes into.
type lenient struct {
	issues []DecodeIssue
}

func (l *lenient) add(path string, raw any, format string, args ...any) {
	var b json.RawMessage
	if raw != nil {
		b, _ = treeJSON(raw)
	}
	l.issues = append(l.issues, DecodeIssue{Path: path, Raw: b, Problem: fmt.Sprintf(format, args...)})
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// normalize returns the tree v rewritten so that it decodes into t, and
// ok=false when the value is to be dropped (read as absent). Fields t
// does not model are left as they are: decoding ignores them.
func (l *lenient) normalize(v any, t reflect.Type, path string) (any, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if raw, ok := v.(json.RawMessage); ok && string(raw) == "null" {
		return v, true // null decodes as the zero value
	}
	switch {
	case t == typeOfRaw:
		return v, true
	case t == typeOfTime:
		return l.timeValue(v, path)
	}
	switch t.Kind() {
	case reflect.Interface:
		return v, true
	case reflect.Struct:
		obj, ok := l.container(v, path, '{').(*jsonObject)
		if !ok {
			l.add(path, v, "not an object, read as absent")
			return nil, false
		}
		known := knownFields(t)
		out := newObject(len(obj.keys))
		for _, k := range obj.keys {
			fv := obj.vals[k]
			ft, ok := known[k]
			if !ok {
				out.set(k, fv)
				continue
			}
			if nv, keep := l.normalize(fv, ft, join(path, k)); keep {
				out.set(k, nv)
			}
		}
		return out, true
	case reflect.Map:
		obj, ok := l.container(v, path, '{').(*jsonObject)
		if !ok {
			l.add(path, v, "not an object, read as absent")
			return nil, false
		}
		out := newObject(len(obj.keys))
		for _, k := range obj.keys {
			if nv, keep := l.normalize(obj.vals[k], t.Elem(), join(path, k)); keep {
				out.set(k, nv)
			}
		}
		return out, true
	case reflect.Slice:
		arr, ok := l.container(v, path, '[').([]any)
		if !ok {
			l.add(path, v, "not an array, read as absent")
			return nil, false
		}
		out := make([]any, 0, len(arr))
		for i, e := range arr {
			p := fmt.Sprintf("%s[%d]", path, i)
			if nv, keep := l.normalize(e, t.Elem(), p); keep {
				out = append(out, nv)
			} else {
				// Keep positions: an element read as absent is its
				// zero value.
				out = append(out, json.RawMessage("null"))
			}
		}
		return out, true
	case reflect.String:
		raw, ok := v.(json.RawMessage)
		if !ok {
			l.add(path, v, "not a string, read as absent")
			return nil, false
		}
		if raw[0] == '"' {
			return v, true
		}
		s, _ := json.Marshal(string(raw)) // a number or boolean, as text
		l.add(path, v, "not a string, read as its text")
		return json.RawMessage(s), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return l.intValue(v, t, path)
	case reflect.Bool:
		raw, ok := v.(json.RawMessage)
		if ok && (string(raw) == "true" || string(raw) == "false") {
			return v, true
		}
		if ok && raw[0] == '"' {
			var s string
			_ = json.Unmarshal(raw, &s)
			switch strings.TrimSpace(strings.ToLower(s)) {
			case "true":
				l.add(path, v, "boolean written as a string, read as true")
				return json.RawMessage("true"), true
			case "false", "":
				l.add(path, v, "boolean written as a string, read as false")
				return json.RawMessage("false"), true
			}
		}
		l.add(path, v, "not a boolean, read as absent")
		return nil, false
	case reflect.Float32, reflect.Float64:
		if raw, ok := v.(json.RawMessage); ok && raw[0] != '"' && raw[0] != 't' && raw[0] != 'f' {
			return v, true
		}
		l.add(path, v, "not a number, read as absent")
		return nil, false
	}
	return v, true
}

// container returns v, or, when v is a string holding a JSON object or
// array (open says which), the tree it holds (config stored as a JSON
// string).
func (l *lenient) container(v any, path string, open byte) any {
	raw, ok := v.(json.RawMessage)
	if !ok || raw[0] != '"' {
		return v
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return v
	}
	s = strings.TrimSpace(s)
	if len(s) == 0 || s[0] != open {
		return v
	}
	t, err := parseTree([]byte(s))
	if err != nil {
		return v
	}
	l.add(path, v, "JSON stored as a string, read as the value it holds")
	return t
}

// intValue reads an integer written as a JSON number, as a string of
// digits, or as a number with a zero fraction.
func (l *lenient) intValue(v any, t reflect.Type, path string) (any, bool) {
	raw, ok := v.(json.RawMessage)
	if !ok {
		l.add(path, v, "not a number, read as absent")
		return nil, false
	}
	text := string(raw)
	quoted := raw[0] == '"'
	if quoted {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			l.add(path, v, "not a number, read as absent")
			return nil, false
		}
		text = strings.TrimSpace(s)
	}
	if text == "" && quoted {
		l.add(path, v, "empty number, read as absent")
		return nil, false
	}
	fits := func(n int64) bool {
		return reflect.New(t).Elem().CanInt() && !reflect.New(t).Elem().OverflowInt(n) ||
			reflect.New(t).Elem().CanUint() && n >= 0 && !reflect.New(t).Elem().OverflowUint(uint64(n))
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil && fits(n) {
		if quoted {
			l.add(path, v, "number written as a string, read as %d", n)
		}
		return json.RawMessage(strconv.FormatInt(n, 10)), true
	}
	if f, err := strconv.ParseFloat(text, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 && fits(int64(f)) {
		l.add(path, v, "integer written as %s, read as %d", text, int64(f))
		return json.RawMessage(strconv.FormatInt(int64(f), 10)), true
	}
	l.add(path, v, "not an integer, read as absent")
	return nil, false
}

// timeValue reads a timestamp: an RFC 3339 string as Go reads it; the
// same with surrounding space; an epoch number (milliseconds when its
// magnitude is 1e11 or more, as JavaScript's Date.now() writes, else
// seconds). Empty and unparseable values read as absent, as the original
// system's Date parsing made them "no time".
func (l *lenient) timeValue(v any, path string) (any, bool) {
	raw, ok := v.(json.RawMessage)
	if !ok {
		l.add(path, v, "not a timestamp, read as absent")
		return nil, false
	}
	if raw[0] != '"' {
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || math.IsInf(f, 0) || math.Abs(f) > 1e16 {
			l.add(path, v, "not a timestamp, read as absent")
			return nil, false
		}
		var t time.Time
		if math.Abs(f) >= 1e11 {
			t = time.UnixMilli(int64(f)).UTC()
		} else {
			t = time.Unix(int64(f), 0).UTC()
		}
		l.add(path, v, "epoch number, read as %s", t.Format(time.RFC3339Nano))
		return quoteTime(t), true
	}
	var t time.Time
	if json.Unmarshal(raw, &t) == nil {
		return v, true
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	trimmed := strings.TrimSpace(s)
	if trimmed == "" {
		l.add(path, v, "empty timestamp, read as absent")
		return nil, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, trimmed); err == nil {
			l.add(path, v, "timestamp not in RFC 3339 form, read as %s", t.Format(time.RFC3339Nano))
			return quoteTime(t), true
		}
	}
	l.add(path, v, "malformed timestamp, read as absent")
	return nil, false
}

func quoteTime(t time.Time) json.RawMessage {
	b, _ := t.MarshalJSON() // a year in range always encodes
	return b
}

// plainJSON reports whether b decodes into Go values that encode back to
// the same text: no \u escapes in strings (control characters, lone
// surrogates and U+0000 among them) and every number written the way
// encoding/json writes a float64. It is the condition of the decoders'
// fast path.
func plainJSON(b []byte) bool {
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				if i+1 < len(b) && b[i+1] == 'u' {
					return false
				}
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
		case c == '-' || c >= '0' && c <= '9':
			j := i
			for j < len(b) && strings.IndexByte("+-.0123456789eE", b[j]) >= 0 {
				j++
			}
			if !goNumberText(b[i:j]) {
				return false
			}
			i = j - 1
		}
	}
	return true
}

// goNumberText reports whether num is how encoding/json writes the
// float64 it denotes.
func goNumberText(num []byte) bool {
	// Fast path: a small integer without leading zeros or sign games.
	digits := num
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if n := len(digits); n > 0 && n <= 15 && (digits[0] != '0' || n == 1) && !(len(num) == 2 && num[1] == '0') {
		plain := true
		for _, c := range digits {
			plain = plain && c >= '0' && c <= '9'
		}
		if plain {
			return true
		}
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		return false
	}
	out, err := json.Marshal(f)
	return err == nil && bytes.Equal(out, num)
}
