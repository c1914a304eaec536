package migrate

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/lock"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

var (
	checkNow   = time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)
	dispatched = time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
)

func done(n int) runs.Attempt {
	return runs.Attempt{Attempt: n, RunID: int64(100 + n), Status: runs.StatusCompleted, Conclusion: runs.ConclusionSuccess,
		DispatchedAt: dispatched, CompletedAt: dispatched.Add(time.Minute)}
}

func withRuns(kind runs.Kind, op runs.Op) func(*store.Request) {
	return func(r *store.Request) {
		switch kind {
		case runs.Plan:
			r.Runs.Plan = op
		case runs.Apply:
			r.Runs.Apply = op
		case runs.Destroy:
			r.Runs.Destroy = op
		}
	}
}

// decoded returns a request decoded from a document with extra top-level
// fields, as a stored document with unknown fields is.
func decoded(t *testing.T, extra string) *store.Request {
	t.Helper()
	if extra != "" {
		extra = "," + extra
	}
	var r store.Request
	if err := json.Unmarshal([]byte(`{"id":"r1","project":"p","environment":"dev","module":"m","version":1`+extra+`}`), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestCheckDocument names each case after the invariant it breaks (or
// keeps); want lists the invariants reported, in report order.
func TestCheckDocument(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		doc      string // extra top-level fields
		edit     func(*store.Request)
		archived bool
		want     []Invariant
	}{
		{name: "clean document", edit: withRuns(runs.Plan, runs.Op{CurrentAttempt: 2, Attempts: []runs.Attempt{done(1), done(2)}})},
		{name: "INV-CORE-1/legacy planRun", doc: `"planRun":{"runId":1}`, want: []Invariant{InvCore1}},
		{name: "INV-CORE-1/legacy applyRunId and destroyRunUrl", doc: `"applyRunId":7,"destroyRunUrl":"u"`, want: []Invariant{InvCore1, InvCore1}},
		{name: "INV-CORE-1/top-level runId", doc: `"runId":7`, want: []Invariant{InvCore1}},
		{name: "INV-CORE-1/other unknown fields are not run state", doc: `"templateId":"t","plan":{"diff":"+"},"prNumber":3,"planner":"x"`},
		{name: "INV-CORE-3/gap", edit: withRuns(runs.Plan, runs.Op{CurrentAttempt: 3, Attempts: []runs.Attempt{done(1), done(3)}}), want: []Invariant{InvCore3}},
		{name: "INV-CORE-3/duplicate", edit: withRuns(runs.Apply, runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{done(1), done(1)}}), want: []Invariant{InvCore3}},
		{name: "INV-CORE-3/not starting at 1", edit: withRuns(runs.Apply, runs.Op{CurrentAttempt: 2, Attempts: []runs.Attempt{done(2)}}), want: []Invariant{InvCore3}},
		{name: "INV-CORE-3/number 0", edit: withRuns(runs.Destroy, runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{done(1), done(0)}}), want: []Invariant{InvCore3}},
		{name: "INV-CORE-3/out of order is not a gap", edit: withRuns(runs.Plan, runs.Op{CurrentAttempt: 2, Attempts: []runs.Attempt{done(2), done(1)}})},
		{name: "INV-CORE-4/current names no attempt", edit: withRuns(runs.Destroy, runs.Op{CurrentAttempt: 2, Attempts: []runs.Attempt{done(1)}}), want: []Invariant{InvCore4}},
		{name: "INV-CORE-4/current 0 with attempts", edit: withRuns(runs.Plan, runs.Op{CurrentAttempt: 0, Attempts: []runs.Attempt{done(1)}}), want: []Invariant{InvCore4}},
		{name: "INV-CORE-4/current set without attempts", edit: withRuns(runs.Plan, runs.Op{CurrentAttempt: 1}), want: []Invariant{InvCore4}},
		{name: "INV-CORE-4/current 0 without attempts", edit: withRuns(runs.Plan, runs.Op{})},
		{name: "INV-COMP-1/completedAt while in progress", edit: func(r *store.Request) {
			a := done(1)
			a.Status = runs.StatusInProgress
			withRuns(runs.Plan, runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{a}})(r)
		}, want: []Invariant{InvComp1}},
		{name: "INV-COMP-1/completedAt before dispatchedAt", edit: func(r *store.Request) {
			a := done(1)
			a.CompletedAt = a.DispatchedAt.Add(-time.Second)
			withRuns(runs.Apply, runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{a}})(r)
		}, want: []Invariant{InvComp1}},
		{name: "INV-COMP-1/completed without completedAt is not a breach", edit: func(r *store.Request) {
			a := done(1)
			a.CompletedAt = time.Time{}
			withRuns(runs.Apply, runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{a}})(r)
		}},
		{name: "LOCK-EXPIRED/expired lock", edit: func(r *store.Request) {
			r.Lock = &lock.Lock{Holder: "a", Operation: "plan", ExpiresAt: checkNow.Add(-time.Second)}
		}, want: []Invariant{InvLockExpired}},
		{name: "LOCK-EXPIRED/lock expiring exactly now", edit: func(r *store.Request) {
			r.Lock = &lock.Lock{Holder: "a", Operation: "plan", ExpiresAt: checkNow}
		}, want: []Invariant{InvLockExpired}},
		{name: "LOCK-EXPIRED/active lock", edit: func(r *store.Request) {
			r.Lock = &lock.Lock{Holder: "a", Operation: "plan", ExpiresAt: checkNow.Add(time.Second)}
		}},
		{name: "LOCK-EXPIRED/archived request's lock is moot", archived: true, edit: func(r *store.Request) {
			r.Lock = &lock.Lock{Holder: "a", Operation: "plan", ExpiresAt: checkNow.Add(-time.Hour)}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := decoded(t, tc.doc)
			if tc.edit != nil {
				tc.edit(r)
			}
			vs := checkDocument(r, tc.archived, checkNow)
			slices.SortFunc(vs, compareViolations)
			var got []Invariant
			for _, v := range vs {
				got = append(got, v.Invariant)
				if v.RequestID != "r1" || v.Archived != tc.archived || v.Detail == "" {
					t.Errorf("violation %+v: want request r1, archived %v and a detail", v, tc.archived)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("checkDocument found %v; want %v\n%v", got, tc.want, vs)
			}
		})
	}
}
