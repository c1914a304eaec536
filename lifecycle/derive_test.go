package lifecycle

import (
	"fmt"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/runs"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// op builds an Op whose current attempt is a.
func op(a runs.Attempt) runs.Op {
	a.Attempt = 1
	return runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{a}}
}

var (
	queued    = runs.Attempt{Status: runs.StatusQueued, DispatchedAt: now.Add(-time.Minute)}
	running   = runs.Attempt{RunID: 7, Status: runs.StatusInProgress, DispatchedAt: now.Add(-time.Minute)}
	succeeded = runs.Attempt{RunID: 7, Status: runs.StatusCompleted, Conclusion: runs.ConclusionSuccess, CompletedAt: now}
	failed    = runs.Attempt{RunID: 7, Status: runs.StatusCompleted, Conclusion: runs.ConclusionFailure, CompletedAt: now}
	neutral   = runs.Attempt{RunID: 7, Status: runs.StatusCompleted, Conclusion: runs.ConclusionNeutral, CompletedAt: now}
)

func TestDerive_PriorityOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    Facts
		want Status
	}{
		{"nothing yet", Facts{}, RequestCreated},
		{"pr open without plan", Facts{PROpen: true}, Planning},
		{"plan queued", Facts{Runs: runs.State{Plan: op(queued)}}, Planning},
		{"plan running", Facts{Runs: runs.State{Plan: op(running)}}, Planning},
		{"plan succeeded", Facts{PROpen: true, Runs: runs.State{Plan: op(succeeded)}}, PlanReady},
		{"plan neutral is not ready", Facts{Runs: runs.State{Plan: op(neutral)}}, RequestCreated},
		{"approved beats plan_ready", Facts{Approved: true, Runs: runs.State{Plan: op(succeeded)}}, Approved},
		{"merged flag beats approved", Facts{Approved: true, PRMerged: true, Runs: runs.State{Plan: op(succeeded)}}, Merged},
		{"mergedSha alone is merged", Facts{MergedSHA: "abc"}, Merged},
		{"apply running beats merged", Facts{PRMerged: true, Runs: runs.State{Plan: op(succeeded), Apply: op(running)}}, Applying},
		{"apply queued is applying", Facts{PRMerged: true, Runs: runs.State{Apply: op(queued)}}, Applying},
		{"apply succeeded", Facts{PRMerged: true, Runs: runs.State{Plan: op(succeeded), Apply: op(succeeded)}}, Applied},
		{"plan failed beats apply running", Facts{Runs: runs.State{Plan: op(failed), Apply: op(running)}}, Failed},
		{"apply failed beats everything but destroy", Facts{Approved: true, PRMerged: true, Runs: runs.State{Plan: op(succeeded), Apply: op(failed)}}, Failed},
		{"destroy queued", Facts{Runs: runs.State{Apply: op(succeeded), Destroy: op(queued)}}, Destroying},
		{"destroy running beats apply failed", Facts{Runs: runs.State{Apply: op(failed), Destroy: op(running)}}, Destroying},
		{"destroy succeeded", Facts{Runs: runs.State{Apply: op(succeeded), Destroy: op(succeeded)}}, Destroyed},
		{"destroy failed", Facts{Runs: runs.State{Apply: op(succeeded), Destroy: op(failed)}}, Failed},
		{"destroy neutral falls through to applied", Facts{Runs: runs.State{Apply: op(succeeded), Destroy: op(neutral)}}, Applied},
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

func TestDerive_EveryFailedConclusionFails(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"failure", "cancelled", "timed_out", "action_required", "startup_failure", "stale"} {
		for _, k := range runs.Kinds() {
			a := runs.Attempt{RunID: 1, Status: runs.StatusCompleted, Conclusion: c, CompletedAt: now}
			var s runs.State
			switch k {
			case runs.Plan:
				s.Plan = op(a)
			case runs.Apply:
				s.Apply = op(a)
			case runs.Destroy:
				s.Destroy = op(a)
			}
			if got := Derive(Facts{PRMerged: true, Runs: s}, now); got != Failed {
				t.Errorf("%s %s: Derive = %s, want failed", k, c, got)
			}
		}
	}
}

func TestDerive_StaleDestroyAfter15Minutes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		runID int64
		age   time.Duration
		rules Rules
		want  Status
	}{
		{"just under 15m", 7, 15*time.Minute - time.Second, Rules{}, Destroying},
		{"exactly 15m is not stale", 7, 15 * time.Minute, Rules{}, Destroying},
		{"just over 15m", 7, 15*time.Minute + time.Second, Rules{}, Failed},
		{"no run id never stale", 0, 2 * time.Hour, Rules{}, Destroying},
		{"custom threshold", 7, 6 * time.Minute, Rules{StaleDestroyAfter: 5 * time.Minute}, Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := runs.Attempt{RunID: tt.runID, Status: runs.StatusInProgress, DispatchedAt: now.Add(-tt.age)}
			if got := tt.rules.Derive(Facts{Runs: runs.State{Destroy: op(d)}}, now); got != tt.want {
				t.Fatalf("Derive = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDerive_ReadsOnlyCurrentAttempt_INV_CORE_4(t *testing.T) {
	t.Parallel()
	failed1 := failed
	failed1.Attempt = 1
	ok2 := succeeded
	ok2.Attempt = 2
	tests := []struct {
		name string
		op   runs.Op
		want Status
	}{
		{"current is the retry that succeeded", runs.Op{CurrentAttempt: 2, Attempts: []runs.Attempt{failed1, ok2}}, PlanReady},
		{"current points at non-last failed attempt", runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{failed1, ok2}}, Failed},
		{"current points at nothing", runs.Op{CurrentAttempt: 9, Attempts: []runs.Attempt{failed1, ok2}}, RequestCreated},
	}
	for _, tt := range tests {
		if got := Derive(Facts{Runs: runs.State{Plan: tt.op}}, now); got != tt.want {
			t.Errorf("%s: Derive = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestStatus_TerminalAndActiveSets(t *testing.T) {
	t.Parallel()
	terminal := map[Status]bool{Applied: true, Destroyed: true, Failed: true}
	active := map[Status]bool{Planning: true, Applying: true, Destroying: true}
	for _, s := range Statuses() {
		if IsTerminal(s) != terminal[s] || IsActive(s) != active[s] {
			t.Errorf("%s: terminal %v active %v", s, IsTerminal(s), IsActive(s))
		}
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
	}
	if len(Statuses()) != 10 || Status("done").Valid() {
		t.Fatal("status set is not the ten canonical values")
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := map[string]Status{
		"plan_ready": PlanReady, "Plan Ready": PlanReady, " APPLIED ": Applied, "apply-failed": Failed,
		"pr_merged": Merged, "completed": Applied, "pending": RequestCreated, "destroy_in_progress": Destroying,
		"unknown-thing": "", "": "",
	}
	for in, want := range tests {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
	for _, s := range Statuses() {
		if Normalize(string(s)) != s {
			t.Errorf("Normalize(%q) is not the identity", s)
		}
	}
}

func TestPollInterval(t *testing.T) {
	t.Parallel()
	custom := PollPolicy{Active: time.Second, Idle: 2 * time.Second, Hidden: 3 * time.Second, RateLimited: 4 * time.Second}
	tests := []struct {
		p    PollPolicy
		s    Status
		v    PollView
		want time.Duration
	}{
		{PollPolicy{}, Applied, PollView{RateLimited: true}, 0},
		{PollPolicy{}, Destroyed, PollView{}, 0},
		{PollPolicy{}, Failed, PollView{Hidden: true}, 0},
		{PollPolicy{}, Planning, PollView{}, 10 * time.Second},
		{PollPolicy{}, Approved, PollView{}, 30 * time.Second},
		{PollPolicy{}, Applying, PollView{Hidden: true}, 120 * time.Second},
		{PollPolicy{}, Applying, PollView{Hidden: true, RateLimited: true}, 60 * time.Second},
		{custom, Destroying, PollView{}, time.Second},
		{custom, RequestCreated, PollView{}, 2 * time.Second},
		{custom, Merged, PollView{Hidden: true}, 3 * time.Second},
		{custom, Planning, PollView{RateLimited: true}, 4 * time.Second},
	}
	for _, tt := range tests {
		if got := tt.p.Interval(tt.s, tt.v); got != tt.want {
			t.Errorf("%+v.Interval(%s, %+v) = %v, want %v", tt.p, tt.s, tt.v, got, tt.want)
		}
	}
	if PollInterval(Planning, PollView{}) != DefaultPollActive {
		t.Error("PollInterval does not use the defaults")
	}
}

func BenchmarkDerive(b *testing.B) {
	retry := succeeded
	retry.Attempt = 2
	f := Facts{
		PROpen: true, PRMerged: true, Approved: true, MergedSHA: "abc",
		Runs: runs.State{
			Plan:  runs.Op{CurrentAttempt: 2, Attempts: []runs.Attempt{{Attempt: 1, Conclusion: "failure"}, retry}},
			Apply: op(succeeded),
		},
	}
	var s Status
	b.ReportAllocs()
	for b.Loop() {
		s = Derive(f, now)
	}
	if s != Applied {
		b.Fatal(fmt.Sprint("unexpected ", s))
	}
}

// TestDerive_MergeReplannedAtItsCommitWaitsForItsOwnApproval: a merged
// request whose current plan is pinned to its merge commit (re-planned
// because the merge holds more than was planned) is planning while that
// plan runs, plan_ready until an approval names it, and merged (ready to
// apply) once one does, whatever the approval of the head says; a plan
// pinned to another commit, or an apply already there, keep the usual
// order; a failed re-plan is failed.
func TestDerive_MergeReplannedAtItsCommitWaitsForItsOwnApproval(t *testing.T) {
	t.Parallel()
	const merge = "m3rge"
	pin := func(a runs.Attempt, sha string) runs.Op {
		a.PinnedSHA, a.DispatchedSHA = sha, sha
		return op(a)
	}
	merged := func(plan runs.Op, planApproved bool) Facts {
		return Facts{PRMerged: true, MergedSHA: merge, Approved: true, PlanApproved: planApproved, Runs: runs.State{Plan: plan}}
	}
	withApply := merged(pin(succeeded, merge), false)
	withApply.Runs.Apply = op(running)
	for _, tc := range []struct {
		name string
		f    Facts
		want Status
	}{
		{"re-plan queued", merged(pin(queued, merge), false), Planning},
		{"re-plan running", merged(pin(running, merge), false), Planning},
		{"re-plan ready, head approved but not the plan", merged(pin(succeeded, merge), false), PlanReady},
		{"re-plan approved", merged(pin(succeeded, merge), true), Merged},
		{"re-plan failed", merged(pin(failed, merge), false), Failed},
		{"plan of the head, merged", merged(op(succeeded), false), Merged},
		{"plan pinned to another commit", merged(pin(succeeded, "other"), false), Merged},
		{"apply running", withApply, Applying},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Derive(tc.f, now); got != tc.want {
				t.Fatalf("Derive = %s, want %s", got, tc.want)
			}
		})
	}
}
