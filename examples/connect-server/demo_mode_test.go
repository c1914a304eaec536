package main

import (
	"strings"
	"testing"
)

// TestDemoMode_OnlyOnPurpose: the demo (simulated GitHub, generated admin
// token, autopilot approving as demo-autopilot) runs when asked for with
// --demo or when nothing at all is configured; a store or GitHub setting
// without credentials refuses to start instead of falling back to it.
func TestDemoMode_OnlyOnPurpose(t *testing.T) {
	for _, name := range []string{"TFPILOT_STORE", "TFPILOT_DEMO", "GITHUB_TOKEN", "TFPILOT_GITHUB_TOKEN", "TFPILOT_GITHUB_URL",
		"TFPILOT_GITHUB_APP_ID", "TFPILOT_GITHUB_APP_INSTALLATION_ID", "TFPILOT_GITHUB_APP_KEY_FILE"} {
		t.Setenv(name, "")
	}
	tests := []struct {
		name     string
		args     []string
		wantDemo bool
		wantErr  string
	}{
		{"nothing configured: the one-command demo", nil, true, ""},
		{"explicit --demo", []string{"--demo"}, true, ""},
		{"explicit --demo on a persistent store", []string{"--demo", "--store", "postgres", "--postgres-dsn", "postgres://x"}, true, ""},
		{"persistent store without credentials", []string{"--store", "postgres", "--postgres-dsn", "postgres://x"}, false, "no GitHub credentials"},
		{"s3 store without credentials", []string{"--store", "s3", "--s3-bucket", "b"}, false, "no GitHub credentials"},
		{"memory store named without credentials", []string{"--store", "memory"}, false, "no GitHub credentials"},
		{"a GitHub URL without credentials", []string{"--github-url", "https://ghe.example.com/api/v3/"}, false, "no GitHub credentials"},
		{"persistent store with a token", []string{"--store", "postgres", "--github-token", "ghp_x"}, false, ""},
		{"--demo with GitHub credentials", []string{"--demo", "--github-token", "ghp_x"}, false, "simulated GitHub"},
	}
	for _, tt := range tests {
		o, err := parseFlags(tt.args, new(strings.Builder), new(strings.Builder))
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: err = %v, want one saying %q", tt.name, err, tt.wantErr)
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantErr == "" && o.demo() != tt.wantDemo:
			t.Errorf("%s: demo = %v, want %v", tt.name, o.demo(), tt.wantDemo)
		}
	}
}

// TestRun_PersistentStoreWithoutGitHubCredentialsRefusesToStart is the
// credential-less restart: a server that ran with --store postgres and a
// token, restarted without the token, must not start the demo autopilot
// on that store. It refuses before it touches the store or listens.
func TestRun_PersistentStoreWithoutGitHubCredentialsRefusesToStart(t *testing.T) {
	for _, name := range []string{"TFPILOT_STORE", "TFPILOT_DEMO", "GITHUB_TOKEN", "TFPILOT_GITHUB_TOKEN", "TFPILOT_GITHUB_APP_ID"} {
		t.Setenv(name, "")
	}
	t.Setenv("TFPILOT_TOKENS", "ops:admin:0123456789abcdef0123")
	var stdout, stderr strings.Builder
	err := run(t.Context(), []string{"--listen", "127.0.0.1:0", "--store", "postgres", "--postgres-dsn", "postgres://127.0.0.1:1/none"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "no GitHub credentials") || !strings.Contains(err.Error(), "--demo") {
		t.Fatalf("run = %v; want a refusal naming the missing credentials and --demo", err)
	}
	if strings.Contains(stdout.String(), "demo") {
		t.Fatalf("the demo started:\n%s", stdout.String())
	}
}
