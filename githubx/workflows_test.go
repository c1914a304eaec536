package githubx_test

import (
	"testing"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

func TestWorkflows_ClassifyByPathThenName(t *testing.T) {
	t.Parallel()
	custom := githubx.Workflows{Plan: "tf-plan.yaml"}
	cases := []struct {
		name      string
		w         githubx.Workflows
		path, wfn string
		want      githubx.WorkflowKind
		ok        bool
	}{
		{"plan path", githubx.Workflows{}, ".github/workflows/plan.yml", "", githubx.WorkflowPlan, true},
		{"apply path", githubx.Workflows{}, ".github/workflows/apply.yml", "Plan", githubx.WorkflowApply, true},
		{"destroy path", githubx.Workflows{}, ".github/workflows/destroy.yml", "", githubx.WorkflowDestroy, true},
		{"cleanup path", githubx.Workflows{}, ".github/workflows/cleanup.yml", "", githubx.WorkflowCleanup, true},
		{"drift path", githubx.Workflows{}, ".github/workflows/drift-plan.yml", "", githubx.WorkflowDrift, true},
		{"path with ref suffix", githubx.Workflows{}, "acme/infra/.github/workflows/apply.yml@refs/heads/main", "", githubx.WorkflowApply, true},
		{"case-insensitive", githubx.Workflows{}, ".github/workflows/Plan.YML", "", githubx.WorkflowPlan, true},
		{"name fallback", githubx.Workflows{}, "", "Destroy", githubx.WorkflowDestroy, true},
		{"drift name is not plan", githubx.Workflows{}, "", "Drift plan", githubx.WorkflowDrift, true},
		{"unknown", githubx.Workflows{}, ".github/workflows/test.yml", "test", "", false},
		{"custom file", custom, ".github/workflows/tf-plan.yaml", "", githubx.WorkflowPlan, true},
		{"custom replaces default", custom, ".github/workflows/plan.yml", "", "", false},
		{"custom keeps other defaults", custom, ".github/workflows/apply.yml", "", githubx.WorkflowApply, true},
	}
	for _, tc := range cases {
		got, ok := tc.w.Classify(tc.path, tc.wfn)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: Classify(%q, %q) = %q, %v; want %q, %v", tc.name, tc.path, tc.wfn, got, ok, tc.want, tc.ok)
		}
	}
}

// The fake's default workflows and githubx's defaults must agree, or runs
// dispatched in tests would not classify.
func TestWorkflows_DefaultsMatchTheFake(t *testing.T) {
	t.Parallel()
	w := githubx.DefaultWorkflows()
	for _, fw := range githubtest.DefaultWorkflows() {
		k, ok := w.Classify(".github/workflows/"+fw.File, fw.Name)
		if !ok || w.File(k) != fw.File || !k.Known() {
			t.Errorf("fake workflow %s classifies as %q, %v", fw.File, k, ok)
		}
	}
}

func FuzzWorkflows_Classify(f *testing.F) {
	for _, s := range []string{".github/workflows/plan.yml", "x/.github/workflows/apply.yml@refs/heads/main", "Drift plan", "", "@", "/"} {
		f.Add(s, s)
	}
	w := githubx.DefaultWorkflows()
	f.Fuzz(func(t *testing.T, path, name string) {
		k, ok := w.Classify(path, name)
		if ok != k.Known() {
			t.Fatalf("Classify(%q, %q) = %q, %v", path, name, k, ok)
		}
		if ok && w.File(k) == "" {
			t.Fatalf("kind %q has no file", k)
		}
	})
}
