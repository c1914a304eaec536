package githubx_test

import (
	"testing"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

// TestRebuildOnBase_MakesAConflictingPullRequestMergeable: two branches
// change one file; after the first merges, the second conflicts
// ("dirty"); rebuilt on the base's head it is mergeable, its content is
// the base's plus its change, and a second rebuild commits nothing.
func TestRebuildOnBase_MakesAConflictingPullRequestMergeable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	c := ctx(t)
	var prs []githubx.PullRequest
	for _, b := range []string{"one", "two"} {
		if _, err := e.c.EnsureBranch(c, repo, b, "main"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.CommitFiles(c, repo, b, "change "+b, []githubx.FileChange{{Path: "envs/dev/main.tf", Content: []byte("# dev\n# " + b + "\n")}}); err != nil {
			t.Fatal(err)
		}
		pr, err := e.c.OpenPR(c, repo, githubx.NewPR{Title: b, Head: b, Base: "main"})
		if err != nil {
			t.Fatal(err)
		}
		prs = append(prs, pr)
	}
	if _, err := e.c.MergePR(c, repo, prs[0].Number, githubx.MergeOptions{ExpectedHeadSHA: prs[0].HeadSHA}); err != nil {
		t.Fatal(err)
	}
	two, err := e.c.GetPR(c, repo, prs[1].Number, githubx.BypassCache())
	if err != nil || two.Mergeable == nil || *two.Mergeable || two.MergeableState != "dirty" {
		t.Fatalf("second PR after the first merged: %+v, %v", two, err)
	}
	base, err := e.c.BranchHead(c, repo, "main")
	if err != nil {
		t.Fatal(err)
	}
	want := "# dev\n# one\n# two\n"
	change := []githubx.FileChange{{Path: "envs/dev/main.tf", Content: []byte(want)}}
	sha, rebuilt, err := e.c.RebuildOnBase(c, repo, "two", base, "rebuild two", change)
	if err != nil || !rebuilt {
		t.Fatalf("RebuildOnBase = %s, %v, %v", sha, rebuilt, err)
	}
	two, err = e.c.GetPR(c, repo, prs[1].Number, githubx.BypassCache())
	if err != nil || two.HeadSHA != sha || two.Mergeable == nil || !*two.Mergeable {
		t.Fatalf("second PR after the rebuild: %+v, %v", two, err)
	}
	if got, _ := e.fake.File("acme", "infra", "two", "envs/dev/main.tf"); got != want {
		t.Fatalf("branch file %q, want %q", got, want)
	}
	again, rebuilt, err := e.c.RebuildOnBase(c, repo, "two", base, "rebuild two", change)
	if err != nil || rebuilt || again != sha {
		t.Fatalf("second RebuildOnBase = %s, %v, %v; want no commit", again, rebuilt, err)
	}
	if _, err := e.c.MergePR(c, repo, prs[1].Number, githubx.MergeOptions{ExpectedHeadSHA: sha}); err != nil {
		t.Fatalf("merge after the rebuild: %v", err)
	}
	if got, _ := e.fake.File("acme", "infra", "main", "envs/dev/main.tf"); got != want {
		t.Fatalf("main's file %q, want %q", got, want)
	}
}

// TestRebuildOnBase_ReplacesContentKeepsHistory: a person's commit on the
// branch stays in its history (the first parent of the rebuild) but not
// in its content, and the base is the second parent.
func TestRebuildOnBase_ReplacesContentKeepsHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	c := ctx(t)
	if _, err := e.c.EnsureBranch(c, repo, "b", "main"); err != nil {
		t.Fatal(err)
	}
	pushed, err := e.c.CommitFiles(c, repo, "b", "a person's push", []githubx.FileChange{{Path: "x.tf", Content: []byte("x\n")}})
	if err != nil {
		t.Fatal(err)
	}
	base, err := e.c.CommitFiles(c, repo, "main", "base moves", []githubx.FileChange{{Path: "y.tf", Content: []byte("y\n")}})
	if err != nil {
		t.Fatal(err)
	}
	sha, rebuilt, err := e.c.RebuildOnBase(c, repo, "b", base, "rebuild", []githubx.FileChange{{Path: "envs/dev/main.tf", Content: []byte("# dev\n# b\n")}})
	if err != nil || !rebuilt {
		t.Fatalf("RebuildOnBase = %v, %v", rebuilt, err)
	}
	cm, err := e.fake.Commit("acme", "infra", sha)
	if err != nil {
		t.Fatal(err)
	}
	if len(cm.Parents) != 2 || cm.Parents[0] != pushed || cm.Parents[1] != base {
		t.Fatalf("parents %v, want [%s %s]", cm.Parents, pushed, base)
	}
	if _, ok := cm.Files["x.tf"]; ok {
		t.Fatal("the rebuilt branch still holds the person's file")
	}
	if cm.Files["y.tf"] != "y\n" || cm.Files["envs/dev/main.tf"] != "# dev\n# b\n" {
		t.Fatalf("rebuilt tree %v", cm.Files)
	}
}
