package runs

import (
	"testing"

	"github.com/tfpilot/tfpilot/tfoutput"
)

// TestPinnedPlan_WhatWasPlannedIsWhatTheLogReports: a plan pinned to a
// commit runs on a branch whose head moves (workflow_dispatch takes a
// branch, not a commit), so its run's head_sha is not what it planned.
// Its planned commit is the one its log reports, and it mismatches only
// when that differs from the pin; a run head_sha that differs from the
// pin is no mismatch. An attempt that is not pinned keeps the head_sha
// rule.
func TestPinnedPlan_WhatWasPlannedIsWhatTheLogReports(t *testing.T) {
	t.Parallel()
	const pin, later, other = "merge", "base-head-later", "someone-else"
	pinned := func(out *tfoutput.Summary) Attempt {
		s := Dispatch(State{}, Plan, DispatchMeta{HeadSHA: pin, Ref: "main", Nonce: "n", Pinned: true}, t0)
		s, _ = AttachRunID(s, Plan, 1, 7, "")
		s, _ = PatchByRunID(s, Plan, 7, RunFacts{ID: 7, Status: StatusCompleted, Conclusion: ConclusionSuccess, HeadSHA: later})
		s, _ = SetOutput(s, Plan, 1, out)
		a, _ := Current(s, Plan)
		return a
	}
	for _, tc := range []struct {
		name         string
		a            Attempt
		wantPlanned  string
		wantMismatch bool
	}{
		{"pinned, output not read", pinned(nil), "", false},
		{"pinned, log reports the pin", pinned(&tfoutput.Summary{PlannedCommit: pin}), pin, false},
		{"pinned, log reports another commit", pinned(&tfoutput.Summary{PlannedCommit: other}), other, true},
		{"pinned, log reports nothing", pinned(&tfoutput.Summary{}), "", false},
		{"unpinned, run of the dispatched commit", Attempt{DispatchedSHA: pin, HeadSHA: pin}, pin, false},
		{"unpinned, run of a later head", Attempt{DispatchedSHA: pin, HeadSHA: later}, later, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.a.PinnedSHA != "" && (tc.a.DispatchedSHA != pin || tc.a.HeadSHA != later) {
				t.Fatalf("pinned attempt %+v: want dispatchedSha %s and the run's head_sha %s kept", tc.a, pin, later)
			}
			if got := PlannedCommit(tc.a); got != tc.wantPlanned {
				t.Errorf("PlannedCommit = %q, want %q", got, tc.wantPlanned)
			}
			if got := HeadMismatch(tc.a); got != tc.wantMismatch {
				t.Errorf("HeadMismatch = %v, want %v", got, tc.wantMismatch)
			}
		})
	}
}
