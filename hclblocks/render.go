package hclblocks

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Module is a Terraform module call to render with [RenderModule].
type Module struct {
	// Name is the module's label; it must be an HCL identifier.
	Name string
	// Source is the module source address; it must not be empty.
	Source string
	// Version is the version constraint; omitted when empty.
	Version string
	// Inputs are the module's input variables. Names must be HCL
	// identifiers and not names Terraform reserves for module blocks
	// (source, version, providers, count, for_each, lifecycle, depends_on,
	// locals). A value may be nil, a string (valid UTF-8), a bool, any
	// integer or float kind (not NaN or infinite), a slice or array
	// (rendered as a tuple), a map with string keys (rendered as an object,
	// keys sorted), a pointer to one of these, or a known, unmarked
	// [cty.Value]; nesting is limited to [MaxValueDepth]. Strings reach the
	// file in Unicode normal form C, as HCL itself reads them.
	Inputs map[string]any
}

// MaxValueDepth bounds the nesting of input values, so that cyclic or
// hostile values fail with [ErrInvalidValue] instead of exhausting the stack.
const MaxValueDepth = 32

// reservedInputs are the names Terraform does not allow as module inputs.
var reservedInputs = map[string]bool{
	"source": true, "version": true, "providers": true, "count": true,
	"for_each": true, "lifecycle": true, "depends_on": true, "locals": true,
}

// RenderModule renders m as a module block, formatted as [hclwrite.Format]
// would format it, with a final newline: source first, then version, then a
// blank line and the inputs sorted by name. Values become HCL tokens through
// hclwrite and cty, so every string stays one quoted literal whatever it
// holds (quotes, line breaks, "${", marker text): "${" and "%{" are written
// as the escapes "$${" and "%%{", so Terraform reads no template. Errors
// wrap [ErrInvalidModule] or [ErrInvalidValue].
//
// Cost: the HCL lexer cuts a quoted string at every "$" and "%" (escaped
// or not) and the parser joins the pieces one at a time, so parsing the
// block, which [Editor.Upsert] does, takes time that grows with the number
// of those characters in a string times the string's length (64 KiB of
// them: seconds). Callers rendering untrusted values should bound both;
// tfpilot's config limits do.
func RenderModule(m Module) ([]byte, error) {
	if !hclsyntax.ValidIdentifier(m.Name) {
		return nil, fmt.Errorf("%w: name %.140q is not an HCL identifier", ErrInvalidModule, m.Name)
	}
	if m.Source == "" {
		return nil, fmt.Errorf("%w: %q has an empty source", ErrInvalidModule, m.Name)
	}
	names := make([]string, 0, len(m.Inputs))
	for k := range m.Inputs {
		if !hclsyntax.ValidIdentifier(k) {
			return nil, fmt.Errorf("%w: input name %.140q is not an HCL identifier", ErrInvalidModule, k)
		}
		if reservedInputs[k] {
			return nil, fmt.Errorf("%w: input name %q is reserved by Terraform", ErrInvalidModule, k)
		}
		names = append(names, k)
	}
	slices.Sort(names)

	f := hclwrite.NewEmptyFile()
	body := f.Body().AppendNewBlock("module", []string{m.Name}).Body()
	for _, a := range []struct{ name, val string }{{"source", m.Source}, {"version", m.Version}} {
		if a.name == "version" && a.val == "" {
			continue
		}
		toks, err := valueTokens(a.val, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.name, err)
		}
		body.SetAttributeRaw(a.name, toks)
	}
	if len(names) > 0 {
		body.AppendNewline()
	}
	for _, k := range names {
		toks, err := valueTokens(m.Inputs[k], 0)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", k, err)
		}
		body.SetAttributeRaw(k, toks)
	}
	return hclwrite.Format(f.Bytes()), nil
}

// valueTokens turns a Go value into HCL expression tokens.
func valueTokens(v any, depth int) (hclwrite.Tokens, error) {
	if depth > MaxValueDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrInvalidValue, MaxValueDepth)
	}
	switch x := v.(type) {
	case nil:
		return hclwrite.TokensForValue(cty.NullVal(cty.DynamicPseudoType)), nil
	case cty.Value:
		return ctyTokens(x, depth)
	case string:
		if !utf8.ValidString(x) {
			return nil, fmt.Errorf("%w: string is not valid UTF-8", ErrInvalidValue)
		}
		return hclwrite.TokensForValue(cty.StringVal(x)), nil
	case bool:
		return hclwrite.TokensForValue(cty.BoolVal(x)), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return valueTokens(rv.String(), depth)
	case reflect.Bool:
		return valueTokens(rv.Bool(), depth)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return hclwrite.TokensForValue(cty.NumberIntVal(rv.Int())), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return hclwrite.TokensForValue(cty.NumberUIntVal(rv.Uint())), nil
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%w: %v has no HCL form", ErrInvalidValue, f)
		}
		return hclwrite.TokensForValue(cty.NumberFloatVal(f)), nil
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return valueTokens(nil, depth)
		}
		elems := make([]hclwrite.Tokens, rv.Len())
		for i := range elems {
			t, err := valueTokens(rv.Index(i).Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			elems[i] = t
		}
		return hclwrite.TokensForTuple(elems), nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("%w: map key type %s is not a string", ErrInvalidValue, rv.Type().Key())
		}
		if rv.IsNil() {
			return valueTokens(nil, depth)
		}
		keys := make([]string, 0, rv.Len())
		for _, k := range rv.MapKeys() {
			keys = append(keys, k.String())
		}
		slices.Sort(keys)
		attrs := make([]hclwrite.ObjectAttrTokens, 0, len(keys))
		for _, k := range keys {
			kt, err := keyTokens(k)
			if err != nil {
				return nil, err
			}
			vt, err := valueTokens(rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key())).Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			attrs = append(attrs, hclwrite.ObjectAttrTokens{Name: kt, Value: vt})
		}
		return hclwrite.TokensForObject(attrs), nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return valueTokens(nil, depth)
		}
		return valueTokens(rv.Elem().Interface(), depth+1)
	}
	return nil, fmt.Errorf("%w: unsupported type %T", ErrInvalidValue, v)
}

// keyTokens renders an object key: a bare identifier when HCL reads it back
// as that literal name, a quoted string otherwise. hclwrite's own object
// rendering writes every identifier-like key bare, but "{ for = 1 }" does not
// parse: "for" opens a for expression there.
func keyTokens(k string) (hclwrite.Tokens, error) {
	if !utf8.ValidString(k) {
		return nil, fmt.Errorf("%w: object key is not valid UTF-8", ErrInvalidValue)
	}
	if k != "for" && hclsyntax.ValidIdentifier(k) {
		return hclwrite.TokensForIdentifier(k), nil
	}
	return hclwrite.TokensForValue(cty.StringVal(k)), nil
}

// ctyTokens renders a cty value, refusing what hclwrite cannot render.
func ctyTokens(v cty.Value, depth int) (hclwrite.Tokens, error) {
	switch {
	case depth > MaxValueDepth:
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrInvalidValue, MaxValueDepth)
	case v.IsMarked():
		return nil, fmt.Errorf("%w: marked cty value", ErrInvalidValue)
	case !v.IsKnown():
		return nil, fmt.Errorf("%w: unknown cty value", ErrInvalidValue)
	case v.IsNull():
		return valueTokens(nil, depth)
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return valueTokens(v.AsString(), depth)
	case ty == cty.Bool:
		return valueTokens(v.True(), depth)
	case ty == cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInf() {
			return nil, fmt.Errorf("%w: infinite number", ErrInvalidValue)
		}
		return hclwrite.TokensForValue(v), nil
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		var elems []hclwrite.Tokens
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			t, err := ctyTokens(ev, depth+1)
			if err != nil {
				return nil, err
			}
			elems = append(elems, t)
		}
		return hclwrite.TokensForTuple(elems), nil
	case ty.IsMapType() || ty.IsObjectType():
		var attrs []hclwrite.ObjectAttrTokens
		for it := v.ElementIterator(); it.Next(); {
			kv, ev := it.Element()
			kt, err := keyTokens(kv.AsString())
			if err != nil {
				return nil, err
			}
			vt, err := ctyTokens(ev, depth+1)
			if err != nil {
				return nil, err
			}
			attrs = append(attrs, hclwrite.ObjectAttrTokens{Name: kt, Value: vt})
		}
		return hclwrite.TokensForObject(attrs), nil
	}
	return nil, fmt.Errorf("%w: unsupported cty type %s", ErrInvalidValue, ty.FriendlyName())
}
