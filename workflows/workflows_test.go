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
	"strconv"
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
	Uses string            `yaml:"uses"`
	With map[string]string `yaml:"with"`
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
// README; each declares exactly the inputs tfpilot sends (request_id and
// tfpilot_nonce, required; apply also the optional saved-plan inputs,
// plan the optional plan_sha);
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
			// Every kind: request_id and tfpilot_nonce, required. Apply
			// also: the approved saved plan, optional (tfpilot sends it
			// when the plan reported a digest; the workflow refuses to
			// apply without it).
			want := map[string]bool{runs.InputRequestID: true, runs.InputNonce: true}
			if k == githubx.WorkflowApply {
				want[tfpilot.InputPlanRunID], want[tfpilot.InputPlanDigest] = false, false
			}
			// Plan also: the commit a pinned plan checks out, optional
			// (tfpilot sends it only to re-plan a merge commit).
			if k == githubx.WorkflowPlan {
				want[tfpilot.InputPlanSHA] = false
			}
			for n, in := range w.On.WorkflowDispatch.Inputs {
				required, ok := want[n]
				if !ok {
					t.Errorf("input %s is declared but tfpilot never sends it", n)
					continue
				}
				if in.Required != required || in.Type != "string" || in.Default != "" {
					t.Errorf("input %s: %+v, want a string without default, required=%v", n, in, required)
				}
			}
			for n := range want {
				if _, ok := w.On.WorkflowDispatch.Inputs[n]; !ok {
					t.Errorf("input %s not declared: GitHub refuses tfpilot's dispatch (Unexpected inputs provided)", n)
				}
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

// TestTemplates_ApplyAppliesTheSavedPlan: the plan template saves its plan
// file as an artifact and prints its digest where tfpilot reads it; the
// apply template refuses to run without the approved plan's inputs,
// downloads that run's artifact (under the name the plan template gives
// it), checks the digest and applies the file, never re-planning.
func TestTemplates_ApplyAppliesTheSavedPlan(t *testing.T) {
	t.Parallel()
	plan := load(t, "plan.yml").Jobs["plan"]
	var artifact string
	digestPrinted := false
	for _, s := range plan.Steps {
		if strings.HasPrefix(s.Uses, "actions/upload-artifact@") {
			artifact = s.With["name"]
		}
		digestPrinted = digestPrinted || strings.Contains(s.Run, "echo \"tfpilot-plan-digest: sha256:$digest\"")
	}
	if artifact != "tfplan-${{ inputs.request_id }}-${{ inputs.tfpilot_nonce }}" || !digestPrinted {
		t.Fatalf("plan.yml saves artifact %q, prints digest %v; want tfplan-<request_id>-<nonce> and the digest line", artifact, digestPrinted)
	}
	apply := load(t, "apply.yml").Jobs["apply"]
	order := []string{"check inputs", "download", "check digest", "apply"}
	var seen []string
	for _, s := range apply.Steps {
		switch {
		case strings.Contains(s.Run, "terraform apply"):
			if !strings.HasSuffix(strings.TrimSpace(s.Run), " tfplan") || strings.Contains(s.Run, "-auto-approve") {
				t.Errorf("apply step runs %q; want terraform apply of the saved plan file tfplan", s.Run)
			}
			seen = append(seen, "apply")
		case strings.HasPrefix(s.Uses, "actions/download-artifact@"):
			if s.With["run-id"] != "${{ inputs.plan_run_id }}" || s.With["pattern"] != "tfplan-${{ inputs.request_id }}-*" ||
				s.With["merge-multiple"] != "true" || s.With["path"] != "${{ needs.locate.outputs.env_dir }}" {
				t.Errorf("download step %+v; want the plan run's tfplan artifact into the environment directory", s.With)
			}
			seen = append(seen, "download")
		case s.Env["PLAN_DIGEST"] == "${{ inputs.plan_digest }}" && strings.Contains(s.Run, "sha256sum tfplan"):
			seen = append(seen, "check digest")
		case s.Env["PLAN_RUN_ID"] == "${{ inputs.plan_run_id }}" && strings.Contains(s.Run, "exit 1"):
			seen = append(seen, "check inputs")
		case strings.Contains(s.Run, "terraform plan"):
			t.Errorf("apply.yml re-plans (%q): it must apply the approved plan file", s.Run)
		}
	}
	if strings.Join(seen, ",") != strings.Join(order, ",") {
		t.Fatalf("apply.yml steps %v, want %v in this order", seen, order)
	}
}

// TestTemplates_ApplyDispatchCarriesTheSavedPlan: against a GitHub whose
// workflows declare what the templates declare, a whole request (plan with
// a digest, approve, merge, apply) is accepted, and the apply run gets the
// approved plan's run id and digest as inputs.
func TestTemplates_ApplyDispatchCarriesTheSavedPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := githubtest.New(githubtest.Options{})
	t.Cleanup(fake.Close)
	if _, err := fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra",
		Files: map[string]string{"envs/dev/main.tf": "# infra\n"}, Workflows: fakeWorkflows(t)}); err != nil {
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
	pilot, err := tfpilot.New(memstore.New(nil), gh, tfpilot.Config{
		Catalog:    catalog,
		Targets:    tfpilot.StaticTargets{"payments/dev": {Owner: "acme", Repo: "infra", EnvPath: "envs/dev"}},
		Authorizer: tfpilot.RoleAuthorizer{Developers: []string{"alice"}, Approvers: []string{"abe"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	alice := tfpilot.Caller{Principal: tfpilot.Principal{Login: "alice"}, IdempotencyKey: "k1"}
	abe := tfpilot.Caller{Principal: tfpilot.Principal{Login: "abe"}}
	r, err := pilot.Create(ctx, alice, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
		Config: map[string]any{"bucket_name": "reports"}})
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := runs.Current(r.Runs, runs.Plan)
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if err := fake.SetJobLogs(plan.RunID, "Plan: 1 to add, 0 to change, 0 to destroy.\ntfpilot-plan-digest: "+digest+"\n"); err != nil {
		t.Fatal(err)
	}
	if err := fake.Complete(plan.RunID, "success"); err != nil {
		t.Fatal(err)
	}
	if _, err := pilot.Sync(ctx, alice, r.ID); err != nil {
		t.Fatal(err)
	}
	for _, op := range []func(context.Context, tfpilot.Caller, string) (tfpilot.View, error){pilot.Approve, pilot.Merge, pilot.Apply} {
		if _, err := op(ctx, abe, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	var applies []githubtest.Run
	for _, run := range fake.Runs("acme", "infra") {
		if run.WorkflowFile == "apply.yml" {
			applies = append(applies, run)
		}
	}
	if len(applies) != 1 || applies[0].Inputs[tfpilot.InputPlanRunID] != strconv.FormatInt(plan.RunID, 10) ||
		applies[0].Inputs[tfpilot.InputPlanDigest] != digest {
		t.Fatalf("apply runs %+v; want one with plan_run_id %d and plan_digest %s", applies, plan.RunID, digest)
	}
}

// TestTemplates_PlanChecksOutAndReportsThePinnedCommit: both jobs of the
// plan template check out plan_sha when tfpilot pins one (else the run's
// own commit), and the plan job prints the commit it checked out where
// tfpilot reads it, before Terraform plans.
func TestTemplates_PlanChecksOutAndReportsThePinnedCommit(t *testing.T) {
	t.Parallel()
	w := load(t, "plan.yml")
	const ref = "${{ inputs.plan_sha || github.sha }}"
	for name, j := range w.Jobs {
		checkouts := 0
		for _, s := range j.Steps {
			if strings.HasPrefix(s.Uses, "actions/checkout@") {
				checkouts++
				if s.With["ref"] != ref {
					t.Errorf("job %s checks out %q, want %q", name, s.With["ref"], ref)
				}
			}
		}
		if checkouts != 1 {
			t.Errorf("job %s has %d checkouts, want 1", name, checkouts)
		}
	}
	var order []string
	for _, s := range w.Jobs["plan"].Steps {
		switch {
		case strings.HasPrefix(s.Uses, "actions/checkout@"):
			order = append(order, "checkout")
		case strings.Contains(s.Run, `echo "tfpilot-planned-commit: $(git rev-parse HEAD)"`):
			order = append(order, "report")
		case strings.Contains(s.Run, "terraform plan"):
			order = append(order, "plan")
		}
	}
	if strings.Join(order, ",") != "checkout,report,plan" {
		t.Fatalf("plan job steps %v, want checkout, report the planned commit, plan", order)
	}
}

// TestTemplates_AcceptTheReplanAtAMergeCommit: against a GitHub whose
// workflows declare what the templates declare, the plan tfpilot pins to
// a merge commit whose tree differs from the planned one is accepted and
// carries plan_sha; a plan workflow that does not declare plan_sha (an
// older template) refuses it with GitHub's 422, recorded on the request.
func TestTemplates_AcceptTheReplanAtAMergeCommit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		declared bool
	}{{"templates", true}, {"plan.yml without plan_sha", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			wfs := fakeWorkflows(t)
			if !tc.declared {
				for i := range wfs {
					if wfs[i].File == "plan.yml" {
						wfs[i].Inputs = githubtest.DefaultInputs()
					}
				}
			}
			fake := githubtest.New(githubtest.Options{})
			t.Cleanup(fake.Close)
			if _, err := fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra",
				Files: map[string]string{"envs/dev/main.tf": "# infra\n"}, Workflows: wfs}); err != nil {
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
				Authorizer: tfpilot.RoleAuthorizer{Developers: []string{"alice"}, Approvers: []string{"abe"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			alice := tfpilot.Caller{Principal: tfpilot.Principal{Login: "alice"}}
			abe := tfpilot.Caller{Principal: tfpilot.Principal{Login: "abe"}}
			r, err := pilot.Create(ctx, alice, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
				Config: map[string]any{"bucket_name": "reports"}})
			if err != nil {
				t.Fatal(err)
			}
			plan, _ := runs.Current(r.Runs, runs.Plan)
			if err := fake.Complete(plan.RunID, "success"); err != nil {
				t.Fatal(err)
			}
			if _, err := pilot.Sync(ctx, alice, r.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := pilot.Approve(ctx, abe, r.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := fake.As("bob").Push("acme", "infra", "main", "another change", map[string]string{"envs/dev/other.tf": "# other\n"}); err != nil {
				t.Fatal(err)
			}
			merge, err := pilot.Merge(ctx, abe, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			replan, _ := runs.Current(merge.Runs, runs.Plan)
			if replan.Attempt != 2 || replan.PinnedSHA == "" || replan.PinnedSHA != merge.MergedSHA {
				t.Fatalf("plan attempt %+v, want attempt 2 pinned to the merge commit %s", replan, merge.MergedSHA)
			}
			if !tc.declared {
				if replan.RunID != 0 || replan.Conclusion == "" {
					t.Fatalf("plan attempt %+v; want it concluded as refused, with no run", replan)
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
					t.Fatalf("events %+v; want plan_dispatch_failed carrying GitHub's 422 refusal of plan_sha", evs)
				}
				return
			}
			run, err := fake.Run(replan.RunID)
			if err != nil || run.WorkflowFile != "plan.yml" || run.HeadBranch != "main" || run.Inputs[tfpilot.InputPlanSHA] != merge.MergedSHA {
				t.Fatalf("re-plan run %+v (%v), want plan.yml on main with plan_sha %s", run, err, merge.MergedSHA)
			}
		})
	}
}
