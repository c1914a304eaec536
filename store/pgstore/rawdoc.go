package pgstore

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/tfpilot/tfpilot/store"
)

// A request document is stored as JSONB (doc) for the columns and
// queries that read into it, and, when JSONB would not keep it exactly,
// also as text (raw). JSONB rewrites number text (JavaScript's 1e+21,
// 1E3) and refuses the escapes \u0000 and unpaired surrogates; text
// keeps every byte. Reads prefer raw, so a document a migration copied
// from a bucket reads back with every value as the original app wrote
// it.
//
// Events are stored the same way (migration 0004): doc is the JSONB-safe
// copy, raw the exact text when it differs, and reads prefer raw.

// storedForms returns the JSONB-safe form of the document JSON b and,
// when that form or JSONB's reading of it could differ from b, b itself
// as the raw text to keep (else nil).
func storedForms(b []byte) (doc []byte, raw *string) {
	safe, changed := jsonbSafe(b)
	if changed || hasExponent(b) {
		s := string(b)
		return safe, &s
	}
	return b, nil
}

// jsonbSafe returns b with every \u0000 and every unpaired surrogate
// escape in its strings replaced by \ufffd, and whether it replaced any.
func jsonbSafe(b []byte) ([]byte, bool) {
	if !bytes.Contains(b, []byte(`\u`)) {
		return b, false
	}
	out := make([]byte, 0, len(b))
	changed := false
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !inString {
			if c == '"' {
				inString = true
			}
			out = append(out, c)
			continue
		}
		switch {
		case c == '"':
			inString = false
			out = append(out, c)
		case c == '\\' && i+1 < len(b) && b[i+1] == 'u' && i+6 <= len(b):
			r, ok := hex4(b[i+2 : i+6])
			switch {
			case !ok:
				out = append(out, b[i:i+6]...)
			case r == 0, r >= 0xDC00 && r <= 0xDFFF:
				out, changed = append(out, `\ufffd`...), true
			case r >= 0xD800 && r <= 0xDBFF:
				lo, ok := uint16(0), false
				if i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
					lo, ok = hex4(b[i+8 : i+12])
				}
				if ok && lo >= 0xDC00 && lo <= 0xDFFF {
					out = append(out, b[i:i+12]...)
					i += 6
				} else {
					out, changed = append(out, `\ufffd`...), true
				}
			default:
				out = append(out, b[i:i+6]...)
			}
			i += 5
		case c == '\\' && i+1 < len(b):
			out = append(out, c, b[i+1])
			i++
		default:
			out = append(out, c)
		}
	}
	return out, changed
}

func hex4(b []byte) (uint16, bool) {
	n, err := strconv.ParseUint(string(b), 16, 16)
	return uint16(n), err == nil
}

// hasExponent reports whether a number outside the strings of the JSON
// text b is written with an exponent, which JSONB rewrites.
func hasExponent(b []byte) bool {
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && (c == 'e' || c == 'E') && i > 0 && (b[i-1] >= '0' && b[i-1] <= '9' || b[i-1] == '.'):
			return true
		}
	}
	return false
}

// requestForms is storedForms for a request document b of r. The version
// lives in its own column and is dropped from the jsonb copy, so when the
// document holds it in another form than the column's number (the
// original app's "version": "2"), b is kept as raw too: the version reads
// back as written, and as the column's number once a write changes it.
func requestForms(r *store.Request, b []byte) ([]byte, *string) {
	doc, raw := storedForms(b)
	if raw != nil || len(r.DecodeIssues()) == 0 {
		return doc, raw
	}
	var top struct {
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(b, &top); err == nil && len(top.Version) > 0 &&
		string(top.Version) != strconv.FormatInt(r.Version, 10) {
		s := string(b)
		return doc, &s
	}
	return doc, nil
}
