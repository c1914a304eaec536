package tfpilot_test

import (
	"net/url"
	"testing"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
)

// TestPilot_FormEncodedWebhooksDriveTheLifecycle: a hook created with
// GitHub's default content type ("form": the JSON payload in the form
// parameter "payload", signed over the encoded body) drives a request
// through the Pilot's own handler exactly as a JSON hook does. Before,
// ping answered "pong" and every other delivery got 400 (issue 17).
func TestPilot_FormEncodedWebhooksDriveTheLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hooked(t, e)
	e.fake.SetWebhookContentType("form")
	r := e.create("reports")
	e.flush()
	e.want(r.ID, lifecycle.Planning)
	run := e.currentRun(r.ID, runs.Plan)
	if err := e.fake.Complete(run, "success"); err != nil {
		t.Fatal(err)
	}
	e.flush()
	e.want(r.ID, lifecycle.PlanReady)
	if err := e.fake.As("abe").Approve("acme", "infra", r.PR.Number); err != nil {
		t.Fatal(err)
	}
	e.flush()
	e.want(r.ID, lifecycle.Approved)

	ds := e.fake.Deliveries()
	if len(ds) == 0 {
		t.Fatal("no deliveries")
	}
	for _, d := range ds {
		if d.ContentType != "application/x-www-form-urlencoded" {
			t.Fatalf("delivery %s sent as %q", d.ID, d.ContentType)
		}
		if form, err := url.ParseQuery(string(d.Body)); err != nil || form.Get("payload") == "" {
			t.Fatalf("delivery %s body is not a form with a payload: %v", d.ID, err)
		}
		if d.Err != nil || d.StatusCode != 200 {
			t.Errorf("delivery %s (%s %s) answered %d, %v", d.ID, d.Event, d.Action, d.StatusCode, d.Err)
		}
	}
}
