package tfpilot_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
)

// eventNames lists request id's lifecycle event names in order.
func (e *env) eventNames(id string) []string {
	e.t.Helper()
	evs, err := e.store.ListEvents(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Event)
	}
	return out
}

// TestCancel_ClosesPRKeepsBranchArchivesAndRecordsEvents: a request that
// will not be applied is given up: its pull request is closed (not
// merged), its branch is kept, the request is archived with no lock and
// with who cancelled it and why, and the events say so.
func TestCancel_ClosesPRKeepsBranchArchivesAndRecordsEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	e.finish(r.ID, runs.Plan, "success")
	got, err := e.pilot.Cancel(e.ctx, dev, r.ID, "not needed after all")
	if err != nil {
		t.Fatal(err)
	}
	if got.Cancelled == nil || got.Cancelled.Actor != "dana" || got.Cancelled.Reason != "not needed after all" || got.Lock != nil || got.PR.Open {
		t.Fatalf("answer: cancelled %+v, lock %+v, pr %+v", got.Cancelled, got.Lock, got.PR)
	}
	pr, err := e.fake.PR("acme", "infra", r.PR.Number)
	if err != nil || pr.State != "closed" || pr.Merged {
		t.Fatalf("GitHub PR = %+v, %v; want closed, not merged", pr, err)
	}
	if _, err := e.fake.Branch("acme", "infra", r.BranchName); err != nil {
		t.Fatalf("branch deleted: %v", err)
	}
	if _, err := e.store.GetRequest(e.ctx, r.ID); !errors.Is(err, tfpilot.ErrNotFound) {
		t.Fatalf("live request still there: %v", err)
	}
	v, err := e.pilot.Get(e.ctx, viewer.Principal, r.ID)
	if err != nil || !v.Archived || v.Request.Cancelled == nil || v.Request.Lock != nil || v.NextPoll != 0 {
		t.Fatalf("Get = %+v, %v", v, err)
	}
	names := e.eventNames(r.ID)
	for _, want := range []string{"request_cancelled", "pr_closed", "request_archived"} {
		if !slices.Contains(names, want) {
			t.Errorf("events %v lack %s", names, want)
		}
	}
}

// TestCancel_RefusedOnceApplyDispatchedOrMerged: a change that may have
// reached the infrastructure is not cancelled (destroy is the way back):
// the request stays live and its pull request as it was.
func TestCancel_RefusedOnceApplyDispatchedOrMerged(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(e *env) *tfpilot.Request
	}{
		{"merged", func(e *env) *tfpilot.Request {
			r := e.create("merged")
			e.finish(r.ID, runs.Plan, "success")
			if _, err := e.pilot.Approve(e.ctx, approver, r.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.pilot.Merge(e.ctx, approver, r.ID); err != nil {
				t.Fatal(err)
			}
			return r
		}},
		{"applying", func(e *env) *tfpilot.Request { return e.applying("applying") }},
		{"applied", func(e *env) *tfpilot.Request {
			r := e.applying("applied")
			e.finish(r.ID, runs.Apply, "success")
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := tt.setup(e)
			before := e.doc(r.ID)
			if _, err := e.pilot.Cancel(e.ctx, approver, r.ID, ""); !errors.Is(err, tfpilot.ErrPrecondition) {
				t.Fatalf("Cancel = %v, want ErrPrecondition", err)
			}
			after := e.doc(r.ID)
			if after.Cancelled != nil || after.Version != before.Version {
				t.Fatalf("refused cancel wrote: version %d → %d, cancelled %+v", before.Version, after.Version, after.Cancelled)
			}
		})
	}
}

// TestCancel_ReplayIsIdempotent: cancelling a cancelled request returns
// it unchanged (no second event, no GitHub call); the same idempotency
// key with another reason is refused.
func TestCancel_ReplayIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	keyed := tfpilot.Caller{Principal: dev.Principal, IdempotencyKey: "k1"}
	first, err := e.pilot.Cancel(e.ctx, keyed, r.ID, "dup")
	if err != nil {
		t.Fatal(err)
	}
	events := len(e.eventNames(r.ID))
	calls := e.gh.Stats().Calls
	for _, c := range []tfpilot.Caller{keyed, dev, approver} {
		again, err := e.pilot.Cancel(e.ctx, c, r.ID, "dup")
		if err != nil || again.Version != first.Version || again.Cancelled == nil {
			t.Fatalf("replay by %s = %+v, %v", c.Principal.Login, again, err)
		}
	}
	if n := len(e.eventNames(r.ID)); n != events {
		t.Fatalf("replays recorded %d more events", n-events)
	}
	if d := e.gh.Stats().Calls - calls; d != 0 {
		t.Fatalf("replays made %d GitHub calls", d)
	}
	if _, err := e.pilot.Cancel(e.ctx, keyed, r.ID, "another reason"); !errors.Is(err, tfpilot.ErrIdempotencyKeyReused) {
		t.Fatalf("same key, other reason: %v", err)
	}
}

// TestCancel_AuthorizedLikeOtherChanges: viewers may not cancel, nor a
// developer another's request; the owner and approvers may. An
// unauthorized call changes nothing, a replay included.
func TestCancel_AuthorizedLikeOtherChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *tfpilot.Config, _ *tfpilot.Store) {
		c.Authorizer = tfpilot.RoleAuthorizer{Developers: []string{"dana", "dora"}, Approvers: []string{"abe"}}
	})
	r := e.create("reports")
	dora := tfpilot.Caller{Principal: tfpilot.Principal{Login: "dora"}}
	for _, c := range []tfpilot.Caller{viewer, dora} {
		if _, err := e.pilot.Cancel(e.ctx, c, r.ID, ""); !errors.Is(err, tfpilot.ErrPermissionDenied) {
			t.Fatalf("Cancel by %s = %v, want ErrPermissionDenied", c.Principal.Login, err)
		}
	}
	if e.doc(r.ID).Cancelled != nil {
		t.Fatal("a refused cancel cancelled")
	}
	if _, err := e.pilot.Cancel(e.ctx, approver, r.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pilot.Cancel(e.ctx, viewer, r.ID, ""); !errors.Is(err, tfpilot.ErrPermissionDenied) {
		t.Fatalf("replay by a viewer = %v, want ErrPermissionDenied", err)
	}
}

// TestCancel_InterruptedCancelBlocksOtherOperationsAndSyncFinishesIt: when
// GitHub fails the close, the cancellation is recorded; no operation but
// Sync acts on the request meanwhile, and Sync closes the pull request
// and archives it.
func TestCancel_InterruptedCancelBlocksOtherOperationsAndSyncFinishesIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	e.finish(r.ID, runs.Plan, "success")
	// The first try and the client's three retries all fail.
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointUpdatePull, Kind: githubtest.FaultServerError, Times: 4})
	if _, err := e.pilot.Cancel(e.ctx, dev, r.ID, "x"); !errors.Is(err, tfpilot.ErrUnavailable) {
		t.Fatalf("Cancel with GitHub failing = %v, want ErrUnavailable", err)
	}
	if d := e.doc(r.ID); d.Cancelled == nil || !d.PR.Open {
		t.Fatalf("after the failed close: cancelled %+v, pr %+v", d.Cancelled, d.PR)
	}
	if _, err := e.pilot.Approve(e.ctx, approver, r.ID); !errors.Is(err, tfpilot.ErrPrecondition) {
		t.Fatalf("Approve of a cancelled request = %v, want ErrPrecondition", err)
	}
	if _, err := e.pilot.Plan(e.ctx, dev, r.ID); !errors.Is(err, tfpilot.ErrPrecondition) {
		t.Fatalf("Plan of a cancelled request = %v, want ErrPrecondition", err)
	}
	if n := e.fake.PendingFaults(); n != 0 {
		t.Fatalf("%d faults left", n)
	}
	e.clock.Advance(time.Minute)
	e.sync(r.ID)
	v, err := e.pilot.Get(e.ctx, dev.Principal, r.ID)
	if err != nil || !v.Archived || v.Request.Cancelled == nil {
		t.Fatalf("after Sync: %+v, %v", v, err)
	}
	if pr, _ := e.fake.PR("acme", "infra", r.PR.Number); pr.State != "closed" || pr.Merged {
		t.Fatalf("GitHub PR = %+v", pr)
	}
	if plans := e.runsOf("plan.yml"); len(plans) != 1 {
		t.Fatalf("%d plan runs; the cancelled request was planned again", len(plans))
	}
}

// TestCancel_PRMergedOnGitHubMeanwhileIsRefused: a pull request a human
// merged on GitHub before tfpilot heard of it is not cancelled: the
// cancellation is withdrawn and the request stays live and merged.
func TestCancel_PRMergedOnGitHubMeanwhileIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("reports")
	e.finish(r.ID, runs.Plan, "success")
	if _, err := e.fake.As("abe").Merge("acme", "infra", r.PR.Number); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pilot.Cancel(e.ctx, dev, r.ID, ""); !errors.Is(err, tfpilot.ErrPrecondition) {
		t.Fatalf("Cancel of a PR merged on GitHub = %v, want ErrPrecondition", err)
	}
	d := e.doc(r.ID)
	if d.Cancelled != nil || !d.PR.Merged || d.Lock != nil {
		t.Fatalf("after the refusal: cancelled %+v, pr %+v, lock %+v", d.Cancelled, d.PR, d.Lock)
	}
	e.sync(r.ID)
	e.want(r.ID, lifecycle.Merged)
}
