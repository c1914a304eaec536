package tfpilot

import (
	"context"

	"github.com/tfpilot/tfpilot/runs"
)

// A workflow run can be of another commit than the one its attempt was
// dispatched for: workflow_dispatch runs the head of the ref when the run
// starts, and a push in between moves it. The attempt then records the
// run's head SHA (headSha, as GitHub reports it) beside the commit it was
// dispatched for (dispatchedSha), [runs.HeadMismatch] reports the
// difference, Sync and the webhook sink record a <kind>_run_head_mismatch
// lifecycle event when a patch reveals it, and approve, merge and apply
// refuse a plan whose run was of another commit.

// headMismatchEvent names the lifecycle event recorded when a run of kind
// k turns out to be of another commit than its attempt was dispatched
// for.
func headMismatchEvent(k runs.Kind) string { return string(k) + "_run_head_mismatch" }

// headMismatchData is the data of a head-mismatch event about attempt a.
func headMismatchData(a runs.Attempt, source string) map[string]any {
	return map[string]any{
		"attempt": a.Attempt, "runId": a.RunID,
		"dispatchedSha": a.DispatchedSHA, "headSha": a.HeadSHA, "source": source,
	}
}

// headMismatch appends the head-mismatch event of attempt a of kind k on
// request id, for a webhook delivery. A failure is logged: the document,
// already written, is the source of truth.
func (s *WebhookSink) headMismatch(ctx context.Context, id string, k runs.Kind, a runs.Attempt, actor, deliveryID string) {
	data := headMismatchData(a, "webhook")
	data["deliveryId"] = deliveryID
	ev := Event{RequestID: id, Event: headMismatchEvent(k), Actor: actor, Source: WebhookEventSource, Data: data}
	if _, err := s.store.AppendEvent(ctx, ev); err != nil {
		s.log.ErrorContext(ctx, "tfpilot: webhook: append lifecycle event", "request", id, "event", ev.Event, "delivery", deliveryID, "err", err)
	}
}
