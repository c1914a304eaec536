package githubx_test

import (
	"context"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

var (
	t0   = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	repo = githubx.Repo{Owner: "acme", Name: "infra"}
)

type env struct {
	fake  *githubtest.Fake
	clock *githubtest.ManualClock
	c     *githubx.Client
}

// newEnv starts a fake with one repository and a client over it sharing a
// manual clock.
func newEnv(t *testing.T, fo githubtest.Options, co githubx.Options) *env {
	t.Helper()
	clock := githubtest.NewManualClock(t0)
	fo.Clock = clock
	f := githubtest.New(fo)
	t.Cleanup(f.Close)
	if _, err := f.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra",
		Files: map[string]string{"README.md": "infra\n", "envs/dev/main.tf": "# dev\n"}}); err != nil {
		t.Fatal(err)
	}
	co.BaseURL, co.AllowInsecureHTTP = f.URL(), true
	if co.Token == "" && co.App == nil {
		co.Token = "test-token"
	}
	co.Clock = clock
	c, err := githubx.New(co)
	if err != nil {
		t.Fatal(err)
	}
	return &env{fake: f, clock: clock, c: c}
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// openPR creates a branch with one change and opens a pull request.
func (e *env) openPR(t *testing.T, branch string) githubx.PullRequest {
	t.Helper()
	if _, err := e.c.EnsureBranch(ctx(t), repo, branch, "main"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CommitFiles(ctx(t), repo, branch, "change "+branch, []githubx.FileChange{
		{Path: "envs/dev/" + branch + ".tf", Content: []byte("# " + branch + "\n")}}); err != nil {
		t.Fatal(err)
	}
	pr, err := e.c.OpenPR(ctx(t), repo, githubx.NewPR{Title: "Change " + branch, Head: branch, Base: "main"})
	if err != nil {
		t.Fatal(err)
	}
	return pr
}
