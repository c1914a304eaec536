package tfpilot

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/tfoutput"
)

// TestRequest_CloneCopiesDriftCheckAndCancellation: a clone shares no
// drift check or cancellation with its original, so a write function
// that edits them in place cannot change a stored document.
func TestRequest_CloneCopiesDriftCheckAndCancellation(t *testing.T) {
	t.Parallel()
	r := &Request{ID: "r",
		Drift: &DriftCheck{Nonce: "n", Result: DriftDetected, Output: &tfoutput.Summary{State: tfoutput.StatePlanned,
			Counts: &tfoutput.Counts{Change: 1}, Changes: []tfoutput.Change{{Address: "a", Action: "update"}}, Errors: []string{"e"}}},
		Cancelled: &Cancellation{Actor: "a", Reason: "r"}}
	before, _ := json.Marshal(r)
	c := r.Clone()
	c.Drift.Result, c.Drift.Output.Counts.Change = DriftError, 9
	c.Drift.Output.Changes[0].Action, c.Drift.Output.Errors[0] = "x", "x"
	c.Cancelled.Reason = "x"
	if after, _ := json.Marshal(r); string(after) != string(before) {
		t.Fatalf("mutating the clone changed the original:\n%s\n%s", before, after)
	}
}

// TestPatchDrift_ResultIsDecidedOnceByTheCompletedRun is a property test
// of the drift check's state machine over random sequences of run facts:
// the result is pending until a completed run's facts arrive, is then
// the classification of its conclusion, comes with exactly one result
// event, and no later fact changes the check.
func TestPatchDrift_ResultIsDecidedOnceByTheCompletedRun(t *testing.T) {
	t.Parallel()
	statuses := []string{"queued", "in_progress", runs.StatusCompleted}
	conclusions := []string{"", "success", "failure", "cancelled", "timed_out"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		d := DriftCheck{Nonce: "n", Result: DriftPending}
		var decided bool
		var decidedAs DriftResult
		events := 0
		for range 1 + rng.IntN(6) {
			f := runs.RunFacts{ID: 7, Status: statuses[rng.IntN(len(statuses))], Conclusion: conclusions[rng.IntN(len(conclusions))],
				UpdatedAt: time.Unix(int64(rng.IntN(1000)), 0)}
			before := d
			ev, changed := patchDrift(&d, 7, f)
			if ev != "" {
				events++
			}
			switch {
			case decided:
				if changed || d != before {
					t.Fatalf("a decided check changed: %+v → %+v by %+v", before, d, f)
				}
			case f.Status == runs.StatusCompleted && f.Conclusion != "":
				decided, decidedAs = true, classifyDrift(f.Conclusion, nil)
				if d.Result != decidedAs || ev != driftEvent(decidedAs) || d.CompletedAt.IsZero() {
					t.Fatalf("completed with %q: %+v, event %q", f.Conclusion, d, ev)
				}
			default:
				if d.Result != DriftPending || ev != "" {
					t.Fatalf("undecided facts %+v decided %+v (event %q)", f, d, ev)
				}
			}
		}
		if want := map[bool]int{true: 1, false: 0}[decided]; events != want {
			t.Fatalf("%d result events, want %d", events, want)
		}
	}
}

// TestClassifyDrift: success is no drift; a failure is drift unless the
// log shows Terraform failing; anything else is no verdict.
func TestClassifyDrift(t *testing.T) {
	t.Parallel()
	tests := []struct {
		conclusion string
		output     *tfoutput.Summary
		want       DriftResult
	}{
		{"", nil, DriftPending},
		{"success", nil, DriftNone},
		{"failure", nil, DriftDetected},
		{"failure", &tfoutput.Summary{State: tfoutput.StatePlanned}, DriftDetected},
		{"failure", &tfoutput.Summary{State: tfoutput.StateNoLog}, DriftDetected},
		{"failure", &tfoutput.Summary{State: tfoutput.StateFailed}, DriftError},
		{"cancelled", nil, DriftError},
		{"timed_out", nil, DriftError},
	}
	for _, tt := range tests {
		if got := classifyDrift(tt.conclusion, tt.output); got != tt.want {
			t.Errorf("classifyDrift(%q, %+v) = %s, want %s", tt.conclusion, tt.output, got, tt.want)
		}
	}
}
