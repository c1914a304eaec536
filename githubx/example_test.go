package githubx_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

// Open a pull request that adds a Terraform file, as tfpilot does for a new
// request: a branch from main, one commit, a pull request.
func ExampleClient_OpenPR() {
	fake := githubtest.New(githubtest.Options{})
	defer fake.Close()
	if _, err := fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra",
		Files: map[string]string{"envs/dev/main.tf": "# dev\n"}}); err != nil {
		log.Fatal(err)
	}

	c, err := githubx.New(githubx.Options{Token: "example-token", BaseURL: fake.URL(), AllowInsecureHTTP: true})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	repo := githubx.Repo{Owner: "acme", Name: "infra"}

	if _, err := c.EnsureBranch(ctx, repo, "tfpilot/req-1", "main"); err != nil {
		log.Fatal(err)
	}
	block := "module \"logs\" {\n  source = \"./modules/s3\"\n}\n"
	if _, err := c.CommitFiles(ctx, repo, "tfpilot/req-1", "tfpilot: add logs bucket", []githubx.FileChange{
		{Path: "envs/dev/logs.tf", Content: []byte(block)},
	}); err != nil {
		log.Fatal(err)
	}
	pr, err := c.OpenPR(ctx, repo, githubx.NewPR{Title: "tfpilot: req-1", Head: "tfpilot/req-1", Base: "main"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("#%d %s %s → %s\n", pr.Number, pr.State, pr.HeadRef, pr.BaseRef)

	f, err := c.ReadFile(ctx, repo, "envs/dev/logs.tf", pr.HeadSHA)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(f.Content))
	// Output:
	// #1 open tfpilot/req-1 → main
	// module "logs" {
	//   source = "./modules/s3"
	// }
}

// Dispatch the plan workflow and wait for its run, with the fake's Actions
// simulator running on its own.
func ExampleClient_Dispatch() {
	fake := githubtest.New(githubtest.Options{Auto: &githubtest.Auto{
		QueueDelay: 20 * time.Millisecond, RunDelay: 30 * time.Millisecond, Poll: 5 * time.Millisecond,
		Conclusions: map[string]string{"plan.yml": "success"},
	}})
	defer fake.Close()
	if _, err := fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra"}); err != nil {
		log.Fatal(err)
	}
	c, err := githubx.New(githubx.Options{Token: "example-token", BaseURL: fake.URL(), AllowInsecureHTTP: true})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	repo := githubx.Repo{Owner: "acme", Name: "infra"}

	res, err := c.Dispatch(ctx, repo, githubx.DispatchRequest{
		Workflow: c.Workflows().File(githubx.WorkflowPlan),
		Ref:      "main",
		Inputs:   map[string]string{"request_id": "req-1"},
		Nonce:    "6f1c2a",
	})
	if err != nil {
		log.Fatal(err)
	}
	for {
		run, err := c.GetRun(ctx, repo, res.RunID, githubx.BypassCache())
		if err != nil {
			log.Fatal(err)
		}
		if run.Status == "completed" {
			fmt.Println(run.DisplayTitle, run.Kind, run.Status, run.Conclusion)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Output:
	// tfpilot req-1 6f1c2a plan completed success
}

// Read the client's counters for metrics: a repeated read of an unchanged
// pull request is a free 304.
func ExampleClient_Stats() {
	fake := githubtest.New(githubtest.Options{})
	defer fake.Close()
	if _, err := fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra"}); err != nil {
		log.Fatal(err)
	}
	if _, err := fake.As("dev").Push("acme", "infra", "feature", "change", map[string]string{"a.tf": "# a\n"}); err != nil {
		log.Fatal(err)
	}
	c, err := githubx.New(githubx.Options{Token: "example-token", BaseURL: fake.URL(), AllowInsecureHTTP: true})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	repo := githubx.Repo{Owner: "acme", Name: "infra"}
	pr, err := c.OpenPR(ctx, repo, githubx.NewPR{Title: "feature", Head: "feature", Base: "main"})
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := c.GetPR(ctx, repo, pr.Number); err != nil {
			log.Fatal(err)
		}
	}
	s := c.Stats()
	fmt.Printf("calls=%d not_modified=%d units_spent=%d\n", s.Calls, s.NotModified, fake.RateLimitSpent())
	// Output:
	// calls=4 not_modified=2 units_spent=2
}
