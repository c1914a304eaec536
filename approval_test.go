package tfpilot_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
)

// The approval attacks: each is a way a change reached an approved (and
// so mergeable) state that nobody allowed to approve it approved. Each
// runs through Sync and through the webhook path, which share the rules.

// planned returns a request created by creator whose plan succeeded.
func planned(t *testing.T, e *env, creator tfpilot.Caller) *tfpilot.Request {
	t.Helper()
	r, err := e.pilot.Create(e.ctx, creator, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
		Config: map[string]any{"bucket_name": "reports"}})
	if err != nil {
		t.Fatal(err)
	}
	return e.finish(r.ID, runs.Plan, "success")
}

func (e *env) doc(id string) *tfpilot.Request {
	e.t.Helper()
	r, err := e.store.GetRequest(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// approvalPaths runs attack once with approvals learned by Sync and once
// with approvals learned from the fake's signed webhooks.
func approvalPaths(t *testing.T, attack func(t *testing.T, e *env, learn func(id string))) {
	t.Run("sync", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		attack(t, e, func(id string) { e.sync(id) })
	})
	t.Run("webhook", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		hooked(t, e)
		attack(t, e, func(string) { e.flush() })
	})
}

func TestApproval_ReviewByUnmappedLoginApprovesNothing(t *testing.T) {
	t.Parallel()
	approvalPaths(t, func(t *testing.T, e *env, learn func(string)) {
		r := planned(t, e, dev)
		if err := e.fake.As("mallory").Approve("acme", "infra", r.PR.Number); err != nil {
			t.Fatal(err)
		}
		learn(r.ID)
		e.want(r.ID, lifecycle.PlanReady)
		a := e.doc(r.ID).Approval
		if a == nil || a.Approved || len(a.Reviews) != 1 || a.Reviews[0].Login != "mallory" || a.Reviews[0].Ineligible == "" {
			t.Fatalf("approval %+v: want mallory's review recorded as a fact that approves nothing", a)
		}
		if _, err := e.pilot.Merge(e.ctx, approver, r.ID); !errors.Is(err, tfpilot.ErrPrecondition) {
			t.Fatalf("merge after an unmapped review: %v", err)
		}
	})
}

func TestApproval_RequesterCannotApproveOwnRequest(t *testing.T) {
	t.Parallel()
	approvalPaths(t, func(t *testing.T, e *env, learn func(string)) {
		r := planned(t, e, approver) // abe may approve, but requested it
		if _, err := e.pilot.Approve(e.ctx, approver, r.ID); !errors.Is(err, tfpilot.ErrPermissionDenied) || !errors.Is(err, tfpilot.ErrSelfApproval) {
			t.Fatalf("API self-approval: %v", err)
		}
		if err := e.fake.As("abe").Approve("acme", "infra", r.PR.Number); err != nil {
			t.Fatal(err)
		}
		learn(r.ID)
		e.want(r.ID, lifecycle.PlanReady)
		if a := e.doc(r.ID).Approval; a == nil || len(a.Reviews) != 1 || a.Reviews[0].Principal != "abe" || a.Reviews[0].Ineligible == "" {
			t.Fatalf("approval %+v: want abe's own review recorded, ineligible", a)
		}
	})
}

func TestApproval_SelfApprovalWhenTheTargetAllowsIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *tfpilot.Config, _ *tfpilot.Store) {
		c.Targets = tfpilot.StaticTargets{"payments/dev": {Owner: "acme", Repo: "infra", EnvPath: "envs/dev", AllowSelfApproval: true}}
	})
	r := planned(t, e, approver)
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	e.want(r.ID, lifecycle.Approved)
}

func TestApproval_ReviewOfAStaleCommitDoesNotCount(t *testing.T) {
	t.Parallel()
	approvalPaths(t, func(t *testing.T, e *env, learn func(string)) {
		r := planned(t, e, dev)
		if err := e.fake.As("abe").Approve("acme", "infra", r.PR.Number); err != nil {
			t.Fatal(err)
		}
		learn(r.ID)
		e.want(r.ID, lifecycle.Approved)
		// Someone pushes to the request branch: the head moves, and the
		// review of the old head approves nothing.
		if _, err := e.fake.As("mallory").Push("acme", "infra", r.BranchName, "sneak", map[string]string{"envs/dev/extra.tf": "# extra\n"}); err != nil {
			t.Fatal(err)
		}
		learn(r.ID)
		d := e.doc(r.ID)
		if d.Approval != nil && d.Approval.Approved || e.status(r.ID) == lifecycle.Approved {
			t.Fatalf("approval %+v survived a new head %s", d.Approval, d.PR.HeadSHA)
		}
		if _, err := e.pilot.Merge(e.ctx, approver, r.ID); !errors.Is(err, tfpilot.ErrPrecondition) {
			t.Fatalf("merge of an unapproved head: %v", err)
		}
	})
}

func TestApproval_UpdateConfigAfterApprovalThenSyncStaysUnapproved(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := planned(t, e, dev)
	if err := e.fake.As("abe").Approve("acme", "infra", r.PR.Number); err != nil {
		t.Fatal(err)
	}
	e.sync(r.ID)
	e.want(r.ID, lifecycle.Approved)
	if _, err := e.pilot.UpdateConfig(e.ctx, dev, r.ID, map[string]any{"bucket_name": "reports-v2"}); err != nil {
		t.Fatal(err)
	}
	e.finish(r.ID, runs.Plan, "success") // syncs
	e.sync(r.ID)
	d := e.doc(r.ID)
	if d.Approval != nil && d.Approval.Approved {
		t.Fatalf("the review of the old config approves the new one: %+v", d.Approval)
	}
	e.want(r.ID, lifecycle.PlanReady)
	if _, err := e.pilot.Merge(e.ctx, approver, r.ID); !errors.Is(err, tfpilot.ErrPrecondition) {
		t.Fatalf("merge of config nobody approved: %v", err)
	}
	// A review of the new head approves it.
	if err := e.fake.As("abe").Approve("acme", "infra", r.PR.Number); err != nil {
		t.Fatal(err)
	}
	e.sync(r.ID)
	e.want(r.ID, lifecycle.Approved)
}

func TestApproval_APIApprovalIsOfTheHeadAndVoidedByANewOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := planned(t, e, dev)
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	d := e.doc(r.ID)
	if d.Approval == nil || d.Approval.HeadSHA != d.PR.HeadSHA || len(d.Approval.Grants) != 1 || d.Approval.Grants[0].Source != tfpilot.ApprovalSourceAPI {
		t.Fatalf("approval %+v: want one API grant for head %s", d.Approval, d.PR.HeadSHA)
	}
	if _, err := e.fake.As("mallory").Push("acme", "infra", r.BranchName, "sneak", map[string]string{"envs/dev/extra.tf": "# extra\n"}); err != nil {
		t.Fatal(err)
	}
	e.sync(r.ID)
	if d := e.doc(r.ID); d.Approval != nil && (d.Approval.Approved || len(d.Approval.Grants) != 0) {
		t.Fatalf("API approval survived a new head: %+v", d.Approval)
	}
}

// TestWebhookSink_ReplayedReviewUnderNewDeliveryIDIsANoOp: a captured,
// validly signed review delivery sent again under a new delivery id (so
// the claim does not stop it) changes nothing — not after the approval
// was revoked, and not after the head moved.
func TestWebhookSink_ReplayedReviewUnderNewDeliveryIDIsANoOp(t *testing.T) {
	t.Parallel()
	store := newMemStore(t)
	seedRequest(t, store, "req-1", func(r *tfpilot.Request) {
		r.CreatedBy = "requester"
		r.PR = &tfpilot.PullRequest{Number: 7, Open: true, HeadSHA: "h1"}
	})
	if err := store.IndexPR(context.Background(), tfpilot.PRRef{Owner: testOwner, Repo: testRepo, Number: 7}, "req-1"); err != nil {
		t.Fatal(err)
	}
	h := newHook(t, store)
	approve := reviewBody(t, "submitted", "approved", "alice", 11, 7, "tfpilot/req-1", "h1")
	post(t, h, "pull_request_review", approve)
	if r := getRequest(t, store, "req-1"); !r.Approval.Approved {
		t.Fatalf("alice's approval of the head did not count: %+v", r.Approval)
	}
	post(t, h, "pull_request_review", reviewBody(t, "submitted", "changes_requested", "alice", 12, 7, "tfpilot/req-1", "h1"))
	before := getRequest(t, store, "req-1")
	if before.Approval.Approved {
		t.Fatalf("change request did not revoke: %+v", before.Approval)
	}
	post(t, h, "pull_request_review", approve) // replay, new delivery id
	if r := getRequest(t, store, "req-1"); r.Version != before.Version || r.Approval.Approved {
		t.Fatalf("replay after revocation: version %d→%d, approval %+v", before.Version, r.Version, r.Approval)
	}

	// Approve again at h1, then the head moves: replaying the approval of
	// h1 approves nothing.
	post(t, h, "pull_request_review", reviewBody(t, "submitted", "approved", "alice", 13, 7, "tfpilot/req-1", "h1"))
	post(t, h, "pull_request", prBody(t, "synchronize", 7, "tfpilot/req-1", "h2", "h1", false))
	moved := getRequest(t, store, "req-1")
	if moved.PR.HeadSHA != "h2" || moved.Approval.Approved {
		t.Fatalf("after synchronize: head %s, approval %+v", moved.PR.HeadSHA, moved.Approval)
	}
	post(t, h, "pull_request_review", reviewBody(t, "submitted", "approved", "alice", 13, 7, "tfpilot/req-1", "h1"))
	if r := getRequest(t, store, "req-1"); r.Version != moved.Version || r.Approval.Approved {
		t.Fatalf("replayed approval of the old head: %+v", r.Approval)
	}
}

// TestWebhookSink_ReviewsThatMustNotApprove: the sink's review rules,
// one delivery each on a fresh request at head h1 created by
// "requester".
func TestWebhookSink_ReviewsThatMustNotApprove(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reviewer, commit string
		wantApprovers          []string
	}{
		{"approver of the head", "alice", "h1", []string{"alice"}},
		{"unmapped login", "mallory", "h1", nil},
		{"mapped but not allowed to approve", "viewer", "h1", nil},
		{"the requester", "requester", "h1", nil},
		{"a stale commit", "alice", "h0", nil},
	}
	for _, tt := range tests {
		store := newMemStore(t)
		seedRequest(t, store, "req-1", func(r *tfpilot.Request) {
			r.CreatedBy = "requester"
			r.PR = &tfpilot.PullRequest{Number: 7, Open: true, HeadSHA: "h1"}
		})
		h := newHook(t, store)
		post(t, h, "pull_request_review", reviewBody(t, "submitted", "approved", tt.reviewer, 5, 7, "tfpilot/req-1", tt.commit))
		r := getRequest(t, store, "req-1")
		if r.Approval == nil || r.Approval.Approved != (tt.wantApprovers != nil) || !slices.Equal(r.Approval.Approvers, tt.wantApprovers) {
			t.Errorf("%s: approval %+v, want approvers %v", tt.name, r.Approval, tt.wantApprovers)
		}
		if r.Approval == nil || len(r.Approval.Reviews) != 1 {
			t.Errorf("%s: the review is not recorded as a fact", tt.name)
		}
	}
}

func TestPilot_DeveloperCannotDestroyAnothersRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *tfpilot.Config, _ *tfpilot.Store) {
		c.Authorizer = tfpilot.RoleAuthorizer{Developers: []string{"dana", "dmitri"}, Approvers: []string{"abe"}}
	})
	r := planned(t, e, dev)
	mustOK(t, e, e.pilot.Approve, approver, r.ID)
	mustOK(t, e, e.pilot.Merge, approver, r.ID)
	mustOK(t, e, e.pilot.Apply, approver, r.ID)
	e.finish(r.ID, runs.Apply, "success")
	other := tfpilot.Caller{Principal: tfpilot.Principal{Login: "dmitri"}}
	for name, op := range map[string]func(context.Context, tfpilot.Caller, string) (tfpilot.View, error){
		"destroy": e.pilot.Destroy, "plan": e.pilot.Plan,
	} {
		if _, err := op(e.ctx, other, r.ID); !errors.Is(err, tfpilot.ErrPermissionDenied) {
			t.Errorf("another developer's %s: %v", name, err)
		}
	}
	if _, err := e.pilot.UpdateConfig(e.ctx, other, r.ID, map[string]any{"bucket_name": "mine-now"}); !errors.Is(err, tfpilot.ErrPermissionDenied) {
		t.Errorf("another developer's update: %v", err)
	}
	mustOK(t, e, e.pilot.Destroy, dev, r.ID) // the requester may
}

// TestPilot_IdempotencyKeysArePerPrincipal: two callers who happen to
// use the same idempotency key each get their own request; neither is
// refused as reusing the other's key.
func TestPilot_IdempotencyKeysArePerPrincipal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *tfpilot.Config, _ *tfpilot.Store) {
		c.Authorizer = tfpilot.RoleAuthorizer{Developers: []string{"dana", "dmitri"}, Approvers: []string{"abe"}}
	})
	in := func(bucket string) tfpilot.CreateInput {
		return tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket", Config: map[string]any{"bucket_name": bucket}}
	}
	a, err := e.pilot.Create(e.ctx, tfpilot.Caller{Principal: tfpilot.Principal{Login: "dana"}, IdempotencyKey: "form-1"}, in("dana-bucket"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.pilot.Create(e.ctx, tfpilot.Caller{Principal: tfpilot.Principal{Login: "dmitri"}, IdempotencyKey: "form-1"}, in("dmitri-bucket"))
	if err != nil {
		t.Fatalf("another principal's use of the same key: %v", err)
	}
	if a.ID == b.ID || b.CreatedBy != "dmitri" {
		t.Fatalf("requests %s (%s) and %s (%s)", a.ID, a.CreatedBy, b.ID, b.CreatedBy)
	}
}
