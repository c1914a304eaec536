package tfpilot

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on a request's config, enforced by [Module.ValidateConfig] before
// any field is checked, so that hostile input costs bounded work, and
// again on the normalised config with defaults filled in, so that what is
// rendered is bounded too. Each exceeded limit is a [FieldViolation]
// naming the path of the value that exceeds it (e.g. "config.tags.owner"
// or "config.subnets[3]"). They are generous for real module configs: a
// large IAM or bucket policy (20 KiB) fits in one string with room to
// spare. They also bound what rendering a config as HCL and editing it
// into a file costs (the HCL parser reads every "$" and "%" in a string as
// a piece of its own and joins the pieces in time that grows with their
// number times the string's length): the worst config they admit renders
// and is edited into a 60 KB file in under 100 ms of CPU (BENCHMARKS.md,
// "HCL values").
const (
	// MaxConfigBytes bounds the size of a config encoded as JSON without
	// whitespace (strings counted by their UTF-8 length plus quotes).
	MaxConfigBytes = 64 << 10
	// MaxConfigDepth bounds nesting: an input's value is at depth 1, an
	// element of a list or map input at depth 2, and so on. It stays
	// well inside hclblocks.MaxValueDepth, so an accepted config renders.
	MaxConfigDepth = 16
	// MaxConfigKeys bounds the number of object keys in a config,
	// counted at every level (the inputs themselves included).
	MaxConfigKeys = 512
	// MaxConfigListElements bounds the number of list elements in a
	// config, counted at every level.
	MaxConfigListElements = 512
	// MaxConfigStringBytes bounds the length in bytes of any one string
	// value or object key in a config.
	MaxConfigStringBytes = 32 << 10
	// MaxStringTemplateChars bounds the template characters, "$" and "%",
	// in any one string value or object key of a config. Values are
	// rendered as literal strings ("${" as "$${", "%{" as "%%{"), so
	// these characters carry no meaning for Terraform, but each one costs
	// the HCL parser a piece of the string.
	MaxStringTemplateChars = 64
	// MaxConfigTemplateChars bounds the template characters ("$" and "%")
	// in all the strings and keys of a config together.
	MaxConfigTemplateChars = 256
)

// maxLimitViolations caps the violations one config reports for limits,
// so that an answer about a hostile config is itself small.
const maxLimitViolations = 10

// configMeter walks a config, adding up its size and keys and reporting
// the first values past a limit. It stops as soon as it has reported
// enough, so its work is bounded by the limits, not by the input.
type configMeter struct {
	size, keys, elems, templates int
	stop                         bool
	v                            []FieldViolation
}

// checkConfigLimits reports the values of config that exceed a limit.
func checkConfigLimits(config map[string]any) []FieldViolation {
	var m configMeter
	m.jsonObject("config", config, 0)
	return m.v
}

// Limits on a catalogue module's own strings, which are rendered with
// every request's config ([NewCatalog] enforces them).
const (
	// MaxModuleSourceBytes bounds the length of a module's Source and of
	// its Version.
	MaxModuleSourceBytes = 1024
)

// checkModuleLimits reports what in m's definition exceeds a limit: a
// source or version longer than [MaxModuleSourceBytes] or with more than
// [MaxStringTemplateChars] template characters, and defaults that
// together break the config limits (they may all end up in one config).
// Paths start with path, "modules.<name>".
func checkModuleLimits(path string, m Module) []FieldViolation {
	var v []FieldViolation
	for _, a := range []struct{ name, s string }{{"source", m.Source}, {"version", m.Version}} {
		switch n := templateChars(a.s); {
		case len(a.s) > MaxModuleSourceBytes:
			v = append(v, FieldViolation{Field: path + "." + a.name, Description: fmt.Sprintf("is %d bytes long, longer than the limit of %d", len(a.s), MaxModuleSourceBytes)})
		case n > MaxStringTemplateChars:
			v = append(v, FieldViolation{Field: path + "." + a.name, Description: fmt.Sprintf("holds %d template characters ('$' and '%%'), more than the limit of %d in one string", n, MaxStringTemplateChars)})
		}
	}
	defaults := map[string]any{}
	for _, f := range m.Fields {
		if f.Default != nil {
			defaults[f.Name] = f.Default
		}
	}
	var meter configMeter
	meter.jsonObject(path+".defaults", defaults, 0)
	return append(v, meter.v...)
}

// templateChars counts the characters of s that the HCL lexer splits a
// quoted string at: "$" and "%".
func templateChars(s string) int {
	return strings.Count(s, "$") + strings.Count(s, "%")
}

// template adds the template characters of the string or key s at path,
// reporting a string or a config over its limit.
func (m *configMeter) template(path, s string) {
	n := templateChars(s)
	if n == 0 {
		return
	}
	if n > MaxStringTemplateChars {
		m.add(path, "holds %d template characters ('$' and '%%'), more than the limit of %d in one string", n, MaxStringTemplateChars)
		return
	}
	m.templates += n
	if m.templates > MaxConfigTemplateChars {
		m.add(path, "brings the config to more than %d template characters ('$' and '%%')", MaxConfigTemplateChars)
		m.stop = true
	}
}

func (m *configMeter) add(path, format string, args ...any) {
	m.v = append(m.v, FieldViolation{Field: path, Description: fmt.Sprintf(format, args...)})
	if len(m.v) >= maxLimitViolations {
		m.stop = true
	}
}

// grow adds n bytes to the size, reporting the config once it is over.
func (m *configMeter) grow(n int) {
	m.size += n
	if m.size > MaxConfigBytes {
		m.add("config", "is larger than %d bytes encoded as JSON", MaxConfigBytes)
		m.stop = true
	}
}

func (m *configMeter) str(path, s string) {
	if len(s) > MaxConfigStringBytes {
		m.add(path, "is a string of %d bytes, longer than the limit of %d", len(s), MaxConfigStringBytes)
		return
	}
	m.template(path, s)
	m.grow(len(s) + 2)
}

// value meters v found at path, depth levels below the config.
func (m *configMeter) value(path string, v any, depth int) {
	if m.stop {
		return
	}
	if depth > MaxConfigDepth {
		m.add(path, "is nested deeper than %d levels", MaxConfigDepth)
		return
	}
	switch x := v.(type) {
	case nil:
		m.grow(4)
	case bool:
		m.grow(5)
	case string:
		m.str(path, x)
	case float64:
		m.grow(len(strconv.FormatFloat(x, 'g', -1, 64)))
	case json.Number:
		m.str(path, string(x))
	case []string:
		if !m.list(path, len(x)) {
			return
		}
		m.grow(2)
		for i, s := range x {
			if m.stop {
				return
			}
			m.str(elemPath(path, i), s)
			m.grow(1)
		}
	case map[string]any:
		m.jsonObject(path, x, depth)
	case []any:
		if !m.list(path, len(x)) {
			return
		}
		m.grow(2)
		for i, e := range x {
			if m.stop {
				return
			}
			m.value(elemPath(path, i), e, depth+1)
			m.grow(1)
		}
	default:
		// Go callers may pass other types; render sees them through
		// reflection, so the meter does too.
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Map:
			m.object(path, rv, depth)
		case reflect.Slice, reflect.Array:
			if !m.list(path, rv.Len()) {
				return
			}
			m.grow(2)
			for i := range rv.Len() {
				if m.stop {
					return
				}
				m.value(elemPath(path, i), rv.Index(i).Interface(), depth+1)
				m.grow(1)
			}
		case reflect.Pointer, reflect.Interface:
			if rv.IsNil() {
				m.grow(4)
				return
			}
			m.value(path, rv.Elem().Interface(), depth+1)
		case reflect.String:
			m.str(path, rv.String())
		default:
			m.grow(8)
		}
	}
}

// list counts the n elements of the list at path, reporting the config
// once it is over [MaxConfigListElements]; it returns false then.
func (m *configMeter) list(path string, n int) bool {
	m.elems += n
	if m.elems > MaxConfigListElements {
		m.add(path, "brings the config to more than %d list elements", MaxConfigListElements)
		m.stop = true
		return false
	}
	return true
}

// object meters the map rv at path, whose entries are depth+1 below the
// config. Keys are visited in order, so the violations are stable.
func (m *configMeter) object(path string, rv reflect.Value, depth int) {
	m.keys += rv.Len()
	if m.keys > MaxConfigKeys {
		m.add(path, "brings the config to more than %d object keys", MaxConfigKeys)
		m.stop = true
		return
	}
	m.grow(2)
	keys := make([]reflect.Value, 0, rv.Len())
	iter := rv.MapRange()
	for iter.Next() {
		keys = append(keys, iter.Key())
	}
	name := func(k reflect.Value) string {
		if k.Kind() == reflect.String {
			return k.String()
		}
		return fmt.Sprint(k.Interface())
	}
	slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(name(a), name(b)) })
	for _, k := range keys {
		if m.stop {
			return
		}
		m.entry(path, name(k), rv.MapIndex(k).Interface(), depth)
	}
}

// jsonObject meters the map x at path as object does, without reflection
// for the common case of a decoded JSON object.
func (m *configMeter) jsonObject(path string, x map[string]any, depth int) {
	m.keys += len(x)
	if m.keys > MaxConfigKeys {
		m.add(path, "brings the config to more than %d object keys", MaxConfigKeys)
		m.stop = true
		return
	}
	m.grow(2)
	keys := make([]string, 0, len(x))
	for k := range x {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if m.stop {
			return
		}
		m.entry(path, k, x[k], depth)
	}
}

// entry meters the key k of an object at path and its value v.
func (m *configMeter) entry(path, k string, v any, depth int) {
	kp := path + "." + shortKey(k)
	if len(k) > MaxConfigStringBytes {
		m.add(kp, "is a key of %d bytes, longer than the limit of %d", len(k), MaxConfigStringBytes)
		return
	}
	m.template(kp, k)
	m.grow(len(k) + 3)
	if m.stop {
		return
	}
	m.value(kp, v, depth+1)
	m.grow(1)
}

func elemPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// shortKey makes a key fit in a violation's path: valid UTF-8 and at
// most 64 bytes, cut on a rune boundary and marked with "...".
func shortKey(k string) string {
	k = strings.ToValidUTF8(k, "\uFFFD")
	if len(k) <= 64 {
		return k
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(k[cut]) {
		cut--
	}
	return k[:cut] + "..."
}
