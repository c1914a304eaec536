package tfpilot

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/hclblocks"
)

func limitsModule() Module {
	return Module{
		Name: "svc", Source: "../../modules/svc",
		Fields: []Field{
			{Name: "policy", Type: FieldString},
			{Name: "subnets", Type: FieldList},
			{Name: "tags", Type: FieldMap},
			{Name: "settings", Type: FieldObject},
		},
	}
}

// nested returns an object whose leaf string is n+1 levels below it.
func nested(n int) map[string]any {
	v := map[string]any{"leaf": "x"}
	for range n {
		v = map[string]any{"n": v}
	}
	return v
}

func TestValidateConfig_LimitsAreFieldViolationsNamingThePath(t *testing.T) {
	t.Parallel()
	c, err := NewCatalog(limitsModule())
	if err != nil {
		t.Fatal(err)
	}
	m, _ := c.Module("svc")
	manyKeys := map[string]any{}
	for i := range MaxConfigKeys + 1 {
		manyKeys["k"+strings.Repeat("0", 4)+string(rune('a'+i%26))+strings.Repeat("z", i/26)] = "v"
	}
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	for _, tc := range []struct {
		name   string
		config map[string]any
		field  string
	}{
		{"long string", map[string]any{"policy": strings.Repeat("p", MaxConfigStringBytes+1)}, "config.policy"},
		{"long list element", map[string]any{"subnets": []any{"a", strings.Repeat("s", MaxConfigStringBytes+1)}}, "config.subnets[1]"},
		{"long map value", map[string]any{"tags": map[string]any{"owner": strings.Repeat("o", MaxConfigStringBytes+1)}}, "config.tags.owner"},
		{"long key", map[string]any{"settings": map[string]any{strings.Repeat("k", MaxConfigStringBytes+1): 1.0}}, "config.settings." + strings.Repeat("k", 64) + "..."},
		{"too deep", map[string]any{"settings": nested(MaxConfigDepth)}, "config.settings" + strings.Repeat(".n", MaxConfigDepth)},
		{"cyclic", map[string]any{"settings": cyclic}, "config.settings" + strings.Repeat(".self", MaxConfigDepth)},
		{"too many keys", map[string]any{"settings": manyKeys}, "config.settings"},
		{"too large", map[string]any{"settings": map[string]any{"a": strings.Repeat("a", MaxConfigStringBytes-10), "b": strings.Repeat("b", MaxConfigStringBytes-10), "c": strings.Repeat("c", 100)}}, "config"},
		{"too many list elements", map[string]any{"settings": map[string]any{"a": make([]any, MaxConfigListElements/2), "b": make([]string, MaxConfigListElements/2+1)}}, "config.settings.b"},
		{"template characters in one string", map[string]any{"policy": strings.Repeat("${x}", MaxStringTemplateChars/2) + strings.Repeat("%", MaxStringTemplateChars/2+1)}, "config.policy"},
		{"template characters in a list element", map[string]any{"subnets": []any{"a", strings.Repeat("$", MaxStringTemplateChars+1)}}, "config.subnets[1]"},
		{"template characters in a key", map[string]any{"settings": map[string]any{strings.Repeat("%", MaxStringTemplateChars+1): 1.0}}, "config.settings." + strings.Repeat("%", 64) + "..."},
		{"template characters in the config", map[string]any{"tags": templateTags(MaxConfigTemplateChars/MaxStringTemplateChars + 1)}, fmt.Sprintf("config.tags.t%d", MaxConfigTemplateChars/MaxStringTemplateChars)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.ValidateConfig(tc.config)
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			if len(ve.Violations) > maxLimitViolations {
				t.Errorf("%d violations, want at most %d", len(ve.Violations), maxLimitViolations)
			}
			if ve.Violations[0].Field != tc.field {
				t.Errorf("violation %q, want field %q", ve.Violations[0], tc.field)
			}
		})
	}
}

// templateTags returns n tags t0, t1, ... each holding
// MaxStringTemplateChars template characters.
func templateTags(n int) map[string]any {
	tags := map[string]any{}
	for i := range n {
		tags[fmt.Sprintf("t%d", i)] = strings.Repeat("$${a}", MaxStringTemplateChars/2)
	}
	return tags
}

// TestValidateConfig_DefaultsCountTowardTheLimits checks that the limits
// hold for the config as rendered: defaults filled in for absent inputs
// count, and a config they take over a limit is refused at the path of
// the value that does.
func TestValidateConfig_DefaultsCountTowardTheLimits(t *testing.T) {
	t.Parallel()
	mod := limitsModule()
	mod.Fields[0].Default = strings.Repeat("$", MaxStringTemplateChars) // policy
	c, err := NewCatalog(mod)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := c.Module("svc")
	if _, err := m.ValidateConfig(map[string]any{"tags": templateTags(MaxConfigTemplateChars/MaxStringTemplateChars - 1)}); err != nil {
		t.Fatalf("config at the limit with the default: %v", err)
	}
	_, err = m.ValidateConfig(map[string]any{"tags": templateTags(MaxConfigTemplateChars / MaxStringTemplateChars)})
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Violations) == 0 {
		t.Fatalf("err = %v, want a *ValidationError", err)
	}
	// Keys are metered in order: policy (the default) first, then the tags.
	if want := fmt.Sprintf("config.tags.t%d", MaxConfigTemplateChars/MaxStringTemplateChars-1); ve.Violations[0].Field != want {
		t.Errorf("violation %q, want field %q", ve.Violations[0], want)
	}
}

// TestNewCatalog_ModuleStringsWithinTheLimits checks that a module's
// source, version and defaults, which are rendered with every request,
// are held to the limits, as violations naming the module's path.
func TestNewCatalog_ModuleStringsWithinTheLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		edit  func(*Module)
		field string
	}{
		{"long source", func(m *Module) { m.Source = strings.Repeat("s", MaxModuleSourceBytes+1) }, "modules.svc.source"},
		{"template characters in version", func(m *Module) { m.Version = strings.Repeat("%", MaxStringTemplateChars+1) }, "modules.svc.version"},
		{"template characters in a default", func(m *Module) { m.Fields[0].Default = strings.Repeat("$", MaxStringTemplateChars+1) }, "modules.svc.defaults.policy"},
		{"long default", func(m *Module) { m.Fields[0].Default = strings.Repeat("p", MaxConfigStringBytes+1) }, "modules.svc.defaults.policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := limitsModule()
			tc.edit(&m)
			_, err := NewCatalog(m)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			for _, v := range ve.Violations {
				if v.Field == tc.field {
					return
				}
			}
			t.Errorf("violations %v, want one for %q", ve.Violations, tc.field)
		})
	}
}

func TestValidateConfig_LimitsAdmitRealConfigs(t *testing.T) {
	t.Parallel()
	c, err := NewCatalog(limitsModule())
	if err != nil {
		t.Fatal(err)
	}
	m, _ := c.Module("svc")
	tags := map[string]any{}
	for i := range 50 {
		tags["tag_"+strings.Repeat("x", i)] = "value"
	}
	cfg := map[string]any{
		"policy":   strings.Repeat(`{"Effect":"Allow","Action":"s3:GetObject"},`, 500), // ~20 KiB, a large bucket policy
		"subnets":  []any{"10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"},
		"tags":     tags,
		"settings": map[string]any{"rules": []any{nested(MaxConfigDepth - 4)}},
	}
	out, err := m.ValidateConfig(cfg)
	if err != nil {
		t.Fatalf("a real config is refused: %v", err)
	}
	if _, err := hclblocks.RenderModule(hclblocks.Module{Name: "svc_x", Source: m.Source, Inputs: out}); err != nil {
		t.Fatalf("a config within the limits does not render: %v", err)
	}
}

// FuzzValidateConfig checks that ValidateConfig never panics, and that a
// config it accepts is within the limits and renders.
func FuzzValidateConfig(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"policy":"x","subnets":["a"],"tags":{"a":"b"},"settings":{"a":[1,{"b":null}]}}`,
		`{"settings":` + strings.Repeat(`{"n":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`,
		`{"settings":` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `}`,
		`{"subnets":"not a list","unknown":1}`,
	} {
		f.Add([]byte(seed))
	}
	c, err := NewCatalog(limitsModule())
	if err != nil {
		f.Fatal(err)
	}
	m, _ := c.Module("svc")
	f.Fuzz(func(t *testing.T, data []byte) {
		var config map[string]any
		if json.Unmarshal(data, &config) != nil {
			return
		}
		out, err := m.ValidateConfig(config)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			return
		}
		if vs := checkConfigLimits(out); len(vs) > 0 {
			t.Fatalf("accepted a config past the limits: %v", vs)
		}
		if _, err := hclblocks.RenderModule(hclblocks.Module{Name: "svc_x", Source: m.Source, Inputs: out}); err != nil {
			t.Fatalf("accepted a config that does not render: %v", err)
		}
	})
}

// BenchmarkValidateConfig measures ValidateConfig, limits included, on a
// large real config (a 20 KiB policy string, 50 tags, a nested object).
func BenchmarkValidateConfig(b *testing.B) {
	c, err := NewCatalog(limitsModule())
	if err != nil {
		b.Fatal(err)
	}
	m, _ := c.Module("svc")
	tags := map[string]any{}
	for i := range 50 {
		tags["tag_"+strings.Repeat("x", i)] = "value"
	}
	cfg := map[string]any{
		"policy":   strings.Repeat(`{"Effect":"Allow","Action":"s3:GetObject"},`, 500),
		"subnets":  []any{"10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"},
		"tags":     tags,
		"settings": map[string]any{"rules": []any{nested(8)}},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.ValidateConfig(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
