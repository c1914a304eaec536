package tfpilot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileSchema compiles a module's JSON Schema with a draft 2020-12
// validator.
func compileSchema(t *testing.T, m Module) *jsonschema.Schema {
	t.Helper()
	raw, err := m.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	url := "urn:tfpilot:module:" + m.Name
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("schema of %s does not compile: %v\n%s", m.Name, err, raw)
	}
	return s
}

// agree checks that the schema and ValidateConfig give one answer on the
// JSON text of a config, each reading it as it would arrive.
func agree(t *testing.T, m Module, s *jsonschema.Schema, text []byte) bool {
	t.Helper()
	var cfg map[string]any
	if err := json.Unmarshal(text, &cfg); err != nil {
		t.Fatalf("sample %s: %v", text, err)
	}
	_, verr := m.ValidateConfig(cfg)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	serr := s.Validate(doc)
	if (verr == nil) != (serr == nil) {
		raw, _ := m.JSONSchema()
		t.Errorf("module %s, config %s:\n  ValidateConfig: %v\n  JSON Schema: %v\n  schema: %s", m.Name, text, verr, serr, raw)
		return false
	}
	return true
}

func TestJSONSchema_AgreesWithValidateConfigOnTheExamples(t *testing.T) {
	t.Parallel()
	m := s3Module()
	c, err := NewCatalog(m)
	if err != nil {
		t.Fatal(err)
	}
	m, _ = c.Module(m.Name)
	s := compileSchema(t, m)
	for _, tc := range []struct {
		config string
		valid  bool
	}{
		{`{"bucket_name":"reports"}`, true},
		{`{"bucket_name":"reports","versioning":"false","retention_days":"30","allowed_ips":["10.0.0.1"],"tags":{"team":"core"}}`, true},
		{`{"bucket_name":"reports","retention_days":"30.0"}`, true},
		{`{"bucket_name":"reports","retention_days":" 030 "}`, true},
		{`{"bucket_name":"reports","retention_days":31}`, false},
		{`{"bucket_name":"reports","retention_days":"31"}`, false},
		{`{"bucket_name":"reports","versioning":null,"retention_days":""}`, true},
		{`{}`, false},
		{`{"bucket_name":null}`, false},
		{`{"bucket_name":"RE"}`, false},
		{`{"bucket_name":"reports","extra":1}`, false},
		{`{"bucket_name":"reports","versioning":"yes"}`, false},
		{`{"bucket_name":"reports","allowed_ips":["10.0.0.1","x"]}`, false},
		{`{"bucket_name":"reports","tags":{"team":1}}`, false},
		{`{"bucket_name":"reports","lifecycle":[]}`, false},
	} {
		got := agree(t, m, s, []byte(tc.config))
		var cfg map[string]any
		_ = json.Unmarshal([]byte(tc.config), &cfg)
		if _, err := m.ValidateConfig(cfg); got && (err == nil) != tc.valid {
			t.Errorf("%s: valid = %v, want %v (%v)", tc.config, err == nil, tc.valid, err)
		}
	}
}

// TestJSONSchema_AcceptsExactlyWhatValidateConfigAccepts generates random
// modules and, for each, random configs (valid values, coerced strings,
// wrong types, pattern and allowed-value misses, absent, null and empty
// inputs, unknown inputs) and checks that the module's JSON Schema and
// ValidateConfig agree on every one.
func TestJSONSchema_AcceptsExactlyWhatValidateConfigAccepts(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(18, 2026))
	const modules, configs = 200, 100
	accepted, refused := 0, 0
	for i := range modules {
		m := randomModule(rng, i)
		c, err := NewCatalog(m)
		if err != nil {
			t.Fatalf("random module %d: %v", i, err)
		}
		m, _ = c.Module(m.Name)
		s := compileSchema(t, m)
		for range configs {
			text := randomConfig(rng, m)
			if !agree(t, m, s, text) {
				t.FailNow()
			}
			var cfg map[string]any
			_ = json.Unmarshal(text, &cfg)
			if _, err := m.ValidateConfig(cfg); err == nil {
				accepted++
			} else {
				refused++
			}
		}
	}
	// Both answers must be well represented, or the test proves little.
	if accepted < modules*configs/10 || refused < modules*configs/10 {
		t.Fatalf("samples: %d accepted, %d refused; want each at least a tenth", accepted, refused)
	}
	t.Logf("%d configs over %d modules: %d accepted, %d refused, all in agreement", modules*configs, modules, accepted, refused)
}

var samplePatterns = []string{`[a-z0-9-]{3,12}`, `[0-9.]+`, `(dev|prod)-[a-z]+`, `x*`}

func randomModule(rng *rand.Rand, i int) Module {
	types := []FieldType{FieldString, FieldNumber, FieldBool, FieldList, FieldMap, FieldObject}
	m := Module{Name: fmt.Sprintf("mod_%d", i), Source: "example/mod", Version: "1.0.0"}
	for j := range 1 + rng.IntN(5) {
		f := Field{Name: fmt.Sprintf("f%d", j), Type: types[rng.IntN(len(types))], Required: rng.IntN(2) == 0}
		switch f.Type {
		case FieldString:
			if rng.IntN(2) == 0 {
				f.Pattern = samplePatterns[rng.IntN(len(samplePatterns))]
			}
			if rng.IntN(3) == 0 {
				// An allowed value must also match the pattern.
				f.Allowed = []any{"alpha", "beta-one", "dev-x"}
				f.Pattern = []string{"", `[a-z0-9-]{3,12}`}[rng.IntN(2)]
			}
			if rng.IntN(3) == 0 {
				f.Default = validValue(rng, f)
			}
		case FieldNumber:
			if rng.IntN(3) == 0 {
				f.Allowed = []any{7, 30.5, -2, 0, "12"}[:1+rng.IntN(5)]
			}
			if rng.IntN(3) == 0 {
				f.Default = validValue(rng, f)
			}
		case FieldBool:
			if rng.IntN(4) == 0 {
				f.Allowed = []any{rng.IntN(2) == 0}
			}
			if rng.IntN(3) == 0 {
				f.Default = validValue(rng, f)
			}
		case FieldList:
			if rng.IntN(2) == 0 {
				f.Pattern = samplePatterns[rng.IntN(len(samplePatterns))]
			}
			if rng.IntN(4) == 0 {
				f.Default = validValue(rng, f)
			}
		case FieldMap, FieldObject:
			if rng.IntN(4) == 0 {
				f.Default = validValue(rng, f)
			}
		}
		if f.Default == nil && rng.IntN(8) == 0 {
			f.Description = "described"
		}
		m.Fields = append(m.Fields, f)
	}
	return m
}

// validValue returns a value f accepts, in a JSON form a portal may send.
func validValue(rng *rand.Rand, f Field) any {
	switch f.Type {
	case FieldString:
		if len(f.Allowed) > 0 {
			return f.Allowed[rng.IntN(len(f.Allowed))]
		}
		return matching(rng, f.Pattern)
	case FieldNumber:
		if len(f.Allowed) > 0 {
			for {
				a := f.Allowed[rng.IntN(len(f.Allowed))]
				if _, isStr := a.(string); isStr {
					if len(f.Allowed) == 1 {
						return nil
					}
					continue
				}
				n, _ := toNumber(a)
				return numberForm(rng, n)
			}
		}
		return numberForm(rng, float64(rng.IntN(2000)-1000)/[]float64{1, 4, 100}[rng.IntN(3)])
	case FieldBool:
		b := rng.IntN(2) == 0
		if len(f.Allowed) > 0 {
			b = f.Allowed[0].(bool)
		}
		forms := map[bool][]any{true: {true, "true", "1", "T", "TRUE", "True", "t"}, false: {false, "false", "0", "F", "FALSE", "False", "f"}}[b]
		return forms[rng.IntN(len(forms))]
	case FieldList:
		out := []any{}
		for range rng.IntN(4) {
			out = append(out, matching(rng, f.Pattern))
		}
		return out
	case FieldMap:
		out := map[string]any{}
		for k := range rng.IntN(3) {
			out[fmt.Sprintf("k%d", k)] = matching(rng, "")
		}
		return out
	case FieldObject:
		return map[string]any{"a": 1.0, "b": []any{"x", map[string]any{"c": true}}}
	}
	return nil
}

// numberForm writes n as a JSON number or as one of the decimal strings
// that parse to it.
func numberForm(rng *rand.Rand, n float64) any {
	s := fmt.Sprint(n)
	switch rng.IntN(6) {
	case 0:
		return s
	case 1:
		return " " + s + "\t"
	case 2:
		if !strings.Contains(s, ".") {
			return s + ".00"
		}
		return s + "0"
	case 3:
		if n >= 0 {
			return "+0" + s
		}
	}
	return n
}

// matching returns a string that matches pattern (one of samplePatterns,
// or any string when empty).
func matching(rng *rand.Rand, pattern string) string {
	switch pattern {
	case `[a-z0-9-]{3,12}`:
		return []string{"abc", "reports-1", "a-b-c-d-e-f"}[rng.IntN(3)]
	case `[0-9.]+`:
		return []string{"10.0.0.1", "1", "..."}[rng.IntN(3)]
	case `(dev|prod)-[a-z]+`:
		return []string{"dev-x", "prod-payments"}[rng.IntN(2)]
	case `x*`:
		return []string{"", "xxx"}[rng.IntN(2)]
	}
	return []string{"hello", "", "Ünïcode ✓", "a b"}[rng.IntN(4)]
}

// invalidValue returns a value that is likely, not certainly, refused:
// wrong types, pattern misses, values outside the allowed ones, numbers
// in strings that do not parse, non-string list elements.
func invalidValue(rng *rand.Rand, f Field) any {
	wrong := []any{1.5, "not-a-number", true, []any{"a"}, []any{1.0}, map[string]any{"k": "v"}, map[string]any{"k": 1.0},
		"NaN", "Inf", "1e", "--1", "0x10", "yes", "", "RE", "prod-", 31.0, "31", "gamma", "dev-x", "12"}
	return wrong[rng.IntN(len(wrong))]
}

// randomConfig builds the JSON text of a config for m.
func randomConfig(rng *rand.Rand, m Module) []byte {
	cfg := map[string]any{}
	for _, f := range m.Fields {
		switch r := rng.IntN(10); {
		case r < 5:
			if v := validValue(rng, f); v != nil {
				cfg[f.Name] = v
			}
		case r < 7:
			cfg[f.Name] = invalidValue(rng, f)
		case r == 7:
			cfg[f.Name] = nil
		case r == 8:
			cfg[f.Name] = ""
		} // 9: absent
	}
	if rng.IntN(15) == 0 {
		cfg["unknown_input"] = "x"
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		panic(err)
	}
	return b
}
