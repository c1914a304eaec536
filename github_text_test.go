package tfpilot_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// TestConfig_BranchPrefixCorrelatesWebhooksEndToEnd: Config.BranchPrefix
// names the branches the engine creates and the branches the Pilot's
// webhook handler correlates by, so a non-default prefix keeps runs
// found. The fake answers dispatches without run details and its
// workflows' run names carry no nonce, so the branch is the only way
// to find a run.
func TestConfig_BranchPrefixCorrelatesWebhooksEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := githubtest.NewManualClock(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	fake := githubtest.New(githubtest.Options{Clock: clock, LegacyDispatch: true})
	t.Cleanup(fake.Close)
	wfs := githubtest.DefaultWorkflows()
	for i := range wfs {
		wfs[i].RunName = wfs[i].Name
	}
	if _, err := fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra", Workflows: wfs,
		Files: map[string]string{"envs/dev/tfpilot.tf": baseFile}}); err != nil {
		t.Fatal(err)
	}
	gh, err := githubx.New(githubx.Options{BaseURL: fake.URL(), AllowInsecureHTTP: true, Token: "test-token", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New(&memstore.Options{Now: clock.Now})
	p, err := tfpilot.New(store, gh, tfpilot.Config{
		Targets:      tfpilot.StaticTargets{"payments/dev": {Owner: "acme", Repo: "infra", EnvPath: "envs/dev"}},
		Catalog:      catalog(t),
		Authorizer:   tfpilot.RoleAuthorizer{Developers: []string{"dana"}},
		BranchPrefix: "infra/",
		Now:          clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := p.WebhookHandler("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	fake.SetWebhook(srv.URL, "s3cret")

	r, err := p.Create(ctx, dev, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
		Config: map[string]any{"bucket_name": "reports"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.BranchName != "infra/"+r.ID {
		t.Fatalf("branch %q; want the configured prefix", r.BranchName)
	}
	ghRuns := fake.Runs("acme", "infra")
	if len(ghRuns) != 1 {
		t.Fatalf("runs on GitHub: %+v", ghRuns)
	}
	if err := fake.Complete(ghRuns[0].ID, "success"); err != nil {
		t.Fatal(err)
	}
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := store.GetRequest(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := runs.Current(got.Runs, runs.Plan); a.RunID != ghRuns[0].ID {
		t.Fatalf("plan attempt %+v; want run %d attached by the webhook", a, ghRuns[0].ID)
	}
	v, err := p.Get(ctx, dev.Principal, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != lifecycle.PlanReady {
		t.Fatalf("status %s; want %s", v.Status, lifecycle.PlanReady)
	}
}

// TestConfig_TextReachesGitHub: the commit message and the pull
// request's title and body are Config.Text's; a field left nil keeps
// the default.
func TestConfig_TextReachesGitHub(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *tfpilot.Config, _ *tfpilot.Store) {
		c.Text = tfpilot.GitHubText{
			Commit:  func(r *tfpilot.Request) string { return "infra(" + r.Module + "): " + r.ID },
			PRTitle: func(r *tfpilot.Request) string { return "[" + r.Environment + "] " + r.Module },
			PRBody: func(r *tfpilot.Request, by tfpilot.Principal) string {
				return "Ticket for " + by.Login + " / " + r.ID
			},
		}
	})
	r := e.create("reports")
	c, err := e.fake.Commit("acme", "infra", r.CommitSHA)
	if err != nil {
		t.Fatal(err)
	}
	if want := "infra(s3_bucket): " + r.ID; c.Message != want {
		t.Errorf("commit message %q; want %q", c.Message, want)
	}
	pr, err := e.fake.PR("acme", "infra", r.PR.Number)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Title != "[dev] s3_bucket" || pr.Body != "Ticket for dana / "+r.ID {
		t.Errorf("pull request title %q, body %q", pr.Title, pr.Body)
	}
	if d := tfpilot.DefaultGitHubText(); !strings.HasPrefix(d.PRTitle(r), "tfpilot: ") {
		t.Errorf("default title %q", d.PRTitle(r))
	}
}
