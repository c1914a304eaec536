package tfpilot_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/lock"
	"github.com/tfpilot/tfpilot/runs"
	tfstore "github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/memstore"
	"github.com/tfpilot/tfpilot/store/pgstore"
	"github.com/tfpilot/tfpilot/webhook"
	"github.com/tfpilot/tfpilot/webhook/webhooktest"
)

const hookSecret = "hook-secret"

// Workflow files of the test infra repo.
const (
	planYML    = ".github/workflows/plan.yml"
	applyYML   = ".github/workflows/apply.yml"
	destroyYML = ".github/workflows/destroy.yml"
	cleanupYML = ".github/workflows/cleanup.yml"
)

func classifyWorkflow(path, name string) runs.Kind {
	switch path {
	case planYML:
		return "plan"
	case applyYML:
		return "apply"
	case destroyYML:
		return "destroy"
	case cleanupYML:
		return "cleanup"
	}
	return ""
}

func newMemStore(t testing.TB) tfpilot.Store {
	t.Helper()
	return memstore.New(nil)
}

// newPGStore opens a migrated pgstore on a database of its own, on the
// PostgreSQL internal/testenv provides (a skip when there is none, a
// failure when TFPILOT_TEST_REQUIRE names postgres).
func newPGStore(t testing.TB) tfpilot.Store {
	t.Helper()
	store, err := pgstore.Open(context.Background(), testenv.PostgresDSN(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return store
}

// backends are the stores the concurrency, failure and ordering tests
// run against: compare-and-swap and claim-once are each backend's own.
var backends = []struct {
	name string
	open func(testing.TB) tfpilot.Store
}{
	{"memstore", newMemStore},
	{"pgstore", newPGStore},
}

// newHook mounts a webhook handler over store with a [tfpilot.WebhookSink].
func newHook(t testing.TB, store tfpilot.Store) http.Handler {
	t.Helper()
	sink := tfpilot.NewWebhookSink(store, &tfpilot.WebhookSinkOptions{Approvals: testApprovals})
	h, err := webhook.New(webhook.Options{
		Secrets:     []string{hookSecret},
		Deliveries:  sink.Deliveries(),
		IsDuplicate: tfpilot.IsDuplicateDelivery,
		Sink:        sink,
		Classify:    classifyWorkflow,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// testApprovals maps the test reviewers to principals who may approve;
// "mallory" reviews but maps to no principal.
var testApprovals = tfpilot.ApprovalRules{
	Reviewers: map[string]tfpilot.Principal{
		"alice": {Login: "alice"}, "bob": {Login: "bob"}, "carol": {Login: "carol"}, "dave": {Login: "dave"},
		"requester": {Login: "requester"}, "viewer": {Login: "viewer"},
	},
	Authorizer: tfpilot.RoleAuthorizer{Approvers: []string{"alice", "bob", "carol", "dave", "requester"}},
}

// The test repository: the workflow_run fixtures' repository.
const (
	testOwner = "octo-org"
	testRepo  = "octo-repo"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// seedRequest stores a request targeting the test repository, after mod.
func seedRequest(t testing.TB, store tfpilot.Store, id string, mod func(r *tfpilot.Request)) *tfpilot.Request {
	t.Helper()
	r := &tfpilot.Request{
		ID: id, Project: "payments", Environment: "dev", Module: "s3_bucket",
		TargetOwner: testOwner, TargetRepo: testRepo, TargetBase: "main",
		BranchName: tfpilot.DefaultBranchPrefix + id, ReceivedAt: t0,
	}
	if mod != nil {
		mod(r)
	}
	stored, err := store.CreateRequest(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func dispatch(r *tfpilot.Request, kind runs.Kind, nonce, headSHA string, at time.Time) {
	r.Runs = runs.Dispatch(r.Runs, kind, runs.DispatchMeta{Nonce: nonce, HeadSHA: headSHA, Actor: "alice"}, at)
}

// run describes a workflow_run delivery built from the fixture.
type run struct {
	action, path, title, branch, sha string
	trigger                          string // default workflow_dispatch
	id                               int64
	prs                              []int
	created                          time.Time
}

// body builds the delivery: the completed fixture with run's fields.
func (r run) body(t testing.TB) []byte {
	t.Helper()
	fields := map[string]any{
		"action":                     r.action,
		"workflow_run.id":            r.id,
		"workflow_run.path":          r.path,
		"workflow.path":              r.path,
		"workflow_run.display_title": r.title,
		"workflow_run.head_branch":   r.branch,
		"workflow_run.head_sha":      r.sha,
		"workflow_run.html_url":      fmt.Sprintf("https://github.com/%s/%s/actions/runs/%d", testOwner, testRepo, r.id),
	}
	fields["workflow_run.event"] = "workflow_dispatch"
	if r.trigger != "" {
		fields["workflow_run.event"] = r.trigger
	}
	created := r.created
	if created.IsZero() {
		created = t0.Add(time.Minute)
	}
	fields["workflow_run.created_at"] = created.Format(time.RFC3339)
	switch r.action {
	case "requested":
		fields["workflow_run.status"], fields["workflow_run.conclusion"] = "queued", nil
		fields["workflow_run.updated_at"] = created.Format(time.RFC3339)
	case "in_progress":
		fields["workflow_run.status"], fields["workflow_run.conclusion"] = "in_progress", nil
		fields["workflow_run.updated_at"] = created.Add(time.Minute).Format(time.RFC3339)
	default:
		fields["workflow_run.status"], fields["workflow_run.conclusion"] = "completed", "success"
		fields["workflow_run.updated_at"] = created.Add(5 * time.Minute).Format(time.RFC3339)
	}
	prs := []map[string]any{}
	for _, n := range r.prs {
		prs = append(prs, map[string]any{"number": n})
	}
	fields["workflow_run.pull_requests"] = prs
	return webhooktest.With(t, webhooktest.Fixture(t, "workflow_run.completed.json"), fields)
}

// prBody builds a pull_request delivery in the test repository from the
// fixture for action (closed+merged when merged).
func prBody(t testing.TB, action string, number int, headRef, headSHA, before string, merged bool) []byte {
	t.Helper()
	file := "pull_request." + action + ".json"
	if action == "reopened" {
		file = "pull_request.opened.json"
	}
	state := "open"
	if action == "closed" {
		state = "closed"
	}
	fields := map[string]any{
		"action":                        action,
		"number":                        number,
		"pull_request.number":           number,
		"pull_request.state":            state,
		"pull_request.html_url":         fmt.Sprintf("https://github.com/%s/%s/pull/%d", testOwner, testRepo, number),
		"pull_request.head.ref":         headRef,
		"pull_request.head.sha":         headSHA,
		"pull_request.merged":           merged,
		"repository.name":               testRepo,
		"repository.owner.login":        testOwner,
		"repository.full_name":          testOwner + "/" + testRepo,
		"pull_request.merged_at":        nil,
		"pull_request.merge_commit_sha": "test-merge-" + headSHA,
	}
	if merged {
		fields["pull_request.merged_at"] = "2026-03-01T13:00:00Z"
		fields["pull_request.merge_commit_sha"] = "merge-" + headSHA
	}
	if action == "synchronize" {
		fields["before"], fields["after"] = before, headSHA
	}
	return webhooktest.With(t, webhooktest.Fixture(t, file), fields)
}

// reviewBody builds a pull_request_review delivery in the test repository.
func reviewBody(t testing.TB, action, state, reviewer string, reviewID int64, number int, headRef, commit string) []byte {
	t.Helper()
	return webhooktest.With(t, webhooktest.Fixture(t, "pull_request_review.submitted.json"), map[string]any{
		"action":                 action,
		"review.commit_id":       commit,
		"review.state":           state,
		"review.id":              reviewID,
		"review.user.login":      reviewer,
		"pull_request.number":    number,
		"pull_request.head.ref":  headRef,
		"repository.name":        testRepo,
		"repository.owner.login": testOwner,
	})
}

var deliverySeq atomic.Int64

// post delivers body as a fresh delivery and fails t unless GitHub is
// answered 200; it returns the answer's outcome.
func post(t testing.TB, h http.Handler, event string, body []byte) string {
	t.Helper()
	id := fmt.Sprintf("delivery-%d", deliverySeq.Add(1))
	rec := webhooktest.Post(h, hookSecret, event, id, body)
	if rec.Code != http.StatusOK {
		t.Fatalf("delivery %s (%s): status %d %q", id, event, rec.Code, rec.Body.String())
	}
	return strings.TrimSpace(rec.Body.String())
}

func getRequest(t testing.TB, store tfpilot.Store, id string) *tfpilot.Request {
	t.Helper()
	r, err := store.GetRequest(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func eventNames(t testing.TB, store tfpilot.Store, id string) []string {
	t.Helper()
	evs, err := store.ListEvents(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range evs {
		names = append(names, e.Event)
	}
	return names
}

func attempt(t testing.TB, r *tfpilot.Request, kind runs.Kind, n int) runs.Attempt {
	t.Helper()
	for _, a := range r.Runs.Op(kind).Attempts {
		if a.Attempt == n {
			return a
		}
	}
	t.Fatalf("%s has no %s attempt %d", r.ID, kind, n)
	return runs.Attempt{}
}

func TestWebhookSink_CorrelatesWorkflowRunsAndNeverAppendsAttempts(t *testing.T) {
	t.Parallel()
	const head, merge = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	tests := []struct {
		name  string
		setup func(t *testing.T, s tfpilot.Store) // seeds req-1
		run   run
		// wantKind/wantAttempt: the attempt that must carry the run
		// afterwards; wantAttempt 0 means the run must be on no attempt.
		wantKind    runs.Kind
		wantAttempt int
		wantEvent   string
		outcome     string // substring
	}{
		{
			name: "run index first",
			setup: func(t *testing.T, s tfpilot.Store) {
				seedRequest(t, s, "req-1", func(r *tfpilot.Request) {
					dispatch(r, runs.Plan, "n1", head, t0)
					r.Runs, _ = runs.AttachRunID(r.Runs, runs.Plan, 1, 101, "")
				})
				if err := s.IndexRun(context.Background(), runs.Plan, 101, "req-1"); err != nil {
					t.Fatal(err)
				}
			},
			// Name and branch point nowhere: only the index can find it.
			run:      run{action: "completed", path: planYML, id: 101, title: "Plan", branch: "main", sha: head},
			wantKind: runs.Plan, wantAttempt: 1, wantEvent: "plan_completed", outcome: "completed success",
		},
		{
			name: "nonce in the run name attaches to the attempt that dispatched it, not the current one",
			setup: func(t *testing.T, s tfpilot.Store) {
				seedRequest(t, s, "req-1", func(r *tfpilot.Request) {
					dispatch(r, runs.Plan, "n1", head, t0)
					dispatch(r, runs.Plan, "n2", head, t0)
				})
			},
			run:      run{action: "in_progress", path: planYML, id: 102, title: "Plan: tfpilot req-1 n1", branch: "tfpilot/req-1", sha: head},
			wantKind: runs.Plan, wantAttempt: 1, wantEvent: "plan_started", outcome: "attached by run name",
		},
		{
			name: "pull request index attaches to the current attempt",
			setup: func(t *testing.T, s tfpilot.Store) {
				seedRequest(t, s, "req-1", func(r *tfpilot.Request) {
					r.PR = &tfpilot.PullRequest{Number: 12, Open: true}
					dispatch(r, runs.Plan, "n1", head, t0)
				})
				if err := s.IndexPR(context.Background(), tfpilot.PRRef{Owner: testOwner, Repo: testRepo, Number: 12}, "req-1"); err != nil {
					t.Fatal(err)
				}
			},
			run:      run{action: "requested", path: planYML, id: 103, title: "Plan", branch: "feature", sha: head, prs: []int{12}},
			wantKind: runs.Plan, wantAttempt: 1, wantEvent: "plan_run_attached", outcome: "attached (pr index)",
		},
		{
			name: "request branch attaches to the current attempt",
			setup: func(t *testing.T, s tfpilot.Store) {
				seedRequest(t, s, "req-1", func(r *tfpilot.Request) { dispatch(r, runs.Plan, "", head, t0) })
			},
			run:      run{action: "completed", path: planYML, id: 104, title: "Plan", branch: "tfpilot/req-1", sha: head},
			wantKind: runs.Plan, wantAttempt: 1, wantEvent: "plan_completed", outcome: "attached by branch",
		},
		{
			name: "branch: the current attempt already has a run",
			setup: func(t *testing.T, s tfpilot.Store) {
				seedRequest(t, s, "req-1", func(r *tfpilot.Request) {
					dispatch(r, runs.Plan, "", head, t0)
					r.Runs, _ = runs.AttachRunID(r.Runs, runs.Plan, 1, 99, "")
				})
			},
			run:     run{action: "completed", path: planYML, id: 105, title: "Plan", branch: "tfpilot/req-1", sha: head},
			outcome: "already has run 99",
		},
		{
			name: "branch: the attempt was dispatched for another commit",
			setup: func(t *testing.T, s tfpilot.Store) {
				seedRequest(t, s, "req-1", func(r *tfpilot.Request) { dispatch(r, runs.Plan, "", head, t0) })
			},
			run:     run{action: "completed", path: planYML, id: 106, title: "Plan", branch: "tfpilot/req-1", sha: merge},
			outcome: "is not the attempt's",
		},
		{
			name: "branch: the run is older than the dispatch",
			setup: func(t *testing.T, s tfpilot.Store) {
				seedRequest(t, s, "req-1", func(r *tfpilot.Request) { dispatch(r, runs.Plan, "", "", t0) })
			},
			run:     run{action: "completed", path: planYML, id: 107, title: "Plan", branch: "tfpilot/req-1", sha: head, created: t0.Add(-time.Hour)},
			outcome: "created before",
		},
		{
			name: "branch: the run name carries another attempt's nonce",
			setup: func(t *testing.T, s tfpilot.Store) {
				seedRequest(t, s, "req-1", func(r *tfpilot.Request) { dispatch(r, runs.Plan, "n1", "", t0) })
			},
			run:     run{action: "completed", path: planYML, id: 108, title: "tfpilot req-9 n9", branch: "tfpilot/req-1", sha: head},
			outcome: "carries nonce",
		},
		{
			name: "branch: a run a push or pull request started is no attempt",
			setup: func(t *testing.T, s tfpilot.Store) {
				seedRequest(t, s, "req-1", func(r *tfpilot.Request) { dispatch(r, runs.Plan, "", "", t0) })
			},
			run:     run{action: "completed", path: planYML, id: 115, title: "Plan", branch: "tfpilot/req-1", sha: head, trigger: "pull_request"},
			outcome: "started by pull_request",
		},
		{
			name: "apply run on another request's commit is not attached (cross-request guard)",
			setup: func(t *testing.T, s tfpilot.Store) {
				seedRequest(t, s, "req-1", func(r *tfpilot.Request) {
					r.MergedSHA = merge
					dispatch(r, runs.Apply, "", "", t0)
				})
			},
			run:     run{action: "completed", path: applyYML, id: 109, title: "Apply", branch: "tfpilot/req-1", sha: head},
			outcome: "neither the request's mergedSha nor its commitSha",
		},
		{
			name: "apply run on the merged commit is attached",
			setup: func(t *testing.T, s tfpilot.Store) {
				seedRequest(t, s, "req-1", func(r *tfpilot.Request) {
					r.MergedSHA = merge
					dispatch(r, runs.Apply, "", "", t0)
				})
			},
			run:      run{action: "completed", path: applyYML, id: 110, title: "Apply", branch: "tfpilot/req-1", sha: merge},
			wantKind: runs.Apply, wantAttempt: 1, wantEvent: "apply_completed", outcome: "attached by branch",
		},
		{
			name: "run in another repository is not attached",
			setup: func(t *testing.T, s tfpilot.Store) {
				seedRequest(t, s, "req-1", func(r *tfpilot.Request) {
					r.TargetRepo = "other"
					dispatch(r, runs.Plan, "", "", t0)
				})
			},
			run:     run{action: "completed", path: planYML, id: 111, title: "Plan", branch: "tfpilot/req-1", sha: head},
			outcome: "the request targets",
		},
		{
			name: "uncorrelated run changes nothing",
			setup: func(t *testing.T, s tfpilot.Store) {
				seedRequest(t, s, "req-1", func(r *tfpilot.Request) { dispatch(r, runs.Plan, "n1", "", t0) })
			},
			run:     run{action: "completed", path: planYML, id: 112, title: "Plan", branch: "main", sha: head},
			outcome: "uncorrelated",
		},
		{
			name: "run name of an unknown request changes nothing",
			setup: func(t *testing.T, s tfpilot.Store) {
				seedRequest(t, s, "req-1", func(r *tfpilot.Request) { dispatch(r, runs.Plan, "n1", "", t0) })
			},
			run:     run{action: "completed", path: planYML, id: 113, title: "tfpilot req-404 n1", branch: "main", sha: head},
			outcome: "req-404 (run name): request not found",
		},
		{
			name: "cleanup runs are not attempts",
			setup: func(t *testing.T, s tfpilot.Store) {
				seedRequest(t, s, "req-1", func(r *tfpilot.Request) { dispatch(r, runs.Plan, "n1", "", t0) })
			},
			run:     run{action: "completed", path: cleanupYML, id: 114, title: "tfpilot req-1 n1", branch: "tfpilot/req-1", sha: head},
			outcome: "ignored: cleanup",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := newMemStore(t)
			tt.setup(t, store)
			before := getRequest(t, store, "req-1")
			out := post(t, newHook(t, store), "workflow_run", tt.run.body(t))
			if !strings.Contains(out, tt.outcome) {
				t.Errorf("outcome %q does not contain %q", out, tt.outcome)
			}
			after := getRequest(t, store, "req-1")

			// INV-CORE-3: attempts are patched, never appended or moved.
			for _, k := range runs.Kinds() {
				b, a := before.Runs.Op(k), after.Runs.Op(k)
				if len(a.Attempts) != len(b.Attempts) || a.CurrentAttempt != b.CurrentAttempt {
					t.Errorf("%s attempts %d→%d, current %d→%d", k, len(b.Attempts), len(a.Attempts), b.CurrentAttempt, a.CurrentAttempt)
				}
			}
			events := eventNames(t, store, "req-1")
			if tt.wantAttempt == 0 {
				for _, k := range runs.Kinds() {
					if a, ok := runs.FindByRunID(after.Runs, k, tt.run.id); ok {
						t.Errorf("run attached to %s attempt %d", k, a.Attempt)
					}
				}
				if after.Version != before.Version || len(events) != 0 {
					t.Errorf("version %d→%d, events %v; want no write", before.Version, after.Version, events)
				}
				return
			}
			a := attempt(t, after, tt.wantKind, tt.wantAttempt)
			if a.RunID != tt.run.id || a.URL == "" {
				t.Errorf("attempt %d = %+v; want run %d with its url", tt.wantAttempt, a, tt.run.id)
			}
			if got, err := store.LookupRun(context.Background(), tt.wantKind, tt.run.id); err != nil || got != "req-1" {
				t.Errorf("run index = %q, %v; want req-1", got, err)
			}
			// One write with the staged event, one clearing the flushed outbox.
			if after.Version != before.Version+2 || len(after.Outbox) != 0 || !slices.Equal(events, []string{tt.wantEvent}) {
				t.Errorf("version %d→%d, events %v; want one write and [%s]", before.Version, after.Version, events, tt.wantEvent)
			}
		})
	}
}

func TestWebhookSink_PatchIsMonotonicAndNoChangeWritesNothing(t *testing.T) {
	t.Parallel()
	store := newMemStore(t)
	seedRequest(t, store, "req-1", func(r *tfpilot.Request) { dispatch(r, runs.Plan, "n1", "", t0) })
	h := newHook(t, store)
	base := run{path: planYML, id: 201, title: "tfpilot req-1 n1", branch: "tfpilot/req-1", sha: "abc"}
	steps := []struct {
		action     string
		wantStatus string
		wantWrite  bool
	}{
		{"requested", "queued", true}, // attaches the run
		{"completed", "completed", true},
		{"in_progress", "completed", false}, // late: never goes back
		{"requested", "completed", false},
		{"completed", "completed", false}, // same facts, new delivery id
	}
	for i, st := range steps {
		before := getRequest(t, store, "req-1")
		nEvents := len(eventNames(t, store, "req-1"))
		r := base
		r.action = st.action
		post(t, h, "workflow_run", r.body(t))
		after := getRequest(t, store, "req-1")
		a := attempt(t, after, runs.Plan, 1)
		if a.Status != st.wantStatus {
			t.Errorf("step %d (%s): status %q, want %q", i, st.action, a.Status, st.wantStatus)
		}
		wrote := after.Version != before.Version
		gotEvents := len(eventNames(t, store, "req-1")) - nEvents
		if wrote != st.wantWrite || gotEvents != map[bool]int{true: 1, false: 0}[st.wantWrite] {
			t.Errorf("step %d (%s): wrote %v with %d events; want write %v with one event per write", i, st.action, wrote, gotEvents, st.wantWrite)
		}
	}
	a := attempt(t, getRequest(t, store, "req-1"), runs.Plan, 1)
	// INV-COMP-1: completed_at is null in the fixture, so updated_at.
	if a.Conclusion != "success" || !a.CompletedAt.Equal(t0.Add(6*time.Minute)) {
		t.Errorf("attempt = %+v; want success completed at updated_at", a)
	}
}

func TestWebhookSink_PullRequestFacts(t *testing.T) {
	t.Parallel()
	const a, b = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	store := newMemStore(t)
	seedRequest(t, store, "req-1", nil)
	h := newHook(t, store)
	ref := tfpilot.PRRef{Owner: testOwner, Repo: testRepo, Number: 7}
	steps := []struct {
		name  string
		body  []byte
		want  tfpilot.PullRequest
		merge string
		event string // "" = no write
	}{
		{"opened, found by branch", prBody(t, "opened", 7, "tfpilot/req-1", a, "", false),
			tfpilot.PullRequest{Number: 7, Open: true, HeadSHA: a}, "", "pr_opened"},
		{"synchronize moves the head", prBody(t, "synchronize", 7, "tfpilot/req-1", b, a, false),
			tfpilot.PullRequest{Number: 7, Open: true, HeadSHA: b}, "", "pr_synchronized"},
		{"a late opened does not move the head back", prBody(t, "opened", 7, "tfpilot/req-1", a, "", false),
			tfpilot.PullRequest{Number: 7, Open: true, HeadSHA: b}, "", ""},
		{"closed without merging", prBody(t, "closed", 7, "tfpilot/req-1", b, "", false),
			tfpilot.PullRequest{Number: 7, HeadSHA: b}, "", "pr_closed"},
		{"reopened", prBody(t, "reopened", 7, "tfpilot/req-1", b, "", false),
			tfpilot.PullRequest{Number: 7, Open: true, HeadSHA: b}, "", "pr_reopened"},
		{"merged records mergedSha", prBody(t, "closed", 7, "tfpilot/req-1", b, "", true),
			tfpilot.PullRequest{Number: 7, Merged: true, HeadSHA: b}, "merge-" + b, "pr_merged"},
		{"merged is terminal", prBody(t, "reopened", 7, "tfpilot/req-1", b, "", false),
			tfpilot.PullRequest{Number: 7, Merged: true, HeadSHA: b}, "merge-" + b, ""},
		{"another pull request on the branch is not the request's", prBody(t, "opened", 8, "tfpilot/req-1", a, "", false),
			tfpilot.PullRequest{Number: 7, Merged: true, HeadSHA: b}, "merge-" + b, ""},
	}
	for _, st := range steps {
		before := getRequest(t, store, "req-1")
		nEvents := len(eventNames(t, store, "req-1"))
		post(t, h, "pull_request", st.body)
		r := getRequest(t, store, "req-1")
		got := *r.PR
		got.URL = ""
		if got != st.want || r.MergedSHA != st.merge {
			t.Errorf("%s: pr = %+v, mergedSha %q; want %+v, %q", st.name, got, r.MergedSHA, st.want, st.merge)
		}
		events := eventNames(t, store, "req-1")[nEvents:]
		if st.event == "" && (r.Version != before.Version || len(events) != 0) {
			t.Errorf("%s: wrote (version %d→%d, events %v); want nothing", st.name, before.Version, r.Version, events)
		}
		if st.event != "" && !slices.Equal(events, []string{st.event}) {
			t.Errorf("%s: events %v, want [%s]", st.name, events, st.event)
		}
	}
	if id, err := store.LookupPR(context.Background(), ref); err != nil || id != "req-1" {
		t.Errorf("pr index = %q, %v; want req-1 (indexed when found by branch)", id, err)
	}
	if _, err := store.LookupPR(context.Background(), tfpilot.PRRef{Owner: testOwner, Repo: testRepo, Number: 8}); !errors.Is(err, tfpilot.ErrNotFound) {
		t.Errorf("pull request 8 indexed: %v", err)
	}
}

func TestWebhookSink_ReviewsGrantAndRevokeApproval(t *testing.T) {
	t.Parallel()
	store := newMemStore(t)
	seedRequest(t, store, "req-1", func(r *tfpilot.Request) { r.PR = &tfpilot.PullRequest{Number: 7, Open: true, HeadSHA: "x"} })
	if err := store.IndexPR(context.Background(), tfpilot.PRRef{Owner: testOwner, Repo: testRepo, Number: 7}, "req-1"); err != nil {
		t.Fatal(err)
	}
	h := newHook(t, store)
	steps := []struct {
		name          string
		body          []byte
		wantApproved  bool
		wantApprovers []string
		wantEvent     string
	}{
		{"bob approves", reviewBody(t, "submitted", "approved", "bob", 1, 7, "x", "x"), true, []string{"bob"}, "request_approved"},
		{"alice approves (kept sorted)", reviewBody(t, "submitted", "approved", "alice", 2, 7, "x", "x"), true, []string{"alice", "bob"}, "request_approved"},
		{"bob approves again", reviewBody(t, "submitted", "approved", "bob", 3, 7, "x", "x"), true, []string{"alice", "bob"}, "review_recorded"},
		{"bob's second approval replayed", reviewBody(t, "submitted", "approved", "bob", 3, 7, "x", "x"), true, []string{"alice", "bob"}, ""},
		{"carol requests changes (never approved)", reviewBody(t, "submitted", "changes_requested", "carol", 4, 7, "x", "x"), true, []string{"alice", "bob"}, "review_recorded"},
		{"alice requests changes", reviewBody(t, "submitted", "changes_requested", "alice", 5, 7, "x", "x"), true, []string{"bob"}, "approval_revoked"},
		{"bob's older approval dismissed (his latest still approves)", reviewBody(t, "dismissed", "dismissed", "bob", 1, 7, "x", "x"), true, []string{"bob"}, "review_recorded"},
		{"bob's latest approval dismissed", reviewBody(t, "dismissed", "dismissed", "bob", 3, 7, "x", "x"), false, []string{}, "approval_revoked"},
		{"a comment is not a decision", reviewBody(t, "submitted", "commented", "dave", 6, 7, "x", "x"), false, []string{}, ""},
	}
	for _, st := range steps {
		nEvents := len(eventNames(t, store, "req-1"))
		post(t, h, "pull_request_review", st.body)
		r := getRequest(t, store, "req-1")
		if r.Approval == nil || r.Approval.Approved != st.wantApproved || !slices.Equal(r.Approval.Approvers, st.wantApprovers) {
			t.Errorf("%s: approval = %+v; want approved %v by %v", st.name, r.Approval, st.wantApproved, st.wantApprovers)
		}
		events := eventNames(t, store, "req-1")[nEvents:]
		if want := []string{st.wantEvent}; (st.wantEvent == "" && len(events) != 0) || (st.wantEvent != "" && !slices.Equal(events, want)) {
			t.Errorf("%s: events %v, want %q", st.name, events, st.wantEvent)
		}
	}
}

// TestWebhookSink_FixturesWithAndWithoutSignature posts every real
// payload, unchanged, through the whole stack.
func TestWebhookSink_FixturesWithAndWithoutSignature(t *testing.T) {
	t.Parallel()
	fixtures := []struct{ file, event string }{
		{"workflow_run.requested.json", "workflow_run"},
		{"workflow_run.completed.json", "workflow_run"},
		{"workflow_job.in_progress.json", "workflow_job"},
		{"pull_request.opened.json", "pull_request"},
		{"pull_request.closed.json", "pull_request"},
		{"pull_request.synchronize.json", "pull_request"},
		{"pull_request_review.submitted.json", "pull_request_review"},
		{"ping.json", "ping"},
	}
	for _, f := range fixtures {
		for _, signer := range []string{"valid", "wrong", "missing"} {
			t.Run(f.file+"/"+signer, func(t *testing.T) {
				t.Parallel()
				store := newMemStore(t)
				seedRequest(t, store, "req-1", nil)
				h := newHook(t, store)
				body := webhooktest.Fixture(t, f.file)
				secret := map[string]string{"valid": hookSecret, "wrong": "guess", "missing": ""}[signer]
				rec := webhooktest.Post(h, secret, f.event, "d-1", body)
				_, claimErr := store.GetDelivery(context.Background(), "d-1")
				switch {
				case signer != "valid":
					if rec.Code != http.StatusUnauthorized || !errors.Is(claimErr, tfpilot.ErrNotFound) {
						t.Fatalf("status %d, delivery record err %v; want 401 and no record", rec.Code, claimErr)
					}
				case f.event == "ping":
					if rec.Code != http.StatusOK {
						t.Fatalf("status %d", rec.Code)
					}
				default:
					d, err := store.GetDelivery(context.Background(), "d-1")
					if rec.Code != http.StatusOK || err != nil || d.CompletedAt.IsZero() || d.Outcome == "" || d.Event != f.event {
						t.Fatalf("status %d, delivery %+v, %v; want 200 and a completed record", rec.Code, d, err)
					}
				}
				// No fixture belongs to req-1.
				if r := getRequest(t, store, "req-1"); r.Version != 1 {
					t.Errorf("req-1 written: version %d", r.Version)
				}
			})
		}
	}
}

// failingStore fails the first UpdateRequest it sees when armed.
type failingStore struct {
	tfpilot.Store
	armed atomic.Bool
}

var errInjected = errors.New("injected store failure")

func (s *failingStore) UpdateRequest(ctx context.Context, r *tfpilot.Request) (*tfpilot.Request, error) {
	if s.armed.CompareAndSwap(true, false) {
		return nil, errInjected
	}
	return s.Store.UpdateRequest(ctx, r)
}

func TestWebhookSink_FailedDeliveryIsRedeliverable(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			store := &failingStore{Store: be.open(t)}
			seedRequest(t, store, "req-1", func(r *tfpilot.Request) { dispatch(r, runs.Plan, "n1", "", t0) })
			h := newHook(t, store)
			body := run{action: "completed", path: planYML, id: 301, title: "tfpilot req-1 n1", branch: "tfpilot/req-1", sha: "abc"}.body(t)

			store.armed.Store(true)
			if rec := webhooktest.Post(h, hookSecret, "workflow_run", "d-1", body); rec.Code != http.StatusInternalServerError {
				t.Fatalf("failing delivery: status %d, want 500", rec.Code)
			}
			if _, err := store.GetDelivery(context.Background(), "d-1"); !errors.Is(err, tfpilot.ErrNotFound) {
				t.Fatalf("claim of the failed delivery: %v; want released", err)
			}
			if a := attempt(t, getRequest(t, store, "req-1"), runs.Plan, 1); a.RunID != 0 {
				t.Fatalf("failed delivery changed the attempt: %+v", a)
			}

			// GitHub's "Redeliver" sends the same delivery id.
			if rec := webhooktest.Post(h, hookSecret, "workflow_run", "d-1", body); rec.Code != http.StatusOK {
				t.Fatalf("redelivery: status %d %q", rec.Code, rec.Body.String())
			}
			d, err := store.GetDelivery(context.Background(), "d-1")
			if err != nil || d.CompletedAt.IsZero() {
				t.Fatalf("redelivery record %+v, %v; want completed", d, err)
			}
			a := attempt(t, getRequest(t, store, "req-1"), runs.Plan, 1)
			if a.RunID != 301 || a.Conclusion != "success" {
				t.Fatalf("after redelivery attempt = %+v", a)
			}
			if ev := eventNames(t, store, "req-1"); !slices.Equal(ev, []string{"plan_completed"}) {
				t.Fatalf("events %v", ev)
			}
		})
	}
}

func TestWebhookSink_ConcurrentCopiesWorkOnce(t *testing.T) {
	t.Parallel()
	const copies = 32
	for _, be := range backends {
		for _, sameID := range []bool{true, false} {
			name := be.name + "/" + map[bool]string{true: "one delivery id", false: "distinct ids, same facts"}[sameID]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				store := be.open(t)
				seedRequest(t, store, "req-1", func(r *tfpilot.Request) { dispatch(r, runs.Plan, "n1", "", t0) })
				h := newHook(t, store)
				body := run{action: "completed", path: planYML, id: 401, title: "tfpilot req-1 n1", branch: "tfpilot/req-1", sha: "abc"}.body(t)
				var wg sync.WaitGroup
				start := make(chan struct{})
				codes := make([]int, copies)
				for i := range copies {
					wg.Go(func() {
						<-start
						id := "d-1"
						if !sameID {
							id = fmt.Sprint("d-", i)
						}
						codes[i] = webhooktest.Post(h, hookSecret, "workflow_run", id, body).Code
					})
				}
				close(start)
				wg.Wait()
				for i, c := range codes {
					if c != http.StatusOK {
						t.Errorf("copy %d: status %d", i, c)
					}
				}
				r := getRequest(t, store, "req-1")
				// One write with the staged event, one clearing the flushed
				// outbox; one write recording the event with a DeliveryWriter.
				want := int64(3)
				if _, ok := store.(tfstore.DeliveryWriter); ok {
					want = 2
				}
				if ev := eventNames(t, store, "req-1"); r.Version != want || len(r.Outbox) != 0 || !slices.Equal(ev, []string{"plan_completed"}) {
					t.Fatalf("version %d, events %v; want one write and one event", r.Version, ev)
				}
			})
		}
	}
}

func TestWebhookSink_OptionsBranchPrefixAndClock(t *testing.T) {
	t.Parallel()
	store := newMemStore(t)
	seedRequest(t, store, "req-1", func(r *tfpilot.Request) { dispatch(r, runs.Plan, "", "", t0) })
	stamp := t0.Add(42 * time.Minute)
	h, err := webhook.New(webhook.Options{
		Secrets: []string{hookSecret}, Deliveries: store, IsDuplicate: tfpilot.IsDuplicateDelivery,
		Sink:     tfpilot.NewWebhookSink(store, &tfpilot.WebhookSinkOptions{BranchPrefix: "infra/", Now: func() time.Time { return stamp }}),
		Classify: classifyWorkflow,
	})
	if err != nil {
		t.Fatal(err)
	}
	// The default prefix no longer names the request…
	post(t, h, "workflow_run", run{action: "completed", path: planYML, id: 601, title: "Plan", branch: "tfpilot/req-1", sha: "abc"}.body(t))
	if a := attempt(t, getRequest(t, store, "req-1"), runs.Plan, 1); a.RunID != 0 {
		t.Fatalf("run attached through the default prefix: %+v", a)
	}
	// …the configured one does, and the write is stamped by the clock.
	post(t, h, "workflow_run", run{action: "completed", path: planYML, id: 602, title: "Plan", branch: "infra/req-1", sha: "abc"}.body(t))
	r := getRequest(t, store, "req-1")
	if a := attempt(t, r, runs.Plan, 1); a.RunID != 602 || !r.UpdatedAt.Equal(stamp) {
		t.Fatalf("attempt %+v, updatedAt %v; want run 602 at %v", a, r.UpdatedAt, stamp)
	}
}

func TestIsDuplicateDelivery_MatchesTheStoreClaimError(t *testing.T) {
	t.Parallel()
	store := newMemStore(t)
	ctx := context.Background()
	if _, err := store.ClaimDelivery(ctx, "d-1", "ping"); err != nil || tfpilot.IsDuplicateDelivery(err) {
		t.Fatalf("first claim: %v", err)
	}
	if _, err := store.ClaimDelivery(ctx, "d-1", "ping"); !tfpilot.IsDuplicateDelivery(err) {
		t.Fatalf("second claim: %v; want a duplicate", err)
	}
	if tfpilot.IsDuplicateDelivery(errInjected) {
		t.Fatal("an unrelated error counts as a duplicate")
	}
}

// TestWebhookSink_WriteDropsAnExpiredLockKeepsAnActiveOne: an expired
// lock is no lock. A holder killed mid-operation leaves its lock in the
// document; the next webhook write drops it, while a live holder's lock
// is never touched by a fact patch.
func TestWebhookSink_WriteDropsAnExpiredLockKeepsAnActiveOne(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		expires time.Time
		kept    bool
	}{
		{"expired", t0.Add(2 * time.Minute), false},
		{"active", time.Now().Add(time.Hour), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := newMemStore(t)
			seedRequest(t, store, "req-1", func(r *tfpilot.Request) {
				dispatch(r, runs.Plan, "n1", "", t0)
				r.Lock = &lock.Lock{Holder: "replica-a/plan/x", Operation: "plan", AcquiredAt: t0, ExpiresAt: tc.expires}
			})
			h := newHook(t, store)
			post(t, h, "workflow_run", run{action: "requested", path: planYML, id: 201, title: "tfpilot req-1 n1", branch: "tfpilot/req-1", sha: "abc"}.body(t))
			r := getRequest(t, store, "req-1")
			if attempt(t, r, runs.Plan, 1).RunID != 201 {
				t.Fatalf("run not attached: %+v", r.Runs)
			}
			if (r.Lock != nil) != tc.kept {
				t.Errorf("lock after the write = %+v; want kept %v", r.Lock, tc.kept)
			}
		})
	}
}
