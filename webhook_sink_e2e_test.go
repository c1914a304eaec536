package tfpilot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/webhook"
)

// githubAPI calls the fake's REST API and decodes the answer into out.
func githubAPI(t *testing.T, fake *githubtest.Fake, method, path string, in, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, fake.URL()+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer test")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s", method, path, resp.Status)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWebhookSink_EndToEndWithGitHubFake drives a request from pull
// request to apply on the githubtest fake, whose signed deliveries
// (GitHub's key sets, its run-name convention, its order) are the only
// thing that updates the request document.
func TestWebhookSink_EndToEndWithGitHubFake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newMemStore(t)
	workflows := githubx.DefaultWorkflows()
	hook, err := webhook.New(webhook.Options{
		Secrets:     []string{hookSecret},
		Deliveries:  store,
		IsDuplicate: tfpilot.IsDuplicateDelivery,
		Sink:        tfpilot.NewWebhookSink(store, &tfpilot.WebhookSinkOptions{Approvals: testApprovals}),
		// githubx's classifier, adapted to webhook's function type.
		Classify: func(path, name string) runs.Kind { k, _ := workflows.Classify(path, name); return k },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	fake := githubtest.New(githubtest.Options{WebhookURL: srv.URL, WebhookSecret: hookSecret})
	defer fake.Close()
	const owner, repo = "acme", "infra"
	if _, err := fake.CreateRepo(githubtest.RepoSpec{Owner: owner, Name: repo, Files: map[string]string{"README.md": "infra\n"}}); err != nil {
		t.Fatal(err)
	}

	// The request exists, with its plan dispatched (attempt persisted
	// first, per the dispatch protocol), before GitHub says anything.
	seedRequest(t, store, "req-1", func(r *tfpilot.Request) {
		r.TargetOwner, r.TargetRepo = owner, repo
		dispatch(r, runs.Plan, "n-plan", "", time.Now())
	})
	if _, err := fake.As("tfpilot-bot").Push(owner, repo, "tfpilot/req-1", "tfpilot: s3_bucket", map[string]string{"envs/dev/tfpilot.tf": "# block\n"}); err != nil {
		t.Fatal(err)
	}
	var pr struct {
		Number int `json:"number"`
	}
	githubAPI(t, fake, http.MethodPost, fmt.Sprintf("/repos/%s/%s/pulls", owner, repo),
		map[string]any{"title": "tfpilot: req-1", "head": "tfpilot/req-1", "base": "main"}, &pr)

	dispatchRun := func(file, ref, nonce string) int64 {
		var out struct {
			RunID int64 `json:"workflow_run_id"`
		}
		githubAPI(t, fake, http.MethodPost, fmt.Sprintf("/repos/%s/%s/actions/workflows/%s/dispatches", owner, repo, file),
			map[string]any{"ref": ref, "return_run_details": true,
				"inputs": map[string]string{runs.InputRequestID: "req-1", runs.InputNonce: nonce}}, &out)
		return out.RunID
	}
	// The dispatch answer is "lost": the run id is never recorded by the
	// dispatcher, so the webhook must find the attempt by its nonce.
	planRun := dispatchRun("plan.yml", "tfpilot/req-1", "n-plan")
	if _, err := fake.Advance(planRun); err != nil {
		t.Fatal(err)
	}
	if err := fake.Complete(planRun, "success"); err != nil {
		t.Fatal(err)
	}
	if err := fake.As("alice").Approve(owner, repo, pr.Number); err != nil {
		t.Fatal(err)
	}
	merged, err := fake.As("alice").Merge(owner, repo, pr.Number)
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	if _, err := tfpilot.Mutate(ctx, store, "req-1", func(r *tfpilot.Request) error {
		r.Runs = runs.Dispatch(r.Runs, runs.Apply, runs.DispatchMeta{Nonce: "n-apply"}, time.Now())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	applyRun := dispatchRun("apply.yml", "main", "n-apply")
	if err := fake.Complete(applyRun, "success"); err != nil {
		t.Fatal(err)
	}
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	deliveries := fake.Deliveries()
	for _, d := range deliveries {
		if rec, err := store.GetDelivery(ctx, d.ID); err == nil {
			t.Logf("%s %s: %s", d.Event, d.Action, rec.Outcome)
		}
		if d.StatusCode != http.StatusOK || d.Err != nil {
			t.Errorf("delivery %s (%s %s): status %d, err %v", d.ID, d.Event, d.Action, d.StatusCode, d.Err)
		}
	}
	r := getRequest(t, store, "req-1")
	plan, _ := runs.Current(r.Runs, runs.Plan)
	apply, _ := runs.Current(r.Runs, runs.Apply)
	switch {
	case plan.RunID != planRun || plan.Conclusion != "success" || plan.CompletedAt.IsZero():
		t.Errorf("plan attempt = %+v; want run %d completed successfully", plan, planRun)
	case apply.RunID != applyRun || apply.Conclusion != "success":
		t.Errorf("apply attempt = %+v; want run %d completed successfully", apply, applyRun)
	case r.PR == nil || r.PR.Number != pr.Number || !r.PR.Merged || r.PR.Open:
		t.Errorf("pr = %+v; want #%d merged", r.PR, pr.Number)
	case r.MergedSHA != merged:
		t.Errorf("mergedSha = %q, want %q", r.MergedSHA, merged)
	case r.Approval == nil || !r.Approval.Approved || len(r.Approval.Approvers) != 1 || r.Approval.Approvers[0] != "alice":
		t.Errorf("approval = %+v; want alice", r.Approval)
	case r.Status(time.Now()) != lifecycle.Applied:
		t.Errorf("status %s, want applied", r.Status(time.Now()))
	}
	for _, k := range []runs.Kind{runs.Plan, runs.Apply} {
		if len(r.Runs.Op(k).Attempts) != 1 {
			t.Errorf("%s has %d attempts; the webhook must not add any", k, len(r.Runs.Op(k).Attempts))
		}
	}

	// GitHub's "Redeliver" of an already handled delivery does nothing.
	if len(deliveries) == 0 {
		t.Fatal("the fake sent no deliveries")
	}
	if err := fake.Redeliver(deliveries[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if again := getRequest(t, store, "req-1"); again.Version != r.Version {
		t.Errorf("redelivery wrote the request: version %d → %d", r.Version, again.Version)
	}
}
