package githubx_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

func TestCommitFiles_MakesOneCommitWithEveryChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	base, err := e.c.EnsureBranch(ctx(t), repo, "req-1", "main")
	if err != nil {
		t.Fatal(err)
	}
	sha, err := e.c.CommitFiles(ctx(t), repo, "req-1", "Add bucket", []githubx.FileChange{
		{Path: "envs/dev/s3.tf", Content: []byte("resource \"x\" \"y\" {}\n")},
		{Path: "envs/dev/main.tf", Content: []byte("# changed\n")},
		{Path: "README.md", Delete: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.fake.Commit("acme", "infra", sha)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Parents) != 1 || got.Parents[0] != base {
		t.Fatalf("parents %v, want [%s]: not one commit on the branch head", got.Parents, base)
	}
	want := map[string]string{"envs/dev/s3.tf": "resource \"x\" \"y\" {}\n", "envs/dev/main.tf": "# changed\n"}
	if len(got.Files) != len(want) {
		t.Fatalf("files %v, want %v", got.Files, want)
	}
	for p, c := range want {
		if got.Files[p] != c {
			t.Errorf("%s = %q, want %q", p, got.Files[p], c)
		}
	}
	if head, _ := e.fake.Branch("acme", "infra", "req-1"); head != sha {
		t.Fatalf("branch at %s, want %s", head, sha)
	}
	if main, _ := e.fake.Branch("acme", "infra", "main"); main != base {
		t.Fatalf("main moved")
	}
}

func TestEnsureBranch_KeepsAnExistingBranch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	pr := e.openPR(t, "req-1")
	sha, err := e.c.EnsureBranch(ctx(t), repo, "req-1", "main")
	if err != nil || sha != pr.HeadSHA {
		t.Fatalf("EnsureBranch = %s, %v; want the existing head %s", sha, err, pr.HeadSHA)
	}
}

func TestEnsureBranch_AmbiguousCreateStillSucceeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointCreateRef, Kind: githubtest.FaultAmbiguous})
	main, _ := e.fake.Branch("acme", "infra", "main")
	sha, err := e.c.EnsureBranch(ctx(t), repo, "req-1", "main")
	if err != nil || sha != main {
		t.Fatalf("EnsureBranch = %s, %v", sha, err)
	}
}

func TestEnsureBranch_MissingBaseIsNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	if _, err := e.c.EnsureBranch(ctx(t), repo, "req-1", "nope"); !errors.Is(err, githubx.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestCommitFiles_BranchMovedMeanwhileIsConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	if _, err := e.c.EnsureBranch(ctx(t), repo, "req-1", "main"); err != nil {
		t.Fatal(err)
	}
	// Hold the ref update until a human has pushed to the branch.
	pushed := make(chan struct{})
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointUpdateRef, Kind: githubtest.FaultLatency, Until: pushed})
	done := make(chan error, 1)
	go func() {
		_, err := e.c.CommitFiles(ctx(t), repo, "req-1", "mine", []githubx.FileChange{{Path: "a.tf", Content: []byte("a")}})
		done <- err
	}()
	for e.fake.CallCount(githubtest.EndpointUpdateRef) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := e.fake.As("dev").Push("acme", "infra", "req-1", "theirs", map[string]string{"b.tf": "b"}); err != nil {
		t.Fatal(err)
	}
	close(pushed)
	if err := <-done; !errors.Is(err, githubx.ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	if got, _ := e.fake.File("acme", "infra", "req-1", "b.tf"); got != "b" {
		t.Fatalf("the human's commit was overwritten")
	}
}

func TestReadFile_ReadsAtRefAndReportsMissing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	pr := e.openPR(t, "req-1")
	cases := []struct {
		name, path, ref, want string
		err                   error
	}{
		{"default branch", "README.md", "", "infra\n", nil},
		{"branch", "envs/dev/req-1.tf", "req-1", "# req-1\n", nil},
		{"commit sha", "envs/dev/req-1.tf", pr.HeadSHA, "# req-1\n", nil},
		{"absent on main", "envs/dev/req-1.tf", "main", "", githubx.ErrNotFound},
		{"directory", "envs/dev", "main", "", githubx.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := e.c.ReadFile(ctx(t), repo, tc.path, tc.ref)
			if !errors.Is(err, tc.err) || (tc.err == nil && string(f.Content) != tc.want) {
				t.Fatalf("ReadFile = %q, %v; want %q, %v", f.Content, err, tc.want, tc.err)
			}
		})
	}
}

func TestCommitFiles_UnchangedTreeMakesNoCommit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	pr := e.openPR(t, "req-1")
	sha, err := e.c.CommitFiles(ctx(t), repo, "req-1", "same again", []githubx.FileChange{
		{Path: "envs/dev/req-1.tf", Content: []byte("# req-1\n")}})
	if err != nil || sha != pr.HeadSHA {
		t.Fatalf("CommitFiles = %s, %v; want the unchanged head %s", sha, err, pr.HeadSHA)
	}
	if n := e.fake.CallCount(githubtest.EndpointCreateCommit); n != 1 {
		t.Fatalf("%d commits created, want only the first", n)
	}
}
