// Package workflows_test checks the workflow templates in this folder
// against what tfpilot sends and expects: file names (githubx's defaults,
// which the engine uses), the dispatch inputs, the run name, the
// concurrency group, and that a request dispatches against a fake GitHub
// whose workflows declare exactly what these files declare.
package workflows_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store/memstore"
)

type input struct {
	Required bool   `yaml:"required"`
	Type     string `yaml:"type"`
	Default  string `yaml:"default"`
}

type step struct {
	Name string            `yaml:"name"`
	Run  string            `yaml:"run"`
	Env  map[string]string `yaml:"env"`
}

type job struct {
	Needs       any `yaml:"needs"`
	Concurrency *struct {
		Group            string `yaml:"group"`
		CancelInProgress bool   `yaml:"cancel-in-progress"`
	} `yaml:"concurrency"`
	Steps []step `yaml:"steps"`
}

type workflow struct {
	Name    string `yaml:"name"`
	RunName string `yaml:"run-name"`
	On      struct {
		WorkflowDispatch *struct {
			Inputs map[string]input `yaml:"inputs"`
		} `yaml:"workflow_dispatch"`
	} `yaml:"on"`
	Jobs map[string]job `yaml:"jobs"`
}

func load(t *testing.T, file string) workflow {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(false)
	if err := dec.Decode(&w); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return w
}

// kinds are the workflows tfpilot knows, by githubx kind.
var kinds = []githubx.WorkflowKind{githubx.WorkflowPlan, githubx.WorkflowApply, githubx.WorkflowDestroy,
	githubx.WorkflowCleanup, githubx.WorkflowDrift}

// TestTemplates_MatchTheDispatchContract: one template per kind, named as
// githubx (and so the engine's default Config.Workflows) names it, with a
// README; each declares exactly the inputs tfpilot sends, both required;
// each has the run name runs.RunName produces; each Terraform job joins the
// per-target concurrency group; classification maps each file to its kind.
func TestTemplates_MatchTheDispatchContract(t *testing.T) {
	t.Parallel()
	files := githubx.DefaultWorkflows()
	matches, _ := filepath.Glob("*.yml")
	var want []string
	for _, k := range kinds {
		want = append(want, files.File(k))
	}
	sort.Strings(want)
	sort.Strings(matches)
	if strings.Join(matches, " ") != strings.Join(want, " ") {
		t.Fatalf("templates %v, want exactly githubx's default files %v", matches, want)
	}
	for _, k := range kinds {
		file := files.File(k)
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(strings.TrimSuffix(file, ".yml") + ".md"); err != nil {
				t.Errorf("no README for %s: %v", file, err)
			}
			w := load(t, file)
			if got, ok := files.Classify(".github/workflows/"+file, w.Name); !ok || got != k {
				t.Errorf("Classify(%s, %q) = %q, %v; want %q", file, w.Name, got, ok, k)
			}
			if w.On.WorkflowDispatch == nil {
				t.Fatal("no workflow_dispatch trigger")
			}
			var names []string
			for n, in := range w.On.WorkflowDispatch.Inputs {
				names = append(names, n)
				if !in.Required || in.Type != "string" || in.Default != "" {
					t.Errorf("input %s: %+v, want a required string without default", n, in)
				}
			}
			sort.Strings(names)
			if strings.Join(names, ",") != runs.InputRequestID+","+runs.InputNonce {
				t.Errorf("inputs %v, want exactly %s and %s (tfpilot sends these; GitHub refuses undeclared inputs)",
					names, runs.InputRequestID, runs.InputNonce)
			}
			// The run name, evaluated as GitHub does, is runs.RunName.
			expr := regexp.MustCompile(`\$\{\{\s*inputs\.([A-Za-z0-9_]+)\s*\}\}`)
			vals := map[string]string{runs.InputRequestID: "req-abc", runs.InputNonce: "n0nce"}
			title := expr.ReplaceAllStringFunc(w.RunName, func(m string) string { return vals[expr.FindStringSubmatch(m)[1]] })
			if title != runs.RunName("req-abc", "n0nce") {
				t.Errorf("run-name %q gives %q, want %q", w.RunName, title, runs.RunName("req-abc", "n0nce"))
			}
			if id, nonce, ok := runs.ParseRunName(title); !ok || id != "req-abc" || nonce != "n0nce" {
				t.Errorf("ParseRunName(%q) = %q, %q, %v", title, id, nonce, ok)
			}
			if _, ok := w.Jobs["locate"]; !ok {
				t.Error("no locate job")
			}
			terraformJobs := 0
			for name, j := range w.Jobs {
				for _, s := range j.Steps {
					// Inputs and job outputs reach scripts through env,
					// never pasted into the script (script injection).
					if strings.Contains(s.Run, "${{") {
						t.Errorf("job %s step %q interpolates an expression into its script", name, s.Name)
					}
				}
				if name == "locate" {
					continue
				}
				terraformJobs++
				c := j.Concurrency
				if c == nil || c.Group != "tfpilot-${{ github.repository }}-${{ needs.locate.outputs.env_dir }}" || c.CancelInProgress {
					t.Errorf("job %s concurrency %+v, want the per-target group without cancel-in-progress", name, c)
				}
				if j.Needs != "locate" {
					t.Errorf("job %s needs %v, want locate", name, j.Needs)
				}
			}
			if terraformJobs != 1 {
				t.Errorf("%d Terraform jobs, want 1 (tfpilot reads one job's log)", terraformJobs)
			}
		})
	}
}

// fakeWorkflows declares, in the fake, the workflows as the template files
// declare them: file, name, run-name and inputs.
func fakeWorkflows(t *testing.T) []githubtest.Workflow {
	t.Helper()
	files := githubx.DefaultWorkflows()
	var out []githubtest.Workflow
	for _, k := range kinds {
		w := load(t, files.File(k))
		fw := githubtest.Workflow{File: files.File(k), Name: w.Name, RunName: w.RunName, Inputs: []githubtest.WorkflowInput{}}
		for n, in := range w.On.WorkflowDispatch.Inputs {
			fw.Inputs = append(fw.Inputs, githubtest.WorkflowInput{Name: n, Required: in.Required, Default: in.Default})
		}
		out = append(out, fw)
	}
	return out
}

// TestTemplates_AcceptTheEnginesDispatch: the engine's plan dispatch is
// accepted by a GitHub whose workflows declare what the templates declare,
// and the run it starts is named runs.RunName(request, nonce); a workflow
// declaring the input githubx/doc.go used to show ("nonce") is refused
// with GitHub's 422, which the engine records as a failed dispatch.
func TestTemplates_AcceptTheEnginesDispatch(t *testing.T) {
	t.Parallel()
	good := fakeWorkflows(t)
	bad := fakeWorkflows(t)
	for i := range bad {
		bad[i].Inputs = []githubtest.WorkflowInput{{Name: "request_id", Required: true}, {Name: "nonce", Required: true}}
	}
	for _, tc := range []struct {
		name     string
		wfs      []githubtest.Workflow
		accepted bool
	}{{"templates", good, true}, {"old doc snippet declaring nonce", bad, false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			fake := githubtest.New(githubtest.Options{})
			t.Cleanup(fake.Close)
			if _, err := fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra",
				Files: map[string]string{"envs/dev/main.tf": "# infra\n"}, Workflows: tc.wfs}); err != nil {
				t.Fatal(err)
			}
			gh, err := githubx.New(githubx.Options{BaseURL: fake.URL(), Token: "token", AllowInsecureHTTP: true})
			if err != nil {
				t.Fatal(err)
			}
			catalog, err := tfpilot.NewCatalog(tfpilot.Module{Name: "s3_bucket", Source: "../../modules/s3-bucket",
				Fields: []tfpilot.Field{{Name: "bucket_name", Type: tfpilot.FieldString, Required: true}}})
			if err != nil {
				t.Fatal(err)
			}
			store := memstore.New(nil)
			pilot, err := tfpilot.New(store, gh, tfpilot.Config{
				Catalog:    catalog,
				Targets:    tfpilot.StaticTargets{"payments/dev": {Owner: "acme", Repo: "infra", EnvPath: "envs/dev"}},
				Authorizer: tfpilot.RoleAuthorizer{Developers: []string{"alice"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			alice := tfpilot.Caller{Principal: tfpilot.Principal{Login: "alice"}, IdempotencyKey: "k1"}
			r, err := pilot.Create(ctx, alice, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
				Config: map[string]any{"bucket_name": "reports"}})
			got := fake.Runs("acme", "infra")
			if !tc.accepted {
				// The request is stored before GitHub is asked, so Create
				// answers it; GitHub's refusal is recorded on the request.
				if err != nil {
					t.Fatalf("Create = %v; want the stored request, with the refusal recorded on it", err)
				}
				if a, ok := runs.Current(r.Runs, runs.Plan); !ok || a.RunID != 0 || a.Conclusion == "" {
					t.Fatalf("plan attempt %+v; want it concluded as refused, with no run", a)
				}
				evs, err := store.ListEvents(ctx, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				refused := false
				for _, ev := range evs {
					msg, _ := ev.Data["error"].(string)
					refused = refused || ev.Event == "plan_dispatch_failed" && strings.Contains(msg, "Unexpected inputs provided")
				}
				if !refused {
					t.Fatalf("events %+v; want plan_dispatch_failed carrying GitHub's 422 refusal of tfpilot_nonce", evs)
				}
				if len(got) != 0 {
					t.Fatalf("GitHub started %d runs for a workflow that does not declare tfpilot_nonce", len(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a, ok := runs.Current(r.Runs, runs.Plan)
			if len(got) != 1 || !ok || got[0].ID != a.RunID || got[0].DisplayTitle != runs.RunName(r.ID, a.Nonce) {
				t.Fatalf("runs %+v; attempt %+v", got, a)
			}
			if got[0].WorkflowFile != "plan.yml" || got[0].HeadBranch != r.BranchName {
				t.Fatalf("plan ran %s on %s, want plan.yml on %s", got[0].WorkflowFile, got[0].HeadBranch, r.BranchName)
			}
		})
	}
}
