package tfpilot_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
)

// TestPilot_UpdateConfigRerendersRecommitsReplansAndResetsApproval: a new
// config lands in the block on the branch as a new commit, the PR's head
// follows, a plan of that commit becomes current, and the approval given
// for the old change is gone.
func TestPilot_UpdateConfigRerendersRecommitsReplansAndResetsApproval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	e.finish(r.ID, runs.Plan, "success")
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	e.want(r.ID, lifecycle.Approved)

	u, err := e.pilot.UpdateConfig(e.ctx, dev, r.ID, map[string]any{"bucket_name": "reports-v2", "versioning": "false"})
	if err != nil {
		t.Fatal(err)
	}
	if u.CommitSHA == "" || u.CommitSHA == r.CommitSHA || u.PR.HeadSHA != u.CommitSHA {
		t.Fatalf("commit %q (was %q), PR head %q", u.CommitSHA, r.CommitSHA, u.PR.HeadSHA)
	}
	if u.Approval != nil && u.Approval.Approved {
		t.Fatal("approval survived a config change")
	}
	plan, _ := runs.Current(u.Runs, runs.Plan)
	if plan.Attempt != 2 || plan.HeadSHA != u.CommitSHA || plan.RunID == 0 {
		t.Fatalf("current plan %+v, want attempt 2 of %s", plan, u.CommitSHA)
	}
	if u.Config["bucket_name"] != "reports-v2" || u.Config["versioning"] != false {
		t.Fatalf("config %v", u.Config)
	}
	file, err := e.fake.File("acme", "infra", r.BranchName, "envs/dev/tfpilot.tf")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(file, baseFile) || strings.Count(file, "# tfpilot:begin/"+r.ID) != 1 ||
		!strings.Contains(file, `bucket_name = "reports-v2"`) || strings.Contains(file, `"reports"`) {
		t.Fatalf("file on branch after update:\n%s", file)
	}
	e.want(r.ID, lifecycle.Planning)
	if n := len(e.runsOf("plan.yml")); n != 2 {
		t.Fatalf("%d plan runs, want 2", n)
	}

	// Invalid config: every field reported, nothing written.
	before, _ := e.store.GetRequest(e.ctx, r.ID)
	_, err = e.pilot.UpdateConfig(e.ctx, dev, r.ID, map[string]any{"bucket_name": "X", "colour": "red"})
	var ve *tfpilot.ValidationError
	if !errors.As(err, &ve) || len(ve.Violations) != 2 {
		t.Fatalf("invalid config: %v", err)
	}
	// A plan still running is a gate.
	if _, err := e.pilot.UpdateConfig(e.ctx, dev, r.ID, map[string]any{"bucket_name": "reports-v3"}); !errors.Is(err, tfpilot.ErrPrecondition) {
		t.Fatalf("update while planning: %v", err)
	}
	after, _ := e.store.GetRequest(e.ctx, r.ID)
	if after.Version != before.Version {
		t.Fatal("a refused update wrote the request")
	}
	// After the merge, the config is frozen.
	e.finish(r.ID, runs.Plan, "success")
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	mustOK(t, e, e.pilot.Merge, approver, r.ID)
	if _, err := e.pilot.UpdateConfig(e.ctx, dev, r.ID, map[string]any{"bucket_name": "reports-v3"}); !errors.Is(err, tfpilot.ErrPrecondition) {
		t.Fatalf("update after merge: %v", err)
	}
	// A viewer is refused before the config is looked at.
	if _, err := e.pilot.UpdateConfig(e.ctx, viewer, r.ID, map[string]any{"colour": "red"}); !errors.Is(err, tfpilot.ErrPermissionDenied) {
		t.Fatalf("viewer update: %v", err)
	}
}
