package runs

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func dispatched(k Kind, n int) State {
	var s State
	for i := 0; i < n; i++ {
		s = Dispatch(s, k, DispatchMeta{Nonce: "n" + string(rune('a'+i))}, t0.Add(time.Duration(i)*time.Minute))
	}
	return s
}

func TestDispatch_OnlyWayToAppendAndMoveCurrent_INV_CORE_3(t *testing.T) {
	t.Parallel()
	s := dispatched(Plan, 2)
	if got := s.Plan.CurrentAttempt; got != 2 {
		t.Fatalf("CurrentAttempt = %d, want 2", got)
	}
	if len(s.Plan.Attempts) != 2 || s.Plan.Attempts[1].Attempt != 2 || s.Plan.Attempts[1].Status != StatusQueued {
		t.Fatalf("attempts = %+v", s.Plan.Attempts)
	}
	s, _ = AttachRunID(s, Plan, 2, 99, "u")
	before := s.Clone()
	for _, f := range []RunFacts{{Status: StatusInProgress}, {Status: StatusCompleted, Conclusion: ConclusionSuccess, UpdatedAt: t0}} {
		s, _ = PatchByRunID(s, Plan, 99, f)
	}
	s2, _ := AttachRunID(s, Plan, 3, 100, "")
	if len(s2.Plan.Attempts) != len(before.Plan.Attempts) || s2.Plan.CurrentAttempt != before.Plan.CurrentAttempt {
		t.Fatalf("patch/attach changed attempt count or current: %+v", s2.Plan)
	}
}

func TestDispatch_NumbersPastHighestEvenWithGaps(t *testing.T) {
	t.Parallel()
	s := State{Apply: Op{CurrentAttempt: 1, Attempts: []Attempt{{Attempt: 1}, {Attempt: 5}}}}
	s = Dispatch(s, Apply, DispatchMeta{}, t0)
	if s.Apply.CurrentAttempt != 6 {
		t.Fatalf("CurrentAttempt = %d, want 6", s.Apply.CurrentAttempt)
	}
}

func TestDispatch_NeverMutatesInput(t *testing.T) {
	t.Parallel()
	in := State{Plan: Op{CurrentAttempt: 1, Attempts: make([]Attempt, 1, 8)}}
	in.Plan.Attempts[0] = Attempt{Attempt: 1}
	snapshot := in.Clone()
	_ = Dispatch(in, Plan, DispatchMeta{}, t0)
	if !reflect.DeepEqual(in, snapshot) || in.Plan.Attempts[:2][1] != (Attempt{}) {
		t.Fatalf("Dispatch mutated its input (or its spare capacity)")
	}
	s := dispatched(Plan, 1)
	s, _ = AttachRunID(s, Plan, 1, 7, "")
	snap := s.Clone()
	_, _ = PatchByRunID(s, Plan, 7, RunFacts{Status: StatusCompleted, Conclusion: ConclusionFailure, UpdatedAt: t0})
	_, _ = AttachRunID(snap, Plan, 1, 7, "url")
	if !reflect.DeepEqual(s, snap) {
		t.Fatalf("PatchByRunID mutated its input")
	}
}

func TestCurrent_StrictNoFallback_INV_CORE_4(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		op     Op
		want   int
		wantOK bool
	}{
		{"none dispatched", Op{}, 0, false},
		{"points at non-last attempt", Op{CurrentAttempt: 1, Attempts: []Attempt{{Attempt: 1, RunID: 10}, {Attempt: 2, RunID: 20}}}, 1, true},
		{"points at nothing", Op{CurrentAttempt: 3, Attempts: []Attempt{{Attempt: 1}, {Attempt: 2}}}, 0, false},
		{"zero with attempts present", Op{CurrentAttempt: 0, Attempts: []Attempt{{Attempt: 1}}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, ok := Current(State{Apply: tt.op}, Apply)
			if ok != tt.wantOK || a.Attempt != tt.want {
				t.Fatalf("Current = %+v, %v; want attempt %d, %v", a, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestAttachRunID_NeverReplacesDifferentRunID(t *testing.T) {
	t.Parallel()
	s := dispatched(Destroy, 2)
	s, ok := AttachRunID(s, Destroy, 1, 11, "")
	if !ok {
		t.Fatal("first attach refused")
	}
	tests := []struct {
		name    string
		attempt int
		runID   int64
		url     string
		wantOK  bool
	}{
		{"different run id on same attempt", 1, 12, "", false},
		{"same run id again is a no-op", 1, 11, "", false},
		{"same run id fills missing url", 1, 11, "https://x/1", true},
		{"run id owned by another attempt", 2, 11, "", false},
		{"missing attempt", 9, 13, "", false},
		{"non-positive run id", 2, 0, "", false},
		{"free attempt", 2, 13, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := AttachRunID(s, Destroy, tt.attempt, tt.runID, tt.url)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok && !reflect.DeepEqual(got, s) {
				t.Fatalf("refused attach changed state")
			}
			if a, _ := FindByRunID(got, Destroy, 11); a.Attempt != 1 {
				t.Fatalf("run 11 moved to attempt %d", a.Attempt)
			}
		})
	}
}

func TestPatchByRunID_Monotonic(t *testing.T) {
	t.Parallel()
	done := time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC)
	upd := done.Add(time.Minute)
	base := func(a Attempt) State {
		a.Attempt, a.RunID = 1, 5
		return State{Plan: Op{CurrentAttempt: 1, Attempts: []Attempt{a}}}
	}
	tests := []struct {
		name        string
		have        Attempt
		facts       RunFacts
		wantChanged bool
		want        Attempt
	}{
		{"queued to in_progress", Attempt{Status: StatusQueued}, RunFacts{Status: StatusInProgress},
			true, Attempt{Status: StatusInProgress}},
		{"completed never goes back to in_progress", Attempt{Status: StatusCompleted, Conclusion: ConclusionSuccess, CompletedAt: done}, RunFacts{Status: StatusInProgress},
			false, Attempt{Status: StatusCompleted, Conclusion: ConclusionSuccess, CompletedAt: done}},
		{"completed never goes back to queued", Attempt{Status: StatusCompleted}, RunFacts{Status: StatusQueued},
			false, Attempt{Status: StatusCompleted}},
		{"conclusion never cleared", Attempt{Status: StatusCompleted, Conclusion: ConclusionFailure, CompletedAt: done}, RunFacts{Status: StatusCompleted},
			false, Attempt{Status: StatusCompleted, Conclusion: ConclusionFailure, CompletedAt: done}},
		{"conclusion never replaced", Attempt{Status: StatusCompleted, Conclusion: ConclusionFailure, CompletedAt: done}, RunFacts{Status: StatusCompleted, Conclusion: ConclusionSuccess, CompletedAt: upd},
			false, Attempt{Status: StatusCompleted, Conclusion: ConclusionFailure, CompletedAt: done}},
		{"completedAt from completed_at INV-COMP-1", Attempt{Status: StatusInProgress}, RunFacts{Status: StatusCompleted, Conclusion: ConclusionSuccess, CompletedAt: done, UpdatedAt: upd},
			true, Attempt{Status: StatusCompleted, Conclusion: ConclusionSuccess, CompletedAt: done}},
		{"completedAt falls back to updated_at INV-COMP-1", Attempt{Status: StatusInProgress}, RunFacts{Status: StatusCompleted, Conclusion: ConclusionSuccess, UpdatedAt: upd},
			true, Attempt{Status: StatusCompleted, Conclusion: ConclusionSuccess, CompletedAt: upd}},
		{"completedAt not set while running INV-COMP-1", Attempt{Status: StatusQueued}, RunFacts{Status: StatusInProgress, UpdatedAt: upd},
			true, Attempt{Status: StatusInProgress}},
		{"completedAt never moved", Attempt{Status: StatusCompleted, Conclusion: ConclusionSuccess, CompletedAt: done}, RunFacts{Status: StatusCompleted, Conclusion: ConclusionSuccess, CompletedAt: upd},
			false, Attempt{Status: StatusCompleted, Conclusion: ConclusionSuccess, CompletedAt: done}},
		{"completed without times leaves completedAt empty", Attempt{Status: StatusInProgress}, RunFacts{Status: StatusCompleted, Conclusion: ConclusionCancelled},
			true, Attempt{Status: StatusCompleted, Conclusion: ConclusionCancelled}},
		{"identical facts are a no-op", Attempt{Status: StatusInProgress, HeadSHA: "abc"}, RunFacts{Status: StatusInProgress, HeadSHA: "abc"},
			false, Attempt{Status: StatusInProgress, HeadSHA: "abc"}},
		{"head sha and url filled when missing", Attempt{Status: StatusQueued}, RunFacts{Status: StatusQueued, HeadSHA: "abc", HTMLURL: "https://x"},
			true, Attempt{Status: StatusQueued, HeadSHA: "abc", URL: "https://x"}},
		{"head sha becomes the run's, dispatched sha kept", Attempt{Status: StatusQueued, HeadSHA: "abc", DispatchedSHA: "abc"}, RunFacts{Status: StatusQueued, HeadSHA: "def"},
			true, Attempt{Status: StatusQueued, HeadSHA: "def", DispatchedSHA: "abc"}},
		{"empty head sha keeps the recorded one", Attempt{Status: StatusQueued, HeadSHA: "abc", DispatchedSHA: "abc"}, RunFacts{Status: StatusInProgress},
			true, Attempt{Status: StatusInProgress, HeadSHA: "abc", DispatchedSHA: "abc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := base(tt.have)
			got, changed := PatchByRunID(in, Plan, 5, tt.facts)
			if changed != tt.wantChanged {
				t.Fatalf("changed = %v, want %v", changed, tt.wantChanged)
			}
			tt.want.Attempt, tt.want.RunID = 1, 5
			if got.Plan.Attempts[0] != tt.want {
				t.Fatalf("attempt = %+v\nwant      %+v", got.Plan.Attempts[0], tt.want)
			}
			if !changed && !reflect.DeepEqual(got, in) {
				t.Fatal("changed == false but state differs")
			}
		})
	}
}

func TestPatchByRunID_UnknownRunIsNoOp_INV_CORE_3(t *testing.T) {
	t.Parallel()
	s := dispatched(Apply, 1)
	got, changed := PatchByRunID(s, Apply, 404, RunFacts{Status: StatusCompleted, Conclusion: ConclusionSuccess})
	if changed || !reflect.DeepEqual(got, s) {
		t.Fatal("patch of an unknown run changed state")
	}
	if _, changed := PatchByRunID(s, Apply, 0, RunFacts{Status: StatusCompleted}); changed {
		t.Fatal("patch with run id 0 changed state")
	}
}

// TestPatchByRunID_AnyOrderSameResult is the property that makes webhook
// delivery order irrelevant: any permutation of a run's facts (with
// duplicates) patched in any order ends in the attempt the in-order
// sequence produces.
func TestPatchByRunID_AnyOrderSameResult(t *testing.T) {
	t.Parallel()
	updated := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	conclusions := []string{ConclusionSuccess, ConclusionFailure, ConclusionCancelled, ConclusionTimedOut}
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 2000; iter++ {
		c := conclusions[rng.IntN(len(conclusions))]
		facts := []RunFacts{
			{ID: 5, Status: StatusRequested, UpdatedAt: updated(1), HeadSHA: "h"},
			{ID: 5, Status: StatusQueued, UpdatedAt: updated(1), HeadSHA: "h"},
			{ID: 5, Status: StatusInProgress, UpdatedAt: updated(2), HeadSHA: "h", HTMLURL: "u"},
			{ID: 5, Status: StatusCompleted, Conclusion: c, UpdatedAt: updated(3), HeadSHA: "h", HTMLURL: "u"},
		}
		if rng.IntN(2) == 0 {
			facts[3].CompletedAt = updated(3).Add(-time.Second)
		}
		start := dispatched(Apply, 1)
		start, _ = AttachRunID(start, Apply, 1, 5, "")
		want := start
		for _, f := range facts {
			want, _ = PatchByRunID(want, Apply, 5, f)
		}
		// A random multiset: every fact at least once, some duplicated.
		seq := append([]RunFacts(nil), facts...)
		for d := rng.IntN(5); d > 0; d-- {
			seq = append(seq, facts[rng.IntN(len(facts))])
		}
		rng.Shuffle(len(seq), func(i, j int) { seq[i], seq[j] = seq[j], seq[i] })
		got := start
		for _, f := range seq {
			got, _ = PatchByRunID(got, Apply, 5, f)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("order %v\ngot  %+v\nwant %+v", seq, got.Apply.Attempts[0], want.Apply.Attempts[0])
		}
		if a := got.Apply.Attempts[0]; a.Conclusion != c || a.Status != StatusCompleted || a.CompletedAt.IsZero() {
			t.Fatalf("final attempt %+v", a)
		}
	}
}

func TestNeedsReconcile_INV_REC_1(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a    Attempt
		want bool
	}{
		{"no run id", Attempt{Status: StatusQueued}, false},
		{"run id, no conclusion", Attempt{RunID: 1, Status: StatusInProgress}, true},
		{"run id, conclusion, no completedAt", Attempt{RunID: 1, Conclusion: ConclusionSuccess}, true},
		{"run id, completedAt, no conclusion", Attempt{RunID: 1, CompletedAt: t0}, true},
		{"run id, both", Attempt{RunID: 1, Conclusion: ConclusionSuccess, CompletedAt: t0}, false},
	}
	for _, tt := range tests {
		if got := NeedsReconcile(tt.a); got != tt.want {
			t.Errorf("%s: NeedsReconcile = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestActive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a    Attempt
		want bool
	}{
		{Attempt{Status: StatusQueued}, true},
		{Attempt{Status: StatusInProgress}, true},
		{Attempt{Status: StatusWaiting}, true},
		{Attempt{Status: StatusCompleted}, true},
		{Attempt{Status: StatusInProgress, Conclusion: ConclusionFailure}, false},
		{Attempt{Status: StatusCompleted, Conclusion: ConclusionNeutral}, false},
		{Attempt{}, true},
	}
	for _, tt := range tests {
		if got := Active(tt.a); got != tt.want {
			t.Errorf("Active(%+v) = %v, want %v", tt.a, got, tt.want)
		}
	}
}

func TestIsFailedConclusion_ExactlySix(t *testing.T) {
	t.Parallel()
	failed := map[string]bool{"failure": true, "cancelled": true, "timed_out": true, "action_required": true, "startup_failure": true, "stale": true}
	for _, c := range []string{"failure", "cancelled", "timed_out", "action_required", "startup_failure", "stale", "success", "neutral", "skipped", ""} {
		if got := IsFailedConclusion(c); got != failed[c] {
			t.Errorf("IsFailedConclusion(%q) = %v", c, got)
		}
	}
}

func TestRunFacts_UnmarshalGitHubRun(t *testing.T) {
	t.Parallel()
	const run = `{"id": 30433642, "status": "completed", "conclusion": null, "updated_at": "2020-01-22T19:33:08Z",
	  "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d", "html_url": "https://github.com/o/r/actions/runs/30433642", "completed_at": null}`
	var f RunFacts
	if err := json.Unmarshal([]byte(run), &f); err != nil {
		t.Fatal(err)
	}
	want := RunFacts{ID: 30433642, Status: "completed", UpdatedAt: time.Date(2020, 1, 22, 19, 33, 8, 0, time.UTC),
		HeadSHA: "acb5820ced9479c074f688cc328bf03f341a511d", HTMLURL: "https://github.com/o/r/actions/runs/30433642"}
	if f != want {
		t.Fatalf("got %+v\nwant %+v", f, want)
	}
	if err := json.Unmarshal([]byte(`{"updated_at":"yesterday"}`), &f); err != nil || !f.UpdatedAt.IsZero() {
		t.Fatalf("bad timestamp: %+v, %v; want it read as absent", f, err)
	}
}

func TestState_JSONIsTfPilots(t *testing.T) {
	t.Parallel()
	const doc = `{"plan":{"currentAttempt":1,"attempts":[{"attempt":1,"runId":42,"url":"u","status":"completed","conclusion":"success","dispatchedAt":"2026-01-02T03:04:05Z","completedAt":"2026-01-02T03:09:05Z","headSha":"abc","ref":"tfpilot/r1","actor":"alice"}]},"apply":{"currentAttempt":0,"attempts":[]},"destroy":{"currentAttempt":0,"attempts":[]}}`
	var s State
	if err := json.Unmarshal([]byte(doc), &s); err != nil {
		t.Fatal(err)
	}
	a, ok := Current(s, Plan)
	if !ok || a.RunID != 42 || a.CompletedAt.Sub(a.DispatchedAt) != 5*time.Minute || a.Actor != "alice" {
		t.Fatalf("decoded %+v", a)
	}
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != doc {
		t.Fatalf("round trip:\n got %s\nwant %s", out, doc)
	}
}

func TestFailDispatch_OnlyAnAttemptWithoutRunID(t *testing.T) {
	t.Parallel()
	s := dispatched(Apply, 2)
	s, _ = AttachRunID(s, Apply, 1, 10, "")
	if _, ok := FailDispatch(s, Apply, 1); ok {
		t.Fatal("FailDispatch concluded an attempt that has a run")
	}
	if _, ok := FailDispatch(s, Apply, 9); ok {
		t.Fatal("FailDispatch of a missing attempt")
	}
	got, ok := FailDispatch(s, Apply, 2)
	if !ok {
		t.Fatal("FailDispatch refused an attempt without run id")
	}
	a, _ := Current(got, Apply)
	if !Failed(a) || a.Status != StatusCompleted || !a.CompletedAt.IsZero() || NeedsReconcile(a) || Active(a) {
		t.Fatalf("attempt after FailDispatch: %+v", a)
	}
	if _, ok := FailDispatch(got, Apply, 2); ok {
		t.Fatal("FailDispatch twice changed state")
	}
	if len(got.Apply.Attempts) != 2 || got.Apply.CurrentAttempt != 2 {
		t.Fatal("FailDispatch changed attempts or current")
	}
}
