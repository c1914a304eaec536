package tfpilot

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tfpilot/tfpilot/store"
)

// FieldType is the type of a module input.
type FieldType string

// Field types. Values arrive as JSON; strings are coerced to numbers and
// booleans when they parse, because portals post form values as strings.
const (
	FieldString FieldType = "string"
	FieldNumber FieldType = "number"
	FieldBool   FieldType = "bool"
	FieldList   FieldType = "list" // a list of strings
	FieldMap    FieldType = "map"  // a map of string to string
	FieldObject FieldType = "object"
)

// Field describes one input of a [Module].
type Field struct {
	// Name is the input's name, which becomes an HCL attribute name:
	// lower-case letters, digits and '_', starting with a letter.
	Name        string
	Type        FieldType
	Required    bool
	Description string
	// Default is used when the input is absent. It must itself be valid.
	Default any
	// Allowed, when non-empty, lists the only values accepted (for
	// strings, numbers and bools).
	Allowed []any
	// Pattern, when set, is a regular expression a string value (or each
	// element of a list) must match in full.
	Pattern string

	re *regexp.Regexp
}

// Module is a Terraform module users may request, with the schema of its
// inputs.
type Module struct {
	// Name identifies the module in requests (see [ValidateName]).
	Name        string
	Description string
	// Source and Version are the module block's source and version.
	Source  string
	Version string
	Fields  []Field
}

// Catalog is the set of modules users may request. Build it with
// [NewCatalog]; it is immutable and safe for concurrent use.
type Catalog struct {
	modules map[string]Module
	names   []string
}

var hclIdent = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// NewCatalog checks the module definitions and returns a catalogue of
// them. Definition errors (bad names, duplicate fields, patterns that do
// not compile, defaults that fail their own field) are reported together
// as a [*ValidationError].
func NewCatalog(modules ...Module) (*Catalog, error) {
	c := &Catalog{modules: make(map[string]Module, len(modules))}
	var v ValidationError
	add := func(field, format string, args ...any) {
		v.Violations = append(v.Violations, FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
	}
	for _, m := range modules {
		path := "modules." + m.Name
		if p := nameProblem(m.Name); p != "" {
			add(path, "module name %s", p)
		}
		if _, dup := c.modules[m.Name]; dup {
			add(path, "module defined twice")
		}
		if m.Source == "" {
			add(path+".source", "must not be empty")
		}
		seen := map[string]bool{}
		fields := make([]Field, len(m.Fields))
		for i, f := range m.Fields {
			fp := path + ".fields." + f.Name
			switch {
			case !hclIdent.MatchString(f.Name):
				add(fp, "field name must be lower-case letters, digits and '_', starting with a letter")
			case seen[f.Name]:
				add(fp, "field defined twice")
			case f.Name == "source" || f.Name == "version" || f.Name == "providers" || f.Name == "count" || f.Name == "for_each" || f.Name == "depends_on":
				add(fp, "%q is a reserved module argument", f.Name)
			}
			seen[f.Name] = true
			switch f.Type {
			case FieldString, FieldNumber, FieldBool, FieldList, FieldMap, FieldObject:
			default:
				add(fp, "unknown type %q", f.Type)
			}
			if f.Pattern != "" {
				re, err := regexp.Compile(`^(?:` + f.Pattern + `)$`)
				if err != nil {
					add(fp, "pattern does not compile: %v", err)
				}
				f.re = re
			}
			if f.Default != nil {
				if _, errs := f.check(fp, f.Default); len(errs) > 0 {
					add(fp, "default is invalid: %s", errs[0].Description)
				}
			}
			fields[i] = f
		}
		m.Fields = fields
		v.Violations = append(v.Violations, checkModuleLimits(path, m)...)
		c.modules[m.Name] = m
		c.names = append(c.names, m.Name)
	}
	if len(v.Violations) > 0 {
		return nil, &v
	}
	sort.Strings(c.names)
	return c, nil
}

// Module returns the module called name.
func (c *Catalog) Module(name string) (Module, bool) {
	m, ok := c.modules[name]
	return m, ok
}

// Modules returns every module, sorted by name.
func (c *Catalog) Modules() []Module {
	out := make([]Module, 0, len(c.names))
	for _, n := range c.names {
		out = append(out, c.modules[n])
	}
	return out
}

// ValidateConfig checks config against m's fields and returns it
// normalised: defaults filled in, strings coerced to numbers and bools.
// Every problem is reported at once in a [*ValidationError] whose field
// paths start with "config.". config is not modified.
//
// A config over one of the limits ([MaxConfigBytes], [MaxConfigDepth],
// [MaxConfigKeys], [MaxConfigListElements], [MaxConfigStringBytes], [MaxStringTemplateChars],
// [MaxConfigTemplateChars]) is refused with those violations alone, before
// any field is checked; so is a config that the defaults filled in take
// over a limit.
func (m Module) ValidateConfig(config map[string]any) (map[string]any, error) {
	if vs := checkConfigLimits(config); len(vs) > 0 {
		return nil, &ValidationError{Violations: vs}
	}
	out := make(map[string]any, len(m.Fields))
	var v ValidationError
	known := make(map[string]bool, len(m.Fields))
	for _, f := range m.Fields {
		known[f.Name] = true
		path := "config." + f.Name
		val, present := config[f.Name]
		if !present || val == nil || val == "" && f.Type != FieldString {
			if f.Default != nil {
				val, _ = f.check(path, f.Default)
				out[f.Name] = val
				continue
			}
			if f.Required {
				v.Violations = append(v.Violations, FieldViolation{Field: path, Description: "is required"})
			}
			continue
		}
		norm, errs := f.check(path, val)
		if len(errs) > 0 {
			v.Violations = append(v.Violations, errs...)
			continue
		}
		out[f.Name] = norm
	}
	var unknown []string
	for k := range config {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		v.Violations = append(v.Violations, FieldViolation{Field: "config." + k, Description: fmt.Sprintf("module %q has no input %q", m.Name, k)})
	}
	if len(v.Violations) > 0 {
		return nil, &v
	}
	if vs := checkConfigLimits(out); len(vs) > 0 {
		return nil, &ValidationError{Violations: vs}
	}
	return out, nil
}

// check validates and normalises one value of f.
func (f Field) check(path string, val any) (any, []FieldViolation) {
	bad := func(format string, args ...any) (any, []FieldViolation) {
		return nil, []FieldViolation{{Field: path, Description: fmt.Sprintf(format, args...)}}
	}
	var norm any
	switch f.Type {
	case FieldString:
		s, ok := val.(string)
		if !ok {
			return bad("must be a string, not %s", jsonKind(val))
		}
		if f.re != nil && !f.re.MatchString(s) {
			return bad("%q does not match the pattern %s", s, f.Pattern)
		}
		norm = s
	case FieldNumber:
		n, ok := toNumber(val)
		if !ok {
			return bad("must be a number, not %s", jsonKind(val))
		}
		norm = n
	case FieldBool:
		switch b := val.(type) {
		case bool:
			norm = b
		case string:
			p, err := strconv.ParseBool(b)
			if err != nil {
				return bad("must be true or false, not %q", b)
			}
			norm = p
		default:
			return bad("must be a bool, not %s", jsonKind(val))
		}
	case FieldList:
		items, ok := toStrings(val)
		if !ok {
			return bad("must be a list of strings")
		}
		for i, s := range items {
			if f.re != nil && !f.re.MatchString(s.(string)) {
				return bad("element %d %q does not match the pattern %s", i, s, f.Pattern)
			}
		}
		norm = items
	case FieldMap:
		mm, ok := val.(map[string]any)
		if !ok {
			return bad("must be a map of strings, not %s", jsonKind(val))
		}
		out := make(map[string]any, len(mm))
		for k, e := range mm {
			s, ok := e.(string)
			if !ok {
				return bad("value of key %q must be a string", k)
			}
			out[k] = s
		}
		norm = out
	case FieldObject:
		mm, ok := val.(map[string]any)
		if !ok {
			return bad("must be an object, not %s", jsonKind(val))
		}
		norm = store.CloneConfig(mm)
	default:
		return bad("has unknown type %q", f.Type)
	}
	if len(f.Allowed) > 0 && !slices.ContainsFunc(f.Allowed, func(a any) bool { return sameScalar(a, norm) }) {
		return bad("%v is not one of the allowed values %v", norm, f.Allowed)
	}
	return norm, nil
}

func toNumber(v any) (float64, bool) {
	var n float64
	switch x := v.(type) {
	case float64:
		n = x
	case float32:
		n = float64(x)
	case int:
		n = float64(x)
	case int64:
		n = float64(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return 0, false
		}
		n = f
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, false
		}
		n = f
	default:
		return 0, false
	}
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, false
	}
	return n, true
}

func toStrings(v any) ([]any, bool) {
	switch x := v.(type) {
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, true
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

func sameScalar(a, b any) bool {
	if an, ok := toNumber(a); ok {
		if _, isStr := a.(string); !isStr {
			bn, ok := b.(float64)
			return ok && an == bn
		}
	}
	return a == b
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a bool"
	case float64, float32, int, int64, json.Number:
		return "a number"
	case []any, []string:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
