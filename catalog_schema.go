package tfpilot

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// JSONSchemaDialect is the JSON Schema draft [Module.JSONSchema] writes.
const JSONSchemaDialect = "https://json-schema.org/draft/2020-12/schema"

// numberString matches the strings [Module.ValidateConfig] reads as a
// number field's value in decimal notation (portals post form values as
// strings), surrounded by ASCII white space.
const numberString = `[ \t\n\v\f\r]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t\n\v\f\r]*`

// JSONSchema returns a JSON Schema (draft 2020-12) of m's config, built
// from the same field definitions [Module.ValidateConfig] checks, so a
// portal can render a form (a Backstage scaffolder's parameters are JSON
// Schema) and check it before calling the API. The schema accepts what
// ValidateConfig accepts and rejects what it rejects: unknown inputs,
// missing required inputs, wrong types, patterns (anchored, in Go's
// regular expression syntax), allowed values, and the string forms of
// numbers and bools that ValidateConfig coerces; null (and "" for an
// input that is not a string) stands for an absent input, as there.
//
// What JSON Schema cannot say, the schema leaves to the server, which
// stays the authority: the limits on a whole config ([MaxConfigBytes],
// [MaxConfigDepth], [MaxConfigKeys], [MaxConfigStringBytes]); number
// strings in forms other than decimal (hexadecimal, or exponents past
// float64's range, which the server refuses); and, for a number input
// with allowed values, strings written with an exponent.
//
// The result is deterministic (object keys sorted).
func (m Module) JSONSchema() ([]byte, error) {
	props := make(map[string]any, len(m.Fields))
	required := []string{}
	for _, f := range m.Fields {
		props[f.Name] = f.jsonSchema()
		if f.Required && f.Default == nil {
			required = append(required, f.Name)
		}
	}
	s := map[string]any{
		"$schema":              JSONSchemaDialect,
		"$id":                  "urn:tfpilot:module:" + m.Name,
		"title":                m.Name,
		"type":                 "object",
		"properties":           props,
		"required":             required,
		"additionalProperties": false,
	}
	if m.Description != "" {
		s["description"] = m.Description
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("tfpilot: JSON Schema of module %q: %w", m.Name, err)
	}
	return b, nil
}

// jsonSchema is the schema of one input: the value's own schema, or, when
// the input may be left out, null (and "" for a type other than string).
func (f Field) jsonSchema() map[string]any {
	val := f.valueSchema()
	out := map[string]any{}
	if f.Description != "" {
		out["description"] = f.Description
	}
	if f.Default != nil {
		if d, errs := f.check("", f.Default); len(errs) == 0 {
			out["default"] = d
		}
	}
	if f.Required && f.Default == nil {
		out["anyOf"] = []any{val}
		return out
	}
	absent := []any{map[string]any{"type": "null"}}
	if f.Type != FieldString {
		absent = append(absent, map[string]any{"const": ""})
	}
	out["anyOf"] = append([]any{val}, absent...)
	return out
}

// anchored is f's pattern as ValidateConfig applies it: in full.
func (f Field) anchored() string { return `^(?:` + f.Pattern + `)$` }

// valueSchema is the schema of a present, non-null value of f.
func (f Field) valueSchema() map[string]any {
	switch f.Type {
	case FieldString:
		s := map[string]any{"type": "string"}
		if f.Pattern != "" {
			s["pattern"] = f.anchored()
		}
		if len(f.Allowed) > 0 {
			enum := []any{}
			for _, a := range f.Allowed {
				if str, ok := a.(string); ok {
					enum = append(enum, str)
				}
			}
			s["enum"] = enum
		}
		return s
	case FieldNumber:
		if len(f.Allowed) == 0 {
			return map[string]any{"anyOf": []any{
				map[string]any{"type": "number"},
				map[string]any{"type": "string", "pattern": "^" + numberString + "$"},
			}}
		}
		enum, alts := []any{}, []string{}
		for _, a := range f.Allowed {
			if _, isStr := a.(string); isStr {
				continue // a string never equals a number (sameScalar)
			}
			if n, ok := toNumber(a); ok {
				enum = append(enum, n)
				alts = append(alts, decimalForms(n))
			}
		}
		if len(enum) == 0 {
			return map[string]any{"not": map[string]any{}}
		}
		ws := `[ \t\n\v\f\r]*`
		return map[string]any{"anyOf": []any{
			map[string]any{"type": "number", "enum": enum},
			map[string]any{"type": "string", "pattern": "^" + ws + "(?:" + strings.Join(alts, "|") + ")" + ws + "$"},
		}}
	case FieldBool:
		trues, falses := []any{true, "1", "t", "T", "TRUE", "true", "True"}, []any{false, "0", "f", "F", "FALSE", "false", "False"}
		if len(f.Allowed) == 0 {
			return map[string]any{"enum": append(trues, falses...)}
		}
		enum := []any{}
		for _, a := range f.Allowed {
			switch a {
			case true:
				enum = append(enum, trues...)
			case false:
				enum = append(enum, falses...)
			}
		}
		return map[string]any{"enum": enum}
	}
	if len(f.Allowed) > 0 {
		// Allowed values compare as scalars; no list, map or object
		// value equals one.
		return map[string]any{"not": map[string]any{}}
	}
	switch f.Type {
	case FieldList:
		item := map[string]any{"type": "string"}
		if f.Pattern != "" {
			item["pattern"] = f.anchored()
		}
		return map[string]any{"type": "array", "items": item}
	case FieldMap:
		return map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}
	case FieldObject:
		return map[string]any{"type": "object"}
	}
	return map[string]any{"not": map[string]any{}}
}

// decimalForms is a regular expression matching the decimal strings that
// parse to n: its shortest form with any leading zeros, a "+" on a
// positive number, and trailing zeros after the point.
func decimalForms(n float64) string {
	sign := `\+?`
	if n < 0 {
		sign, n = `-`, -n
	}
	s := strconv.FormatFloat(n, 'f', -1, 64)
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if intPart == "0" {
		intPart = "0*" // "0.5" is also ".5"
	} else {
		intPart = "0*" + regexp.QuoteMeta(intPart)
	}
	if !hasFrac {
		if n == 0 {
			// Zero: "0", "0.", ".0", "-0", "000.000".
			return `[+-]?(?:0+(?:\.0*)?|\.0+)`
		}
		return sign + intPart + `(?:\.0*)?`
	}
	return sign + intPart + `\.` + frac + `0*`
}
