package githubx_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

// gitCommitObject is the response example of "Get a commit object"
// (GET /repos/{owner}/{repo}/git/commits/{commit_sha}, operationId
// git/get-commit, schema git-commit, whose required "tree" is an object
// with required "sha" and "url") in GitHub's REST documentation,
// https://docs.github.com/en/rest/git/commits#get-a-commit-object.
const gitCommitObject = `{
  "sha": "7638417db6d59f3c431d3e1f261cc637155684cd",
  "node_id": "MDY6Q29tbWl0NmRjYjA5YjViNTc4NzVmMzM0ZjYxYWViZWQ2OTVlMmU0MTkzZGI1ZQ==",
  "url": "https://api.github.com/repos/octocat/Hello-World/git/commits/7638417db6d59f3c431d3e1f261cc637155684cd",
  "html_url": "https://github.com/octocat/Hello-World/commit/7638417db6d59f3c431d3e1f261cc637155684cd",
  "author": {"date": "2014-11-07T22:01:45Z", "name": "Monalisa Octocat", "email": "octocat@github.com"},
  "committer": {"date": "2014-11-07T22:01:45Z", "name": "Monalisa Octocat", "email": "octocat@github.com"},
  "message": "added readme, because im a good github citizen",
  "tree": {
    "url": "https://api.github.com/repos/octocat/Hello-World/git/trees/691272480426f78a0138979dd3ce63b77f706feb",
    "sha": "691272480426f78a0138979dd3ce63b77f706feb"
  },
  "parents": [
    {
      "url": "https://api.github.com/repos/octocat/Hello-World/git/commits/1acc419d4d6a9ce985db7be48c6349a0475975b5",
      "sha": "1acc419d4d6a9ce985db7be48c6349a0475975b5",
      "html_url": "https://github.com/octocat/Hello-World/commit/7638417db6d59f3c431d3e1f261cc637155684cd"
    }
  ],
  "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null}
}`

// TestCommitTree_ReadsTheTreeOfGitHubsDocumentedCommitObject: CommitTree
// asks GitHub's route for a commit object and reads "tree.sha" from the
// response GitHub documents; a commit GitHub does not have is
// ErrNotFound.
func TestCommitTree_ReadsTheTreeOfGitHubsDocumentedCommitObject(t *testing.T) {
	t.Parallel()
	const path = "/repos/octocat/Hello-World/git/commits/7638417db6d59f3c431d3e1f261cc637155684cd"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if r.Method != http.MethodGet || r.URL.Path != path {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest/git/commits#get-a-commit-object","status":"404"}`))
			return
		}
		_, _ = w.Write([]byte(gitCommitObject))
	}))
	t.Cleanup(srv.Close)
	c, err := githubx.New(githubx.Options{BaseURL: srv.URL + "/", Token: "t", MaxRetries: -1, AllowInsecureHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	hello := githubx.Repo{Owner: "octocat", Name: "Hello-World"}
	tree, err := c.CommitTree(ctx(t), hello, "7638417db6d59f3c431d3e1f261cc637155684cd")
	if err != nil || tree != "691272480426f78a0138979dd3ce63b77f706feb" {
		t.Fatalf("CommitTree = %q, %v; want the documented tree 691272480426f78a0138979dd3ce63b77f706feb", tree, err)
	}
	if _, err := c.CommitTree(ctx(t), hello, "1acc419d4d6a9ce985db7be48c6349a0475975b5"); !errors.Is(err, githubx.ErrNotFound) {
		t.Fatalf("CommitTree of a missing commit = %v, want ErrNotFound", err)
	}
	if _, err := c.CommitTree(ctx(t), hello, ""); !errors.Is(err, githubx.ErrInvalid) {
		t.Fatalf("CommitTree without a commit = %v, want ErrInvalid", err)
	}
}

// TestCommitTree_AMergeOntoAMovedBaseHoldsAnotherTree: merging a pull
// request onto the base it was branched from gives a merge commit with
// the head's tree (the same files the head's plan saw); merging one after
// the base moved gives a merge commit whose tree also holds the base's
// new files, which the head's plan never saw.
func TestCommitTree_AMergeOntoAMovedBaseHoldsAnotherTree(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	first := e.openPR(t, "req-1")
	second := e.openPR(t, "req-2")
	for _, tc := range []struct {
		name     string
		pr       githubx.PullRequest
		wantSame bool
	}{{"base unmoved", first, true}, {"base moved by the first merge", second, false}} {
		merge, err := e.c.MergePR(ctx(t), repo, tc.pr.Number, githubx.MergeOptions{ExpectedHeadSHA: tc.pr.HeadSHA})
		if err != nil {
			t.Fatalf("%s: merge: %v", tc.name, err)
		}
		head, err := e.c.CommitTree(ctx(t), repo, tc.pr.HeadSHA)
		if err != nil {
			t.Fatal(err)
		}
		merged, err := e.c.CommitTree(ctx(t), repo, merge)
		if err != nil {
			t.Fatal(err)
		}
		if (head == merged) != tc.wantSame {
			t.Errorf("%s: head tree %s, merge tree %s; same = %v, want %v", tc.name, head, merged, head == merged, tc.wantSame)
		}
	}
}

// TestDispatch_APlanPinnedToACommitRunsOnTheBranchAndReportsThePin: the
// fake's plan.yml declares plan_sha, as workflows/plan.yml does; a plan
// pinned to an older commit runs on the branch (its head_sha is the
// branch head, as workflow_dispatch gives it) and its job log reports the
// pinned commit as the one it planned; without plan_sha the log reports
// the run's head. A workflow that does not declare plan_sha (apply.yml)
// refuses it with GitHub's 422.
func TestDispatch_APlanPinnedToACommitRunsOnTheBranchAndReportsThePin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	older, err := e.fake.Branch("acme", "infra", "main")
	if err != nil {
		t.Fatal(err)
	}
	head, err := e.fake.As("bob").Push("acme", "infra", "main", "later", map[string]string{"envs/dev/later.tf": "# later\n"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, pin, wantPlanned string
	}{{"pinned", older, older}, {"not pinned", "", head}} {
		in := map[string]string{"request_id": "req-1"}
		if tc.pin != "" {
			in[githubx.InputPlanSHA] = tc.pin
		}
		res, err := e.c.Dispatch(ctx(t), repo, githubx.DispatchRequest{Workflow: "plan.yml", Ref: "main", Inputs: in, Nonce: "n-" + tc.name[:3]})
		if err != nil {
			t.Fatalf("%s: dispatch: %v", tc.name, err)
		}
		run, err := e.c.GetRun(ctx(t), repo, res.RunID)
		if err != nil || run.HeadSHA != head {
			t.Fatalf("%s: run %+v (%v), want head_sha %s (the branch head)", tc.name, run, err, head)
		}
		jobs, err := e.c.ListJobs(ctx(t), repo, res.RunID)
		if err != nil || len(jobs) == 0 {
			t.Fatalf("%s: jobs %v (%v)", tc.name, jobs, err)
		}
		logs, err := e.c.JobLogs(ctx(t), repo, jobs[0].ID, githubx.LogOptions{})
		if err != nil || !strings.Contains(string(logs.Text), "tfpilot-planned-commit: "+tc.wantPlanned+"\n") {
			t.Fatalf("%s: log %q (%v), want it to report planned commit %s", tc.name, logs.Text, err, tc.wantPlanned)
		}
	}
	_, err = e.c.Dispatch(ctx(t), repo, githubx.DispatchRequest{Workflow: "apply.yml", Ref: "main",
		Inputs: map[string]string{"request_id": "req-1", githubx.InputPlanSHA: older}, Nonce: "n-apply"})
	if !errors.Is(err, githubx.ErrInvalid) || !strings.Contains(err.Error(), "Unexpected inputs provided") {
		t.Fatalf("apply.yml with plan_sha = %v, want GitHub's 422 Unexpected inputs provided", err)
	}
}
