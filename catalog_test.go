package tfpilot

import (
	"errors"
	"reflect"
	"testing"
)

func s3Module() Module {
	return Module{
		Name: "s3_bucket", Source: "../../modules/s3-bucket", Version: "1.2.0",
		Fields: []Field{
			{Name: "bucket_name", Type: FieldString, Required: true, Pattern: `[a-z0-9-]{3,63}`},
			{Name: "versioning", Type: FieldBool, Default: true},
			{Name: "retention_days", Type: FieldNumber, Allowed: []any{7, 30, 90}},
			{Name: "region", Type: FieldString, Default: "eu-west-1"},
			{Name: "allowed_ips", Type: FieldList, Pattern: `[0-9.]+`},
			{Name: "tags", Type: FieldMap},
			{Name: "lifecycle", Type: FieldObject},
		},
	}
}

func violations(t *testing.T, err error) map[string]bool {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want *ValidationError", err)
	}
	out := map[string]bool{}
	for _, v := range ve.Violations {
		out[v.Field] = true
	}
	return out
}

func TestValidateConfig_NormalisesAndFillsDefaults(t *testing.T) {
	t.Parallel()
	c, err := NewCatalog(s3Module())
	if err != nil {
		t.Fatal(err)
	}
	m, _ := c.Module("s3_bucket")
	in := map[string]any{"bucket_name": "reports", "versioning": "false", "retention_days": "30", "allowed_ips": []any{"10.0.0.1"}, "tags": map[string]any{"team": "core"}}
	got, err := m.ValidateConfig(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"bucket_name": "reports", "versioning": false, "retention_days": 30.0, "region": "eu-west-1",
		"allowed_ips": []any{"10.0.0.1"}, "tags": map[string]any{"team": "core"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
	if in["versioning"] != "false" {
		t.Fatal("input modified")
	}
}

func TestValidateConfig_ReportsEveryFieldAtOnce(t *testing.T) {
	t.Parallel()
	c, _ := NewCatalog(s3Module())
	m, _ := c.Module("s3_bucket")
	_, err := m.ValidateConfig(map[string]any{
		"versioning": "maybe", "retention_days": 31, "allowed_ips": []any{"x"}, "tags": map[string]any{"n": 1},
		"lifecycle": "no", "colour": "red",
	})
	got := violations(t, err)
	for _, f := range []string{"config.bucket_name", "config.versioning", "config.retention_days", "config.allowed_ips", "config.tags", "config.lifecycle", "config.colour"} {
		if !got[f] {
			t.Errorf("no violation for %s (%v)", f, err)
		}
	}
	if got["config.region"] {
		t.Error("defaulted field reported")
	}
}

func TestValidateConfig_PatternIsAnchored(t *testing.T) {
	t.Parallel()
	c, _ := NewCatalog(s3Module())
	m, _ := c.Module("s3_bucket")
	for _, name := range []string{"ab", "UPPER", "ok-name\n}", `x" } resource "null_resource" "pwn" {`} {
		if _, err := m.ValidateConfig(map[string]any{"bucket_name": name}); err == nil {
			t.Errorf("bucket_name %q accepted", name)
		}
	}
}

func TestNewCatalog_RejectsBadDefinitions(t *testing.T) {
	t.Parallel()
	_, err := NewCatalog(
		Module{Name: "Bad Name", Source: "x"},
		Module{Name: "ok", Fields: []Field{
			{Name: "a", Type: FieldString}, {Name: "a", Type: FieldString},
			{Name: "for_each", Type: FieldString}, {Name: "b-c", Type: FieldString},
			{Name: "d", Type: "float"}, {Name: "e", Type: FieldString, Pattern: "("},
			{Name: "f", Type: FieldNumber, Default: "x"},
		}},
		Module{Name: "ok", Source: "y"},
	)
	got := violations(t, err)
	for _, f := range []string{"modules.Bad Name", "modules.ok.source", "modules.ok.fields.a", "modules.ok.fields.for_each",
		"modules.ok.fields.b-c", "modules.ok.fields.d", "modules.ok.fields.e", "modules.ok.fields.f", "modules.ok"} {
		if !got[f] {
			t.Errorf("no violation for %s", f)
		}
	}
}

func TestCatalog_ModulesSorted(t *testing.T) {
	t.Parallel()
	c, err := NewCatalog(Module{Name: "vpc", Source: "v"}, Module{Name: "s3", Source: "s"})
	if err != nil {
		t.Fatal(err)
	}
	ms := c.Modules()
	if len(ms) != 2 || ms[0].Name != "s3" || ms[1].Name != "vpc" {
		t.Fatalf("Modules = %v", ms)
	}
	if _, ok := c.Module("rds"); ok {
		t.Fatal("unknown module found")
	}
}
