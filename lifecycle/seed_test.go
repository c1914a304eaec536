package lifecycle

import (
	"slices"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/runs"
)

// These tests pin derivation to the original TfPilot's documents
// (seeds 000 "Forensic Report" and 002 "Platform Full Audit") and to
// issue 13, which compared this package with the original's own
// deriveLifecycleStatus.

// TestDerive_AttemptWithoutConclusionIsInFlight: the original treats any
// current apply or destroy attempt without a conclusion as in flight,
// whatever its status field says (issue 13; seed 002 §3 "deriveLifecycleStatus
// logic (priority order)": destroy → … → apply running → apply success →
// merged; seed 000 §2 INV-CORE-4: only the current attempt counts). A
// run GitHub reported completed but whose conclusion has not arrived is
// still applying or destroying — deriving merged would reopen the Apply
// gate, deriving applied would hide a destroy.
func TestDerive_AttemptWithoutConclusionIsInFlight(t *testing.T) {
	t.Parallel()
	completedNoConclusion := runs.Attempt{RunID: 7, Status: runs.StatusCompleted, DispatchedAt: now.Add(-time.Minute)}
	noStatus := runs.Attempt{RunID: 7, DispatchedAt: now.Add(-time.Minute)}
	staleCompleted := runs.Attempt{RunID: 7, Status: runs.StatusCompleted, DispatchedAt: now.Add(-time.Hour)}
	tests := []struct {
		name string
		f    Facts
		want Status
	}{
		{"apply completed without conclusion is applying, not merged", Facts{PRMerged: true, Approved: true, Runs: runs.State{Plan: op(succeeded), Apply: op(completedNoConclusion)}}, Applying},
		{"apply without status or conclusion is applying", Facts{PRMerged: true, Runs: runs.State{Plan: op(succeeded), Apply: op(noStatus)}}, Applying},
		{"destroy completed without conclusion is destroying, not applied", Facts{PRMerged: true, Runs: runs.State{Apply: op(succeeded), Destroy: op(completedNoConclusion)}}, Destroying},
		{"destroy without status or conclusion is destroying", Facts{PRMerged: true, Runs: runs.State{Apply: op(succeeded), Destroy: op(noStatus)}}, Destroying},
		{"destroy completed without conclusion is failed once stale", Facts{PRMerged: true, Runs: runs.State{Apply: op(succeeded), Destroy: op(staleCompleted)}}, Failed},
		{"a conclusion ends the flight: neutral apply is not applying", Facts{PRMerged: true, Runs: runs.State{Apply: op(neutral)}}, Merged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Derive(tt.f, now); got != tt.want {
				t.Fatalf("Derive = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestDerive_StaleNeedsKnownDispatchTime: a destroy is stale only when its
// run id is known and it was dispatched more than the window ago
// (DESIGN "Derivation priority"; issue 13: "the original never calls such
// a destroy stale" for a destroy with a run id but no dispatchedAt). A
// zero dispatch time is unknown, not long ago.
func TestDerive_StaleNeedsKnownDispatchTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		d     runs.Attempt
		rules Rules
		want  Status
	}{
		{"run id, no dispatchedAt: never stale", runs.Attempt{RunID: 7, Status: runs.StatusInProgress}, Rules{}, Destroying},
		{"run id, no dispatchedAt, tiny window: never stale", runs.Attempt{RunID: 7, Status: runs.StatusQueued}, Rules{StaleDestroyAfter: time.Nanosecond}, Destroying},
		{"run id, no dispatchedAt, completed without conclusion: never stale", runs.Attempt{RunID: 7, Status: runs.StatusCompleted}, Rules{}, Destroying},
		{"no run id, old dispatch: never stale", runs.Attempt{Status: runs.StatusQueued, DispatchedAt: now.Add(-24 * time.Hour)}, Rules{}, Destroying},
		{"run id and old dispatch: stale", runs.Attempt{RunID: 7, Status: runs.StatusQueued, DispatchedAt: now.Add(-time.Hour)}, Rules{}, Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := Facts{Runs: runs.State{Apply: op(succeeded), Destroy: op(tt.d)}}
			if got := tt.rules.Derive(f, now); got != tt.want {
				t.Fatalf("Derive = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestIndexStatus_DiffersFromDeriveOnlyByStaleness: the status a store
// keeps for filtering is derivation without the clock (seed 000 §8 "List
// vs detail status consistency": list and detail both show the derived
// status; DESIGN "status is never a source of truth"). For every fact
// set and every window, Rules.Derive equals IndexStatus except that a
// stale destroy is failed, and IndexStatuses of any wanted set holds the
// stored status of every request that derives into it.
func TestIndexStatus_DiffersFromDeriveOnlyByStaleness(t *testing.T) {
	t.Parallel()
	attempts := []runs.Attempt{
		{}, queued, running, succeeded, failed, neutral,
		{RunID: 7, Status: runs.StatusCompleted, DispatchedAt: now.Add(-time.Hour)},
		{RunID: 7, Status: runs.StatusInProgress, DispatchedAt: now.Add(-10 * time.Minute)},
		{RunID: 7, Status: runs.StatusInProgress},
	}
	var all []Facts
	for _, p := range attempts {
		for _, a := range attempts {
			for _, d := range attempts {
				s := runs.State{}
				for k, x := range map[runs.Kind]runs.Attempt{runs.Plan: p, runs.Apply: a, runs.Destroy: d} {
					if x == (runs.Attempt{}) {
						continue
					}
					switch k {
					case runs.Plan:
						s.Plan = op(x)
					case runs.Apply:
						s.Apply = op(x)
					case runs.Destroy:
						s.Destroy = op(x)
					}
				}
				for _, merged := range []bool{false, true} {
					all = append(all, Facts{Runs: s, PRMerged: merged, PROpen: !merged})
				}
			}
		}
	}
	for _, rules := range []Rules{{}, {StaleDestroyAfter: 5 * time.Minute}, {StaleDestroyAfter: 2 * time.Hour}} {
		for _, f := range all {
			stored, got := IndexStatus(f), rules.Derive(f, now)
			if got != stored && !(stored == Destroying && got == Failed && rules.Stale(f, now)) {
				t.Fatalf("rules %v: IndexStatus %s but Derive %s for %+v", rules, stored, got, f)
			}
			if !slices.Contains(IndexStatuses([]Status{got}), stored) {
				t.Fatalf("IndexStatuses([%s]) = %v misses stored %s", got, IndexStatuses([]Status{got}), stored)
			}
		}
	}
}

func TestIndexStatuses_WidensFailedAndDestroyingOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want []Status
	}{
		{nil, []Status{}},
		{[]Status{Applied}, []Status{Applied}},
		{[]Status{Failed}, []Status{Failed, Destroying}},
		{[]Status{Destroying, Planning}, []Status{Destroying, Failed, Planning}},
		{[]Status{Failed, Destroying}, []Status{Failed, Destroying}},
	}
	for _, tt := range tests {
		if got := IndexStatuses(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("IndexStatuses(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
