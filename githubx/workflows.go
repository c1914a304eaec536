package githubx

import (
	"path"
	"strings"

	"github.com/tfpilot/tfpilot/runs"
)

// WorkflowKind is an alias of [runs.Kind], the one workflow-kind type of
// tfpilot, kept for existing users. Its Valid method holds only for the
// attempt kinds (plan, apply, destroy); [runs.Kind.Known] holds for all
// five.
type WorkflowKind = runs.Kind

// The workflow kinds tfpilot dispatches or observes, as aliases of the
// [runs.Kind] constants.
const (
	WorkflowPlan    = runs.Plan
	WorkflowApply   = runs.Apply
	WorkflowDestroy = runs.Destroy
	WorkflowCleanup = runs.Cleanup
	WorkflowDrift   = runs.Drift
)

// Workflows names the workflow file (under .github/workflows) of each
// kind. An empty field means the default of [DefaultWorkflows].
type Workflows struct {
	Plan    string // default "plan.yml"
	Apply   string // default "apply.yml"
	Destroy string // default "destroy.yml"
	Cleanup string // default "cleanup.yml"
	Drift   string // default "drift-plan.yml"
}

// DefaultWorkflows returns the file names tfpilot infra repositories use.
func DefaultWorkflows() Workflows {
	return Workflows{Plan: "plan.yml", Apply: "apply.yml", Destroy: "destroy.yml", Cleanup: "cleanup.yml", Drift: "drift-plan.yml"}
}

func (w Workflows) withDefaults() Workflows {
	d := DefaultWorkflows()
	for _, p := range []struct{ v, d *string }{{&w.Plan, &d.Plan}, {&w.Apply, &d.Apply}, {&w.Destroy, &d.Destroy}, {&w.Cleanup, &d.Cleanup}, {&w.Drift, &d.Drift}} {
		if *p.v == "" {
			*p.v = *p.d
		}
	}
	return w
}

// File returns the workflow file name of kind k, or "" for an unknown kind.
func (w Workflows) File(k WorkflowKind) string {
	w = w.withDefaults()
	switch k {
	case WorkflowPlan:
		return w.Plan
	case WorkflowApply:
		return w.Apply
	case WorkflowDestroy:
		return w.Destroy
	case WorkflowCleanup:
		return w.Cleanup
	case WorkflowDrift:
		return w.Drift
	}
	return ""
}

// order puts drift first so a name such as "drift plan" is not taken for
// a plan.
var order = []WorkflowKind{WorkflowDrift, WorkflowCleanup, WorkflowDestroy, WorkflowApply, WorkflowPlan}

// Classify returns the kind of a workflow run from its workflow path (the
// run's "path", e.g. ".github/workflows/plan.yml", possibly followed by
// "@ref") and, when the path matches nothing, its workflow name (e.g.
// "Plan", "drift-plan"). It reports false when neither matches.
func (w Workflows) Classify(workflowPath, name string) (WorkflowKind, bool) {
	w = w.withDefaults()
	if p, _, _ := strings.Cut(workflowPath, "@"); p != "" {
		base := strings.ToLower(path.Base(p))
		for _, k := range order {
			if strings.ToLower(w.File(k)) == base {
				return k, true
			}
		}
	}
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.NewReplacer(" ", "-", "_", "-").Replace(n)
	if n == "" {
		return "", false
	}
	for _, k := range order {
		stem := strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(w.File(k), ".yml"), ".yaml"))
		if n == stem || n == string(k) {
			return k, true
		}
	}
	return "", false
}
