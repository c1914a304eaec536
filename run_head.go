package tfpilot

import "github.com/tfpilot/tfpilot/runs"

// A workflow run can be of another commit than the one its attempt was
// dispatched for: workflow_dispatch runs the head of the ref when the run
// starts, and a push in between moves it. The attempt then records the
// run's head SHA (headSha, as GitHub reports it) beside the commit it was
// dispatched for (dispatchedSha), [runs.HeadMismatch] reports the
// difference, Sync and the webhook sink stage a <kind>_run_head_mismatch
// lifecycle event in the write whose patch reveals it, and approve, merge and apply
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
