package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/examples/connect-server/server"
)

func TestLoadConfig_TheDemoConfigBuildsAnEngineConfig(t *testing.T) {
	t.Parallel()
	c, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.engineConfig()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Catalog.Module("s3_bucket"); !ok {
		t.Error("the demo catalogue lacks s3_bucket")
	}
	if _, err := cfg.Targets.Target("payments", "dev"); err != nil {
		t.Errorf("payments/dev: %v", err)
	}
	// The naming policy is in force: a bucket outside the project's
	// prefix is refused.
	r := &tfpilot.Request{Project: "payments", Environment: "dev", Config: map[string]any{"bucket": "other-name"}}
	var got []tfpilot.FieldViolation
	for _, check := range cfg.Policy {
		got = append(got, check(r)...)
	}
	if len(got) == 0 {
		t.Error("the demo naming rule let other-name through")
	}
}

func TestLoadConfig_RefusesUnknownFieldsAndEmptyConfigs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"misspelt": `{"target": {}, "modules": []}`,
		"empty":    `{"targets": {}, "modules": []}`,
		"badmod":   `{"targets": {"p/e": {"owner": "o", "repo": "r"}}, "modules": [{"name": "Bad Name", "source": "x"}]}`,
	} {
		path := filepath.Join(dir, name+".json")
		os.WriteFile(path, []byte(body), 0o600)
		c, err := loadConfig(path)
		if err == nil {
			_, err = c.engineConfig()
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseFlags_EnvironmentDefaultsAndDemoMode(t *testing.T) {
	t.Setenv("TFPILOT_STORE", "postgres")
	t.Setenv("TFPILOT_LISTEN", "0.0.0.0:9000")
	t.Setenv("GITHUB_TOKEN", "")
	o, err := parseFlags([]string{"--listen", "127.0.0.1:1", "--github-token", "ghp_x"}, new(strings.Builder), new(strings.Builder))
	if err != nil {
		t.Fatal(err)
	}
	if o.store != "postgres" || o.listen != "127.0.0.1:1" || o.demo() {
		t.Errorf("store %q listen %q demo %v; want the env's store, the flag's address, no demo", o.store, o.listen, o.demo())
	}
	if _, err := parseFlags([]string{"stray"}, new(strings.Builder), new(strings.Builder)); err == nil {
		t.Error("a stray argument was accepted")
	}
	if _, _, _, err := openStore(t.Context(), options{store: "mongo"}, nil); err == nil {
		t.Error("--store mongo was accepted")
	}
	if _, _, _, err := openStore(t.Context(), options{store: "postgres"}, nil); err == nil || !strings.Contains(err.Error(), "postgres-dsn") {
		t.Errorf("--store postgres without a DSN: %v", err)
	}
}

func TestLoadConfig_ReviewersMapGitHubLoginsToPrincipalsWithTokenRoles(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.json")
	b, err := os.ReadFile("demo.json")
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), "{", `{"reviewers": {"Octo-Cat": "alice"},`, 1))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.engineConfig()
	if err != nil {
		t.Fatal(err)
	}
	withTokenRoles(cfg.Reviewers, []server.Token{{Login: "alice", Roles: []tfpilot.Role{tfpilot.RoleApprover}}, {Login: "bob", Roles: []tfpilot.Role{tfpilot.RoleAdmin}}})
	rules := tfpilot.ApprovalRules{Reviewers: cfg.Reviewers}
	p, ok := rules.Principal("octo-cat")
	if !ok || p.Login != "alice" || len(p.Roles) != 1 || p.Roles[0] != tfpilot.RoleApprover {
		t.Fatalf("octo-cat maps to %+v, %v; want alice with her token's approver role", p, ok)
	}
	if _, ok := rules.Principal("mallory"); ok {
		t.Fatal("an unmapped login maps to a principal")
	}
}
