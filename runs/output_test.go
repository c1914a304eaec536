package runs_test

import (
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/tfoutput"
)

// TestSetOutput_OnceOnACompletedAttempt: an output is recorded on the
// named completed attempt only, once; Clone copies it.
func TestSetOutput_OnceOnACompletedAttempt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := runs.Dispatch(runs.State{}, runs.Plan, runs.DispatchMeta{Nonce: "n1"}, now)
	s, _ = runs.AttachRunID(s, runs.Plan, 1, 42, "")
	out := &tfoutput.Summary{State: tfoutput.StatePlanned, Counts: &tfoutput.Counts{Add: 1},
		Changes: []tfoutput.Change{{Address: "a.b", Action: "create"}}}
	if _, changed := runs.SetOutput(s, runs.Plan, 1, out); changed {
		t.Fatal("output set on a run still in flight")
	}
	s, _ = runs.PatchByRunID(s, runs.Plan, 42, runs.RunFacts{ID: 42, Status: "completed", Conclusion: "success", CompletedAt: now})
	s2, changed := runs.SetOutput(s, runs.Plan, 1, out)
	if a, _ := runs.Current(s2, runs.Plan); !changed || a.Output != out {
		t.Fatalf("SetOutput = %v, %+v", changed, a.Output)
	}
	if a, _ := runs.Current(s, runs.Plan); a.Output != nil {
		t.Fatal("SetOutput modified its input")
	}
	if _, changed := runs.SetOutput(s2, runs.Plan, 1, &tfoutput.Summary{State: tfoutput.StateFailed}); changed {
		t.Fatal("an output was replaced")
	}
	if _, changed := runs.SetOutput(s2, runs.Plan, 2, out); changed {
		t.Fatal("output set on a missing attempt")
	}
	c := s2.Clone()
	ca, _ := runs.Current(c, runs.Plan)
	ca.Output.Changes[0].Address = "changed"
	ca.Output.Counts.Add = 9
	if a, _ := runs.Current(s2, runs.Plan); a.Output.Changes[0].Address != "a.b" || a.Output.Counts.Add != 1 {
		t.Fatal("Clone shares the output")
	}
}
