package server_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/examples/connect-server/server"
)

func TestTokens_LookupFindsOnlyExactTokens(t *testing.T) {
	t.Parallel()
	ts, err := server.NewTokens([]server.Token{
		{Login: "alice", Roles: []tfpilot.Role{tfpilot.RoleAdmin}, Token: "alice-token-0123456789"},
		{Login: "bob", Roles: []tfpilot.Role{tfpilot.RoleViewer, tfpilot.RoleDeveloper}, Token: "bob-token-0123456789ab"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		token string
		login string // "" = refused
	}{
		{"alice-token-0123456789", "alice"},
		{"bob-token-0123456789ab", "bob"},
		{"alice-token-012345678", ""},   // a prefix
		{"alice-token-01234567890", ""}, // an extension
		{"ALICE-TOKEN-0123456789", ""},
		{"", ""},
	}
	for _, c := range cases {
		p, ok := ts.Lookup(c.token)
		if ok != (c.login != "") || p.Login != c.login {
			t.Errorf("Lookup(%q) = %q, %v; want %q", c.token, p.Login, ok, c.login)
		}
	}
	if p, _ := ts.Lookup("bob-token-0123456789ab"); !slices.Equal(p.Roles, []tfpilot.Role{tfpilot.RoleViewer, tfpilot.RoleDeveloper}) {
		t.Errorf("bob's roles = %v", p.Roles)
	}
}

func TestNewTokens_RejectsWeakDuplicateAndRolelessTokens(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		ts    []server.Token
		field string
	}{
		{"short", []server.Token{{Login: "a", Roles: []tfpilot.Role{tfpilot.RoleAdmin}, Token: "short"}}, "tokens[0].token"},
		{"no login", []server.Token{{Roles: []tfpilot.Role{tfpilot.RoleAdmin}, Token: "0123456789abcdef"}}, "tokens[0].login"},
		{"no role", []server.Token{{Login: "a", Token: "0123456789abcdef"}}, "tokens[0].roles"},
		{"unknown role", []server.Token{{Login: "a", Roles: []tfpilot.Role{"root"}, Token: "0123456789abcdef"}}, "tokens[0].roles"},
		{"duplicate", []server.Token{
			{Login: "a", Roles: []tfpilot.Role{tfpilot.RoleAdmin}, Token: "0123456789abcdef"},
			{Login: "b", Roles: []tfpilot.Role{tfpilot.RoleViewer}, Token: "0123456789abcdef"}}, "tokens[1].token"},
	}
	for _, c := range cases {
		_, err := server.NewTokens(c.ts)
		var v *tfpilot.ValidationError
		if !errors.As(err, &v) || !slices.ContainsFunc(v.Violations, func(f tfpilot.FieldViolation) bool { return f.Field == c.field }) {
			t.Errorf("%s: %v; want a violation on %s", c.name, err, c.field)
		}
	}
}

func TestParseTokenList_ReadsLoginRolesToken(t *testing.T) {
	t.Parallel()
	got, err := server.ParseTokenList(" alice:admin:tok:with:colons-0123 , bob:viewer+developer:bob-0123456789abcdef,")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Login != "alice" || got[0].Token != "tok:with:colons-0123" ||
		!slices.Equal(got[1].Roles, []tfpilot.Role{tfpilot.RoleViewer, tfpilot.RoleDeveloper}) {
		t.Errorf("ParseTokenList = %+v", got)
	}
	if _, err := server.ParseTokenList("alice-without-roles"); !errors.Is(err, tfpilot.ErrInvalid) {
		t.Errorf("malformed entry: %v, want ErrInvalid", err)
	}
}

func TestLoadTokenFile_RefusesUnknownFields(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"tokens":[{"login":"ci","roles":["developer"],"token":"ci-token-0123456789"}]}`), 0o600)
	ts, err := server.LoadTokenFile(good)
	if err != nil || len(ts) != 1 || ts[0].Login != "ci" {
		t.Fatalf("LoadTokenFile = %+v, %v", ts, err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"tokens":[{"login":"ci","role":"admin","token":"x"}]}`), 0o600)
	if _, err := server.LoadTokenFile(bad); !errors.Is(err, tfpilot.ErrInvalid) {
		t.Errorf("a misspelt field: %v, want ErrInvalid", err)
	}
}
