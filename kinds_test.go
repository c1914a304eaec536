package tfpilot_test

import (
	"testing"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/webhook"
)

// TestWorkflowKindAndRepo_OneTypeAcrossRunsGithubxAndWebhook: githubx and
// webhook name the same workflow-kind and repository types as runs, so a
// kind githubx classifies is the webhook's and the attempts' kind, and a
// repository passes between them, with no conversion.
func TestWorkflowKindAndRepo_OneTypeAcrossRunsGithubxAndWebhook(t *testing.T) {
	t.Parallel()
	wf := githubx.DefaultWorkflows()
	for _, k := range runs.WorkflowKinds() {
		var w webhook.Kind = k
		var g githubx.WorkflowKind = w
		got, ok := wf.Classify(".github/workflows/"+wf.File(g), "")
		if !ok || got != k {
			t.Errorf("%s: classified as %q, %v", k, got, ok)
		}
	}
	for _, c := range []struct{ gh, wh, r runs.Kind }{
		{githubx.WorkflowPlan, webhook.KindPlan, runs.Plan},
		{githubx.WorkflowApply, webhook.KindApply, runs.Apply},
		{githubx.WorkflowDestroy, webhook.KindDestroy, runs.Destroy},
		{githubx.WorkflowCleanup, webhook.KindCleanup, runs.Cleanup},
		{githubx.WorkflowDrift, webhook.KindDrift, runs.Drift},
	} {
		if c.gh != c.r || c.wh != c.r {
			t.Errorf("githubx %q, webhook %q, runs %q differ", c.gh, c.wh, c.r)
		}
	}
	var repo githubx.Repo = webhook.Repo{Owner: "acme", Name: "infra"}
	var back webhook.Repo = repo
	if back.String() != "acme/infra" {
		t.Errorf("repo %q", back)
	}
}
