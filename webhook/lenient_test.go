package webhook_test

import (
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/webhook"
	"github.com/tfpilot/tfpilot/webhook/webhooktest"
)

// TestParse_GitHubTimeStringsAreLenient: a workflow_run whose time
// strings are empty, padded or malformed is still a delivery: padded
// times are trimmed, the others read as absent (issue 13; seed 000 §5:
// the original reads GitHub times with nonEmpty(...)). One odd field
// must not turn a run's facts into a 400.
func TestParse_GitHubTimeStringsAreLenient(t *testing.T) {
	t.Parallel()
	body := webhooktest.Fixture(t, "workflow_run.completed.json")
	at := mustTime("2020-10-05T16:33:49Z")
	tests := []struct {
		name  string
		value any
		want  time.Time
	}{
		{"padded", "  2020-10-05T16:33:49Z  ", at},
		{"empty", "", time.Time{}},
		{"malformed", "yesterday", time.Time{}},
		{"null", nil, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := deliver(t, "workflow_run", webhooktest.With(t, body, map[string]any{
				"workflow_run.updated_at": tt.value, "workflow_run.completed_at": tt.value, "workflow_run.created_at": tt.value,
			})).(webhook.WorkflowRunEvent)
			if !got.Facts.UpdatedAt.Equal(tt.want) || !got.Facts.CompletedAt.Equal(tt.want) || !got.CreatedAt.Equal(tt.want) {
				t.Fatalf("times %v %v %v, want %v", got.Facts.UpdatedAt, got.Facts.CompletedAt, got.CreatedAt, tt.want)
			}
		})
	}
}
