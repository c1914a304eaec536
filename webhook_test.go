package tfpilot_test

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/webhook"
)

// hooked connects the fake's webhooks to the Pilot's handler.
func hooked(t *testing.T, e *env) {
	t.Helper()
	h, err := e.pilot.WebhookHandler("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e.fake.SetWebhook(srv.URL, "s3cret")
}

func (e *env) flush() {
	e.t.Helper()
	if err := e.fake.Flush(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) currentRun(id string, k runs.Kind) int64 {
	e.t.Helper()
	r, err := e.store.GetRequest(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	a, ok := runs.Current(r.Runs, k)
	if !ok || a.RunID == 0 {
		e.t.Fatalf("no current %s run", k)
	}
	return a.RunID
}

// TestPilot_FullLifecycleDrivenByWebhooks walks a request from created to
// destroyed where every fact — runs progressing and completing, the
// review, the merge — reaches tfpilot only as a signed webhook from the
// simulator. Nothing calls Sync.
func TestPilot_FullLifecycleDrivenByWebhooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hooked(t, e)
	r := e.create("reports")
	e.flush()
	e.want(r.ID, lifecycle.Planning)

	step := func(k runs.Kind, conclusion string, want lifecycle.Status) {
		t.Helper()
		run := e.currentRun(r.ID, k)
		if _, err := e.fake.Advance(run); err != nil { // queued → in_progress
			t.Fatal(err)
		}
		e.flush()
		if err := e.fake.Complete(run, conclusion); err != nil {
			t.Fatal(err)
		}
		e.flush()
		e.want(r.ID, want)
	}
	step(runs.Plan, "success", lifecycle.PlanReady)

	if err := e.fake.As("abe").Approve("acme", "infra", r.PR.Number); err != nil {
		t.Fatal(err)
	}
	e.flush()
	e.want(r.ID, lifecycle.Approved)
	if _, err := e.fake.As("abe").Merge("acme", "infra", r.PR.Number); err != nil {
		t.Fatal(err)
	}
	e.flush()
	e.want(r.ID, lifecycle.Merged)

	mustOK(t, e, e.pilot.Apply, approver, r.ID)
	e.flush()
	e.want(r.ID, lifecycle.Applying)
	step(runs.Apply, "success", lifecycle.Applied)

	mustOK(t, e, e.pilot.Destroy, dev, r.ID)
	e.flush()
	e.want(r.ID, lifecycle.Destroying)
	step(runs.Destroy, "success", lifecycle.Destroyed)

	got := eventNames(t, e.store, r.ID)
	// The order of the milestones; the webhook sink also records
	// intermediate facts (run started, PR updated), which may interleave.
	want := []string{"request_created", "block_committed", "pr_opened", "plan_dispatched", "plan_completed", "request_approved",
		"pr_merged", "apply_dispatched", "apply_completed", "destroy_dispatched", "destroy_completed"}
	if !isSubsequence(want, got) {
		t.Fatalf("events %v\ndo not contain, in order, %v", got, want)
	}
	for _, ev := range []string{"pr_opened", "plan_completed", "apply_completed", "destroy_completed", "pr_merged", "request_approved"} {
		if n := count(got, ev); n != 1 {
			t.Errorf("%s recorded %d times, want once", ev, n)
		}
	}
	// Every delivery was handled; none failed.
	for _, d := range e.fake.Deliveries() {
		if d.Err != nil || d.StatusCode != 200 {
			t.Errorf("delivery %s (%s %s) answered %d, %v", d.ID, d.Event, d.Action, d.StatusCode, d.Err)
		}
	}
}

func isSubsequence(want, got []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func TestPilot_WebhookHandlerRefusesEmptySecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, secrets := range [][]string{nil, {""}, {"ok", ""}} {
		if _, err := e.pilot.WebhookHandler(secrets...); !errors.Is(err, webhook.ErrInvalidOptions) {
			t.Errorf("WebhookHandler(%q) = %v, want ErrInvalidOptions", secrets, err)
		}
	}
}

// TestPilot_APIMergeWithWebhooksRecordsOneMergeEvent: the engine's merge
// and GitHub's merged webhook report the same fact; whichever write makes
// the change records the one pr_merged event.
func TestPilot_APIMergeWithWebhooksRecordsOneMergeEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hooked(t, e)
	r := e.create("reports")
	e.flush()
	run := e.currentRun(r.ID, runs.Plan)
	if err := e.fake.Complete(run, "success"); err != nil {
		t.Fatal(err)
	}
	e.flush()
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	mustOK(t, e, e.pilot.Merge, approver, r.ID)
	e.flush()
	e.want(r.ID, lifecycle.Merged)
	got := eventNames(t, e.store, r.ID)
	for _, ev := range []string{"pr_opened", "pr_merged"} {
		if n := count(got, ev); n != 1 {
			t.Errorf("%s recorded %d times, want once (%v)", ev, n, got)
		}
	}
}
