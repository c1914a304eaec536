package runs

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// These tests pin the runs model to the original TfPilot's documents
// (seeds 000 "Forensic Report" and 002 "Platform Full Audit") and to
// issue 13, which compared it with the original's patch and dispatch code.

// TestActive_AttemptWithoutConclusionIsInFlight: an attempt whose
// conclusion is unknown is in flight whatever its status (DESIGN
// "Exactly one workflow run per attempt … an attempt without a conclusion
// is in flight"; seed 000 §4 INV-REC-1: an attempt lacking a conclusion
// still needs reconciling). Gates use Active, so no second apply or
// destroy starts over a run reported completed without a conclusion.
func TestActive_AttemptWithoutConclusionIsInFlight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		a       Attempt
		active  bool
		running bool
	}{
		{"queued", Attempt{Status: StatusQueued}, true, true},
		{"in_progress", Attempt{RunID: 1, Status: StatusInProgress}, true, true},
		{"completed without conclusion", Attempt{RunID: 1, Status: StatusCompleted}, true, false},
		{"no status, no conclusion", Attempt{RunID: 1}, true, false},
		{"concluded success", Attempt{RunID: 1, Status: StatusCompleted, Conclusion: ConclusionSuccess}, false, false},
		{"concluded neutral", Attempt{RunID: 1, Status: StatusCompleted, Conclusion: ConclusionNeutral}, false, false},
		{"concluded failure, status lagging", Attempt{RunID: 1, Status: StatusInProgress, Conclusion: ConclusionFailure}, false, false},
	}
	for _, tt := range tests {
		if got := Active(tt.a); got != tt.active {
			t.Errorf("%s: Active = %v, want %v", tt.name, got, tt.active)
		}
		if got := Running(tt.a); got != tt.running {
			t.Errorf("%s: Running = %v, want %v", tt.name, got, tt.running)
		}
	}
}

// TestRunFacts_TimeStringsTrimmedEmptyIsAbsent: GitHub time strings are
// read as the original reads them — nonEmpty(gh.completed_at) ??
// nonEmpty(gh.updated_at) (seed 000 §5 INV-COMP-1): empty means absent,
// and one odd timestamp never makes a webhook or API run undecodable
// (issue 13).
func TestRunFacts_TimeStringsTrimmedEmptyIsAbsent(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name string
		raw  string // the JSON value of completed_at
		want time.Time
	}{
		{"RFC 3339", `"2026-03-04T05:06:07Z"`, at},
		{"padded with spaces", `"  2026-03-04T05:06:07Z \t"`, at},
		{"fractional seconds and offset", `"2026-03-04T06:06:07.000+01:00"`, at},
		{"empty string is absent", `""`, time.Time{}},
		{"blank string is absent", `"   "`, time.Time{}},
		{"null is absent", `null`, time.Time{}},
		{"malformed is absent", `"not-a-date"`, time.Time{}},
		{"a number is absent", `1700000000`, time.Time{}},
	}
	for _, tt := range tests {
		var f RunFacts
		body := `{"id": 9, "status": "completed", "conclusion": "success", "head_sha": "abc", "completed_at": ` + tt.raw + `, "updated_at": ` + tt.raw + `}`
		if err := json.Unmarshal([]byte(body), &f); err != nil {
			t.Errorf("%s: decode error %v; want none", tt.name, err)
			continue
		}
		if !f.CompletedAt.Equal(tt.want) || !f.UpdatedAt.Equal(tt.want) || f.ID != 9 || f.Conclusion != ConclusionSuccess {
			t.Errorf("%s: decoded %+v; want times %v", tt.name, f, tt.want)
		}
	}
}

// TestPatchByRunID_EmptyCompletedAtFallsBackToUpdatedAt: completedAt is
// completed_at, else updated_at, where an empty string counts as missing
// (seed 000 §5: "nonEmpty(gh.completed_at) ?? nonEmpty(gh.updated_at)").
func TestPatchByRunID_EmptyCompletedAtFallsBackToUpdatedAt(t *testing.T) {
	t.Parallel()
	var f RunFacts
	if err := json.Unmarshal([]byte(`{"id":5,"status":"completed","conclusion":"success","completed_at":"","updated_at":" 2026-03-04T05:06:07Z "}`), &f); err != nil {
		t.Fatal(err)
	}
	s, _ := AttachRunID(Dispatch(State{}, Apply, DispatchMeta{HeadSHA: "abc"}, t0), Apply, 1, 5, "")
	s, _ = PatchByRunID(s, Apply, 5, f)
	a, _ := Current(s, Apply)
	if want := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC); !a.CompletedAt.Equal(want) {
		t.Fatalf("completedAt = %v, want updated_at %v", a.CompletedAt, want)
	}
}

// TestPatchByRunID_RecordsGitHubHeadSHA: the attempt records GitHub's
// head_sha for its run (issue 13: keeping the dispatch SHA made an
// attempt claim a plan of a commit it did not plan; seed 002 §5: the
// original validates runs by head SHA). The commit the attempt was
// dispatched for is kept beside it, and HeadMismatch surfaces a run of
// another commit.
func TestPatchByRunID_RecordsGitHubHeadSHA(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		have           Attempt
		runHead        string
		wantChanged    bool
		wantHead       string
		wantDispatched string
		wantMismatch   bool
	}{
		{"same head", Attempt{HeadSHA: "aaa", DispatchedSHA: "aaa"}, "aaa", false, "aaa", "aaa", false},
		{"run of another commit", Attempt{HeadSHA: "aaa", DispatchedSHA: "aaa"}, "bbb", true, "bbb", "aaa", true},
		{"no head in the facts keeps the record", Attempt{HeadSHA: "aaa", DispatchedSHA: "aaa"}, "", false, "aaa", "aaa", false},
		{"dispatched without a commit: run head recorded, no mismatch", Attempt{}, "bbb", true, "bbb", "", false},
		{"original document without dispatchedSha keeps the old head as dispatched", Attempt{HeadSHA: "aaa"}, "bbb", true, "bbb", "aaa", true},
		{"original document, same head", Attempt{HeadSHA: "aaa"}, "aaa", false, "aaa", "", false},
		{"head moves back to the dispatched commit", Attempt{HeadSHA: "bbb", DispatchedSHA: "aaa"}, "aaa", true, "aaa", "aaa", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := tt.have
			a.Attempt, a.RunID, a.Status = 1, 5, StatusQueued
			in := State{Plan: Op{CurrentAttempt: 1, Attempts: []Attempt{a}}}
			got, changed := PatchByRunID(in, Plan, 5, RunFacts{ID: 5, Status: StatusQueued, HeadSHA: tt.runHead})
			cur, _ := Current(got, Plan)
			if changed != tt.wantChanged || cur.HeadSHA != tt.wantHead || cur.DispatchedSHA != tt.wantDispatched {
				t.Fatalf("changed %v, head %q, dispatched %q; want %v, %q, %q", changed, cur.HeadSHA, cur.DispatchedSHA, tt.wantChanged, tt.wantHead, tt.wantDispatched)
			}
			if HeadMismatch(cur) != tt.wantMismatch {
				t.Fatalf("HeadMismatch = %v, want %v", HeadMismatch(cur), tt.wantMismatch)
			}
		})
	}
}

// TestDispatch_RecordsDispatchedSHAInJSON: a new attempt keeps the commit
// it was dispatched for in dispatchedSha beside the seed's headSha, and a
// document without it (the original's) reads and writes unchanged.
func TestDispatch_RecordsDispatchedSHAInJSON(t *testing.T) {
	t.Parallel()
	s := Dispatch(State{}, Plan, DispatchMeta{HeadSHA: "abc", Nonce: "n"}, t0)
	a, _ := Current(s, Plan)
	if a.HeadSHA != "abc" || a.DispatchedSHA != "abc" || DispatchedFor(a) != "abc" {
		t.Fatalf("dispatched attempt %+v", a)
	}
	b, err := json.Marshal(a)
	if err != nil || !strings.Contains(string(b), `"headSha":"abc","dispatchedSha":"abc"`) {
		t.Fatalf("attempt JSON %s, %v", b, err)
	}
	legacy := Attempt{Attempt: 1, HeadSHA: "abc"}
	if DispatchedFor(legacy) != "abc" || HeadMismatch(legacy) {
		t.Fatalf("original attempt: DispatchedFor %q, HeadMismatch %v", DispatchedFor(legacy), HeadMismatch(legacy))
	}
	b, _ = json.Marshal(legacy)
	if strings.Contains(string(b), "dispatchedSha") {
		t.Fatalf("original attempt gained dispatchedSha: %s", b)
	}
}

// FuzzRunFacts_TimeNeverFailsDecode: whatever string GitHub sends as a
// run's completed_at, the run decodes; the time is the trimmed string
// parsed as RFC 3339 when it parses, and absent otherwise (issue 13).
func FuzzRunFacts_TimeNeverFailsDecode(f *testing.F) {
	for _, s := range []string{"", " ", "2026-03-04T05:06:07Z", " 2026-03-04T05:06:07.5+02:00\n", "not-a-date", "2026-13-40T99:99:99Z", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := json.Marshal(s)
		if err != nil {
			t.Skip()
		}
		var got RunFacts
		if err := json.Unmarshal([]byte(`{"id":1,"status":"completed","completed_at":`+string(v)+`}`), &got); err != nil {
			t.Fatalf("completed_at %q: decode error %v", s, err)
		}
		want, perr := time.Parse(time.RFC3339, strings.TrimSpace(s))
		if perr != nil {
			want = time.Time{}
		}
		if !got.CompletedAt.Equal(want) || got.ID != 1 || got.Status != StatusCompleted {
			t.Fatalf("completed_at %q decoded as %+v, want time %v", s, got, want)
		}
	})
}
