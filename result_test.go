package tfpilot_test

import (
	"encoding/json"
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
)

// sameAsGet fails unless v, a method's answer about request v.ID, says
// what Get says of it at the same instant: the same document version,
// status, poll interval, archived flag and lock expiry.
func (e *env) sameAsGet(method string, v tfpilot.View) {
	e.t.Helper()
	if v.Request == nil {
		e.t.Fatalf("%s answered no request", method)
	}
	g, err := e.pilot.Get(e.ctx, dev.Principal, v.ID)
	if err != nil {
		e.t.Fatalf("Get after %s: %v", method, err)
	}
	if v.Version != g.Version || v.Status != g.Status || v.NextPoll != g.NextPoll || v.Archived != g.Archived || v.LockExpired != g.LockExpired {
		e.t.Fatalf("%s answered version %d, %s, poll %v, archived %v, lock expired %v; Get says version %d, %s, poll %v, archived %v, lock expired %v",
			method, v.Version, v.Status, v.NextPoll, v.Archived, v.LockExpired, g.Version, g.Status, g.NextPoll, g.Archived, g.LockExpired)
	}
}

// TestCancel_ResultSaysArchived: Cancel archives the request, and its
// answer says so (archived, no more polling) as Get would, without the
// caller reading it again; so does the answer to cancelling it again,
// with or without the idempotency key of the first call.
func TestCancel_ResultSaysArchived(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	e.finish(r.ID, runs.Plan, "success")
	keyed := tfpilot.Caller{Principal: dev.Principal, IdempotencyKey: "cancel-1"}
	v, err := e.pilot.Cancel(e.ctx, keyed, r.ID, "not needed")
	if err != nil {
		t.Fatal(err)
	}
	if !v.Archived || v.NextPoll != 0 || v.Cancelled == nil || v.Lock != nil {
		t.Fatalf("Cancel answered archived %v, poll %v, cancelled %+v, lock %+v; want archived, no polling, cancelled, no lock",
			v.Archived, v.NextPoll, v.Cancelled, v.Lock)
	}
	e.sameAsGet("Cancel", v)
	for _, c := range []tfpilot.Caller{keyed, dev} {
		again, err := e.pilot.Cancel(e.ctx, c, r.ID, "not needed")
		if err != nil {
			t.Fatal(err)
		}
		if !again.Archived || again.NextPoll != 0 {
			t.Fatalf("Cancel again (key %q) answered archived %v, poll %v", c.IdempotencyKey, again.Archived, again.NextPoll)
		}
		e.sameAsGet("Cancel again", again)
	}
}

// TestSync_ArchivingSyncResultSaysArchived: the Sync that finds a
// destroy succeeded opens the cleanup pull request and archives the
// request; its answer says destroyed and archived, as Get would, and so
// does a later Sync of the archived request.
func TestSync_ArchivingSyncResultSaysArchived(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.applied("reports")
	if _, err := e.pilot.Destroy(e.ctx, dev, r.ID); err != nil {
		t.Fatal(err)
	}
	d, ok := runs.Current(e.doc(r.ID).Runs, runs.Destroy)
	if !ok || d.RunID == 0 {
		t.Fatalf("no destroy run: %+v", d)
	}
	if err := e.fake.Complete(d.RunID, "success"); err != nil {
		t.Fatal(err)
	}
	v, err := e.pilot.Sync(e.ctx, dev, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Archived || v.Status != lifecycle.Destroyed || v.NextPoll != 0 || v.CleanupPR == nil {
		t.Fatalf("the archiving Sync answered archived %v, %s, poll %v, cleanup PR %+v; want archived, destroyed, no polling, a cleanup PR",
			v.Archived, v.Status, v.NextPoll, v.CleanupPR)
	}
	e.sameAsGet("the archiving Sync", v)
	again, err := e.pilot.Sync(e.ctx, dev, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Archived || again.NextPoll != 0 {
		t.Fatalf("Sync of the archived request answered archived %v, poll %v", again.Archived, again.NextPoll)
	}
	e.sameAsGet("Sync of the archived request", again)
}

// TestSync_LockedWorkAnswersTheDocumentAfterRelease: a Sync that takes
// the request's lock to finish provisioning answers the document after
// it released the lock, as Get reads it, not the one it held: its own
// lock, already gone, is not shown as holding the request.
func TestSync_LockedWorkAnswersTheDocumentAfterRelease(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// GitHub refuses to open the pull request: Create leaves it to Sync.
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointCreatePull, Kind: githubtest.FaultServerError, Status: 422})
	created, err := e.pilot.Create(e.ctx, dev, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
		Config: map[string]any{"bucket_name": "reports"}})
	if err != nil || created.PR != nil {
		t.Fatalf("Create = PR %+v, %v; want a request without a pull request", created.PR, err)
	}
	v, err := e.pilot.Sync(e.ctx, dev, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.PR == nil || v.Lock != nil {
		t.Fatalf("Sync answered PR %+v, lock %+v; want the pull request opened and no lock", v.PR, v.Lock)
	}
	e.sameAsGet("Sync", v)
}

// TestPilot_EveryMethodAnswersAsGet: every mutation's answer, and every
// request of a List page, carries the status, poll interval and lock
// expiry Get derives at the same instant, so no caller reads a request
// again to show it.
func TestPilot_EveryMethodAnswersAsGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created, err := e.pilot.Create(e.ctx, dev, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
		Config: map[string]any{"bucket_name": "reports"}})
	if err != nil {
		t.Fatal(err)
	}
	if created.Status != lifecycle.Planning || created.NextPoll == 0 {
		t.Fatalf("Create answered %s, poll %v; want planning, polled", created.Status, created.NextPoll)
	}
	e.sameAsGet("Create", created)
	id := created.ID
	e.finish(id, runs.Plan, "success")
	for _, step := range []struct {
		name string
		op   func(ctxT, tfpilot.Caller, string) (tfpilot.View, error)
		who  tfpilot.Caller
	}{
		{"Approve", e.pilot.Approve, approver},
		{"Merge", e.pilot.Merge, approver},
		{"Apply", e.pilot.Apply, approver},
		{"Sync", e.pilot.Sync, dev},
	} {
		v, err := step.op(e.ctx, step.who, id)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		e.sameAsGet(step.name, v)
	}
	other := e.create("logs")
	page, err := e.pilot.List(e.ctx, dev.Principal, tfpilot.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Requests) != 2 || page.Requests[0].ID != other.ID || page.Requests[1].ID != id {
		t.Fatalf("List = %+v; want %s then %s", page.Requests, other.ID, id)
	}
	for _, v := range page.Requests {
		e.sameAsGet("List", v)
	}
	filtered, err := e.pilot.List(e.ctx, dev.Principal, tfpilot.ListQuery{Statuses: []lifecycle.Status{lifecycle.Applying}})
	if err != nil {
		t.Fatal(err)
	}
	if len(filtered.Requests) != 1 || filtered.Requests[0].ID != id || filtered.Requests[0].Status != lifecycle.Applying {
		t.Fatalf("List(applying) = %+v", filtered.Requests)
	}
	e.sameAsGet("List(applying)", filtered.Requests[0])
}

// TestView_JSONKeepsDerivedFields: a View encodes its derived fields
// beside the document (the embedded document's own encoding would drop
// them), and decodes back to the same View.
func TestView_JSONKeepsDerivedFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	v, err := e.pilot.Cancel(e.ctx, dev, r.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Request", "Status", "NextPoll", "Archived", "LockExpired"} {
		if _, ok := fields[k]; !ok {
			t.Fatalf("View JSON %s lacks %q", b, k)
		}
	}
	var back tfpilot.View
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Request == nil || back.ID != v.ID || back.Version != v.Version || back.Status != v.Status ||
		back.NextPoll != v.NextPoll || back.Archived != v.Archived || back.LockExpired != v.LockExpired {
		t.Fatalf("round trip: %+v, want %+v", back, v)
	}
}

// TestCreate_ReplayOfACancelledRequestSaysArchived: Create repeated with
// its idempotency key after the request was cancelled answers the first
// answer's document, and says where the request is now: archived.
func TestCreate_ReplayOfACancelledRequestSaysArchived(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	keyed := tfpilot.Caller{Principal: dev.Principal, IdempotencyKey: "create-1"}
	in := tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket", Config: map[string]any{"bucket_name": "reports"}}
	first, err := e.pilot.Create(e.ctx, keyed, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.pilot.Cancel(e.ctx, dev, first.ID, ""); err != nil {
		t.Fatal(err)
	}
	again, err := e.pilot.Create(e.ctx, keyed, in)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || again.Version != first.Version || !again.Archived || again.NextPoll != 0 {
		t.Fatalf("replayed Create answered %s version %d, archived %v, poll %v; want %s version %d, archived, no polling",
			again.ID, again.Version, again.Archived, again.NextPoll, first.ID, first.Version)
	}
}
