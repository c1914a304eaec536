package webhooktest_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"testing"

	"github.com/tfpilot/tfpilot/webhook/webhooktest"
)

// The fixtures are part of the module: a fresh clone with nothing beside
// it has every payload the tests read (issue 17: they used to be read
// from outside the repository, and tests failed from any other checkout).
func TestFixtures_LiveInsideTheModule(t *testing.T) {
	t.Parallel()
	want := []string{
		"ping.json",
		"pull_request.closed.json", "pull_request.opened.json", "pull_request.synchronize.json",
		"pull_request_review.submitted.json",
		"workflow_job.in_progress.json",
		"workflow_run.completed.json", "workflow_run.requested.json",
	}
	got := map[string]bool{}
	for _, n := range webhooktest.FixtureNames() {
		got[n] = true
	}
	for _, n := range want {
		if !got[n] {
			t.Errorf("fixture %s not embedded (have %v)", n, webhooktest.FixtureNames())
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(webhooktest.Fixture(t, n), &doc); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

func TestReadFixture_MissingIsErrNotExist(t *testing.T) {
	t.Parallel()
	if _, err := webhooktest.ReadFixture("workflow_run.in_progress.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
	if _, err := webhooktest.ReadFixture("../../../go.mod"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("path escape: err = %v, want fs.ErrNotExist", err)
	}
}
