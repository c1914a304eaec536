package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

// TestCheckFlag_ReportsEachProblemAndFails runs the server binary's
// --check against the fake GitHub: a repository set up with tfpilot's
// workflow templates is reported ready; one whose plan workflow declares
// the wrong inputs and lacks apply.yml gets one line per problem and a
// failing exit, without starting a server.
func TestCheckFlag_ReportsEachProblemAndFails(t *testing.T) {
	t.Parallel()
	fake := githubtest.New(githubtest.Options{})
	t.Cleanup(fake.Close)
	files := map[string]string{"envs/dev/main.tf": "# dev\n"}
	for _, f := range []string{"plan.yml", "apply.yml", "destroy.yml", "cleanup.yml", "drift-plan.yml"} {
		b, err := os.ReadFile("../../workflows/" + f)
		if err != nil {
			t.Fatal(err)
		}
		files[".github/workflows/"+f] = string(b)
	}
	if _, err := fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "good", Files: files}); err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{}
	for k, v := range files {
		bad[k] = v
	}
	delete(bad, ".github/workflows/apply.yml")
	bad[".github/workflows/plan.yml"] = strings.Replace(files[".github/workflows/plan.yml"], "      tfpilot_nonce:", "      nonce:", 1)
	wfs := githubtest.DefaultWorkflows()
	if _, err := fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "bad", Files: bad,
		Workflows: []githubtest.Workflow{wfs[0], wfs[2], wfs[3], wfs[4]}}); err != nil {
		t.Fatal(err)
	}

	config := func(t *testing.T, repo string) string {
		fc, err := loadConfig("")
		if err != nil {
			t.Fatal(err)
		}
		for k, tg := range fc.Targets {
			tg.Owner, tg.Repo, tg.Base = "acme", repo, ""
			fc.Targets[k] = tg
		}
		b, _ := json.Marshal(fc)
		p := filepath.Join(t.TempDir(), "config.json")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	check := func(repo string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"--check", "--config", config(t, repo),
			"--github-url", fake.URL(), "--github-insecure-http", "--github-token", "t", "--listen", "127.0.0.1:0"}, &out, &errOut)
		return out.String(), err
	}
	out, err := check("good")
	if err != nil || strings.TrimSpace(out) != "ok: acme/good is ready for tfpilot" {
		t.Fatalf("good: %v\n%s", err, out)
	}
	out, err = check("bad")
	if err == nil || !strings.Contains(err.Error(), "--check found 3 problem(s)") {
		t.Fatalf("bad: err = %v\n%s", err, out)
	}
	for _, want := range []string{
		`problem: acme/bad plan.yml: does not declare the input "tfpilot_nonce" that tfpilot sends`,
		`problem: acme/bad plan.yml: requires the input "nonce", which tfpilot does not send`,
		"problem: acme/bad apply.yml: workflow .github/workflows/apply.yml not found",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
