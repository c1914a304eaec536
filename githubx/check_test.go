package githubx_test

import (
	"os"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

// templateFiles returns the repository's workflow templates as the files
// of an infra repository.
func templateFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{"envs/dev/main.tf": "# dev\n"}
	for _, f := range []string{"plan.yml", "apply.yml", "destroy.yml", "cleanup.yml", "drift-plan.yml"} {
		b, err := os.ReadFile("../workflows/" + f)
		if err != nil {
			t.Fatal(err)
		}
		files[".github/workflows/"+f] = string(b)
	}
	return files
}

// TestCheckSetup_ReportsEachProblemClearly: a repository with tfpilot's
// workflow templates passes; each way a real organisation gets it wrong is
// reported, naming the workflow and what GitHub would do.
func TestCheckSetup_ReportsEachProblemClearly(t *testing.T) {
	t.Parallel()
	oldSnippet := `on:
  workflow_dispatch:
    inputs:
      request_id: {required: true}
      nonce: {required: true}
      environment: {required: true}
run-name: tfpilot ${{ inputs.request_id }} ${{ inputs.tfpilot_nonce }}
jobs: {}
`
	cases := []struct {
		name string
		edit func(files map[string]string, wfs []githubtest.Workflow) []githubtest.Workflow
		repo string
		base string
		want []string // each a part of one problem, in order
	}{
		{name: "templates pass", edit: func(f map[string]string, w []githubtest.Workflow) []githubtest.Workflow { return w }},
		{name: "missing apply workflow", edit: func(f map[string]string, w []githubtest.Workflow) []githubtest.Workflow {
			delete(f, ".github/workflows/apply.yml")
			return []githubtest.Workflow{w[0], w[2], w[3], w[4]}
		}, want: []string{"acme/infra apply.yml: workflow .github/workflows/apply.yml not found: tfpilot dispatches it for apply"}},
		{name: "old doc snippet", edit: func(f map[string]string, w []githubtest.Workflow) []githubtest.Workflow {
			f[".github/workflows/plan.yml"] = oldSnippet
			return w
		}, want: []string{
			`plan.yml: does not declare the input "tfpilot_nonce" that tfpilot sends: GitHub refuses the dispatch (422 Unexpected inputs provided)`,
			`plan.yml: requires the input "environment", which tfpilot does not send`,
			`plan.yml: requires the input "nonce", which tfpilot does not send`,
			`plan.yml: does not declare the input "plan_sha" that tfpilot sends to plan a merge commit`,
		}},
		{name: "plan without the pinned commit input", edit: func(f map[string]string, w []githubtest.Workflow) []githubtest.Workflow {
			f[".github/workflows/plan.yml"] = strings.Replace(f[".github/workflows/plan.yml"], "      plan_sha:\n", "      plan_sha_old:\n", 1)
			return w
		}, want: []string{`plan.yml: does not declare the input "plan_sha" that tfpilot sends to plan a merge commit whose tree differs from the planned one`}},
		{name: "apply without the saved plan inputs", edit: func(f map[string]string, w []githubtest.Workflow) []githubtest.Workflow {
			f[".github/workflows/apply.yml"] = strings.Replace(f[".github/workflows/apply.yml"], "      plan_digest:\n", "      plan_digest_old:\n", 1)
			return w
		}, want: []string{`apply.yml: does not declare the input "plan_digest" that tfpilot sends to apply the approved saved plan`}},
		{name: "run name without the nonce", edit: func(f map[string]string, w []githubtest.Workflow) []githubtest.Workflow {
			f[".github/workflows/destroy.yml"] = strings.Replace(f[".github/workflows/destroy.yml"],
				"run-name: tfpilot ${{ inputs.request_id }} ${{ inputs.tfpilot_nonce }}", "run-name: Destroy ${{ inputs.request_id }}", 1)
			return w
		}, want: []string{`destroy.yml: run-name "Destroy ${{ inputs.request_id }}" does not carry the request and nonce`}},
		{name: "no dispatch trigger", edit: func(f map[string]string, w []githubtest.Workflow) []githubtest.Workflow {
			f[".github/workflows/drift-plan.yml"] = "on: [push]\njobs: {}\n"
			return w
		}, want: []string{"drift-plan.yml: has no workflow_dispatch trigger"}},
		{name: "unknown repository", repo: "nope", want: []string{"acme/nope: cannot read the repository"}},
		{name: "unknown base branch", base: "trunk", want: []string{`acme/infra: base branch "trunk" not found`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := githubtest.New(githubtest.Options{})
			t.Cleanup(f.Close)
			files := templateFiles(t)
			wfs := githubtest.DefaultWorkflows()
			if tc.edit != nil {
				wfs = tc.edit(files, wfs)
			}
			if _, err := f.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra", Files: files, Workflows: wfs}); err != nil {
				t.Fatal(err)
			}
			c, err := githubx.New(githubx.Options{BaseURL: f.URL(), Token: "t", AllowInsecureHTTP: true})
			if err != nil {
				t.Fatal(err)
			}
			name := "infra"
			if tc.repo != "" {
				name = tc.repo
			}
			problems, err := c.CheckSetup(ctx(t), githubx.Repo{Owner: "acme", Name: name}, tc.base)
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) != len(tc.want) {
				t.Fatalf("problems %q, want %d: %q", problems, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(problems[i].String(), w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, problems[i].String(), w)
				}
			}
		})
	}
}
