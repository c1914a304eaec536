package webhook_test

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/webhook"
	"github.com/tfpilot/tfpilot/webhook/webhooktest"
)

// deliver posts one signed delivery and returns the event the sink got.
func deliver(t *testing.T, event string, body []byte) any {
	t.Helper()
	d, s := newDeliveries(), &sink{}
	rec := webhooktest.Post(newHandler(t, d, s, nil), secret, event, "d-1", body)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d %q", rec.Code, rec.Body.String())
	}
	got := s.recorded()
	if len(got) != 1 {
		t.Fatalf("sink got %d events, want 1 (answer %q)", len(got), rec.Body.String())
	}
	return got[0]
}

func mustTime(s string) time.Time {
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return tm
}

func TestParse_WorkflowRunFixtures(t *testing.T) {
	t.Parallel()
	completed := webhooktest.Fixture(t, "workflow_run.completed.json")
	base := webhook.WorkflowRunEvent{
		DeliveryID:   "d-1",
		Action:       "completed",
		Kind:         webhook.KindPlan,
		Repo:         webhook.Repo{Owner: "octo-org", Name: "octo-repo"},
		WorkflowPath: ".github/workflows/test.yml",
		WorkflowName: "test",
		RunID:        289782451,
		RunName:      "ci(action): update actions/setup-node digest to 8c91899",
		RunAttempt:   1,
		HeadBranch:   "master",
		HeadSHA:      "3484a3fb816e0859fd6e1cea078d76385ff50625",
		TriggerEvent: "repository_dispatch",
		CreatedAt:    mustTime("2020-10-05T16:33:24Z"),
		Facts: runs.RunFacts{
			ID: 289782451, Status: "completed", Conclusion: "success",
			UpdatedAt: mustTime("2020-10-05T16:33:49Z"), HeadSHA: "3484a3fb816e0859fd6e1cea078d76385ff50625",
			HTMLURL: "https://github.com/octo-org/octo-repo/actions/runs/289782451",
		},
		Sender: "Codertocat",
	}
	requested := base
	requested.Action = "requested"
	requested.Facts.Status, requested.Facts.Conclusion = "queued", ""
	requested.Facts.UpdatedAt = mustTime("2020-10-05T16:33:24Z")

	variant := base
	variant.RunID, variant.Facts.ID = 77, 77
	variant.HeadBranch, variant.HeadSHA, variant.Facts.HeadSHA = "tfpilot/req-1", "abc", "abc"
	variant.RunName = "tfpilot req-1 n0nce"
	variant.PullRequests = []int{12}
	variant.Facts.CompletedAt = mustTime("2020-10-05T16:40:00Z")

	tests := []struct {
		name string
		body []byte
		want webhook.WorkflowRunEvent
	}{
		{"completed fixture", completed, base},
		{"requested fixture", webhooktest.Fixture(t, "workflow_run.requested.json"), requested},
		{"variant: tfpilot run on a request branch", webhooktest.With(t, completed, map[string]any{
			"workflow_run.id": 77, "workflow_run.head_branch": "tfpilot/req-1", "workflow_run.head_sha": "abc",
			"workflow_run.display_title": "tfpilot req-1 n0nce", "workflow_run.completed_at": "2020-10-05T16:40:00Z",
			"workflow_run.pull_requests": []map[string]any{{"number": 12}},
		}), variant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := deliver(t, "workflow_run", tt.body)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("event =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParse_UnclassifiedWorkflowRunIsIgnored(t *testing.T) {
	t.Parallel()
	for _, path := range []string{".github/workflows/lint.yml"} {
		d, s := newDeliveries(), &sink{}
		h := newHandler(t, d, s, func(o *webhook.Options) {
			o.Classify = func(p, n string) webhook.Kind {
				if p == ".github/workflows/lint.yml" {
					return "lint" // not a kind
				}
				return ""
			}
		})
		for i, body := range [][]byte{
			webhooktest.Fixture(t, "workflow_run.completed.json"),
			webhooktest.With(t, webhooktest.Fixture(t, "workflow_run.completed.json"), map[string]any{"workflow_run.path": path}),
		} {
			id := string(rune('a' + i))
			rec := webhooktest.Post(h, secret, "workflow_run", id, body)
			out, done := d.outcome(id)
			if rec.Code != http.StatusOK || !done || len(out) < 8 || out[:8] != "ignored:" {
				t.Errorf("body %d: %d, record %q %v; want 200 and an ignored record", i, rec.Code, out, done)
			}
		}
		if s.calls.Load() != 0 {
			t.Errorf("sink calls = %d, want 0", s.calls.Load())
		}
	}
}

func TestParse_PullRequestFixtures(t *testing.T) {
	t.Parallel()
	closed := webhooktest.Fixture(t, "pull_request.closed.json")
	base := webhook.PullRequestEvent{
		DeliveryID: "d-1",
		Repo:       webhook.Repo{Owner: "Codertocat", Name: "Hello-World"},
		Number:     2,
		URL:        "https://github.com/Codertocat/Hello-World/pull/2",
		HeadRef:    "changes",
		HeadSHA:    "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
		BaseRef:    "master",
		Sender:     "Codertocat",
	}
	opened := base
	opened.Action, opened.Open = "opened", true
	opened.UpdatedAt = mustTime("2019-05-15T15:20:33Z")
	sync := opened
	sync.Action = "synchronize"
	sync.BeforeSHA = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
	// The fixture is closed without merging: its merge_commit_sha is
	// GitHub's test merge and must not be reported.
	closedEv := base
	closedEv.Action = "closed"
	merged := closedEv
	merged.Merged, merged.MergeCommitSHA = true, "c4295bd74fb0f4fda03689c3df3f2803b658fd85"

	tests := []struct {
		name string
		body []byte
		want webhook.PullRequestEvent
	}{
		{"opened", webhooktest.Fixture(t, "pull_request.opened.json"), opened},
		{"synchronize", webhooktest.Fixture(t, "pull_request.synchronize.json"), sync},
		{"closed unmerged", closed, closedEv},
		{"variant: closed merged", webhooktest.With(t, closed, map[string]any{
			"pull_request.merged": true, "pull_request.merged_at": "2019-05-15T15:20:40Z"}), merged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := deliver(t, "pull_request", tt.body).(webhook.PullRequestEvent)
			got.UpdatedAt = got.UpdatedAt.UTC()
			if tt.want.UpdatedAt.IsZero() {
				got.UpdatedAt = time.Time{}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("event =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParse_ReviewVariants(t *testing.T) {
	t.Parallel()
	review := webhooktest.Fixture(t, "pull_request_review.submitted.json")
	tests := []struct {
		name       string
		fields     map[string]any
		wantState  string
		wantAction string
	}{
		{"approved", map[string]any{"review.state": "approved"}, webhook.ReviewApproved, "submitted"},
		{"approved, REST spelling", map[string]any{"review.state": "APPROVED"}, webhook.ReviewApproved, "submitted"},
		{"changes requested", map[string]any{"review.state": "changes_requested"}, webhook.ReviewChangesRequested, "submitted"},
		{"dismissed", map[string]any{"action": "dismissed", "review.state": "dismissed"}, webhook.ReviewDismissed, "dismissed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := deliver(t, "pull_request_review", webhooktest.With(t, review, tt.fields)).(webhook.ReviewEvent)
			if got.State != tt.wantState || got.Action != tt.wantAction || got.Reviewer != "Codertocat" ||
				got.Number != 2 || got.ReviewID != 237895671 || got.HeadRef != "changes" ||
				got.Repo != (webhook.Repo{Owner: "Codertocat", Name: "Hello-World"}) {
				t.Fatalf("event = %+v", got)
			}
		})
	}
}
