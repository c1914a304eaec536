package githubx_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

func TestOpenPR_ReturnsTheExistingPullRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	first := e.openPR(t, "req-1")
	again, err := e.c.OpenPR(ctx(t), repo, githubx.NewPR{Title: "again", Head: "req-1", Base: "main"})
	if err != nil || again.Number != first.Number {
		t.Fatalf("OpenPR again = #%d, %v; want #%d", again.Number, err, first.Number)
	}
}

func TestOpenPR_AmbiguousFailureNeverDuplicatesPR(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	if _, err := e.c.EnsureBranch(ctx(t), repo, "req-1", "main"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CommitFiles(ctx(t), repo, "req-1", "c", []githubx.FileChange{{Path: "a", Content: []byte("a")}}); err != nil {
		t.Fatal(err)
	}
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointCreatePull, Kind: githubtest.FaultAmbiguous})
	pr, err := e.c.OpenPR(ctx(t), repo, githubx.NewPR{Title: "t", Head: "req-1", Base: "main"})
	if err != nil || pr.Number != 1 || !pr.Open() {
		t.Fatalf("OpenPR = %+v, %v", pr, err)
	}
	if _, err := e.fake.PR("acme", "infra", 2); !errors.Is(err, githubtest.ErrNotFound) {
		t.Fatalf("a second pull request exists")
	}
}

func TestGetPR_ConditionalGetOfUnchangedPRSpendsZeroUnits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	pr := e.openPR(t, "req-1")
	if _, err := e.c.GetPR(ctx(t), repo, pr.Number); err != nil {
		t.Fatal(err)
	}
	spent, before := e.fake.RateLimitSpent(), e.c.Stats()
	got, err := e.c.GetPR(ctx(t), repo, pr.Number)
	if err != nil || got.HeadSHA != pr.HeadSHA {
		t.Fatalf("GetPR = %+v, %v", got, err)
	}
	if d := e.fake.RateLimitSpent() - spent; d != 0 {
		t.Fatalf("unchanged PR cost %d units, want 0", d)
	}
	if s := e.c.Stats(); s.NotModified != before.NotModified+1 || s.Calls != before.Calls+1 {
		t.Fatalf("stats %+v after %+v", s, before)
	}
	// BypassCache reads fresh and pays for it (INV-REC-3).
	if _, err := e.c.GetPR(ctx(t), repo, pr.Number, githubx.BypassCache()); err != nil {
		t.Fatal(err)
	}
	if d := e.fake.RateLimitSpent() - spent; d != 1 {
		t.Fatalf("bypassed read cost %d units, want 1", d)
	}
}

func TestGetPR_SeesChangesBehindTheCache(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	pr := e.openPR(t, "req-1")
	if _, err := e.c.GetPR(ctx(t), repo, pr.Number); err != nil {
		t.Fatal(err)
	}
	sha, err := e.fake.As("dev").Push("acme", "infra", "req-1", "more", map[string]string{"x": "1"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.c.GetPR(ctx(t), repo, pr.Number)
	if err != nil || got.HeadSHA != sha {
		t.Fatalf("GetPR head %s, %v; want %s", got.HeadSHA, err, sha)
	}
}

func TestListReviews_ReturnsApprovals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	pr := e.openPR(t, "req-1")
	if err := e.fake.As("alice").Approve("acme", "infra", pr.Number); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.As("bob").RequestChanges("acme", "infra", pr.Number, "no"); err != nil {
		t.Fatal(err)
	}
	rs, err := e.c.ListReviews(ctx(t), repo, pr.Number)
	if err != nil || len(rs) != 2 || rs[0].User != "alice" || rs[0].State != "APPROVED" || rs[0].CommitID != pr.HeadSHA || rs[1].State != "CHANGES_REQUESTED" {
		t.Fatalf("reviews %+v, %v", rs, err)
	}
}

func TestMergePR_ChecksHeadSHAAndMergeability(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		prepare func(t *testing.T, e *env, pr githubx.PullRequest) string // returns expected head
		want    error
	}{
		{"current head merges", func(t *testing.T, e *env, pr githubx.PullRequest) string { return pr.HeadSHA }, nil},
		{"moved head is refused", func(t *testing.T, e *env, pr githubx.PullRequest) string {
			if _, err := e.fake.As("dev").Push("acme", "infra", "req-1", "late", map[string]string{"late": "1"}); err != nil {
				t.Fatal(err)
			}
			return pr.HeadSHA
		}, githubx.ErrHeadSHAMismatch},
		{"unmergeable is refused", func(t *testing.T, e *env, pr githubx.PullRequest) string {
			no := false
			if err := e.fake.SetMergeable("acme", "infra", pr.Number, &no); err != nil {
				t.Fatal(err)
			}
			return pr.HeadSHA
		}, githubx.ErrNotMergeable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, githubtest.Options{}, githubx.Options{})
			pr := e.openPR(t, "req-1")
			sha, err := e.c.MergePR(ctx(t), repo, pr.Number, githubx.MergeOptions{ExpectedHeadSHA: tc.prepare(t, e, pr)})
			if !errors.Is(err, tc.want) {
				t.Fatalf("MergePR err = %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				if !errors.Is(err, githubx.ErrConflict) {
					t.Fatalf("%v does not match ErrConflict", err)
				}
				return
			}
			got, _ := e.fake.PR("acme", "infra", pr.Number)
			if main, _ := e.fake.Branch("acme", "infra", "main"); !got.Merged || sha != got.MergeCommitSHA || main != sha {
				t.Fatalf("merge sha %s, fake %+v, main %s", sha, got, main)
			}
		})
	}
}

func TestMergePR_AmbiguousFailureReportsTheMergeThatHappened(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	pr := e.openPR(t, "req-1")
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointMergePull, Kind: githubtest.FaultAmbiguous})
	sha, err := e.c.MergePR(ctx(t), repo, pr.Number, githubx.MergeOptions{ExpectedHeadSHA: pr.HeadSHA})
	got, _ := e.fake.PR("acme", "infra", pr.Number)
	if err != nil || sha != got.MergeCommitSHA {
		t.Fatalf("MergePR = %s, %v; fake merged at %s", sha, err, got.MergeCommitSHA)
	}
	if n := e.fake.CallCount(githubtest.EndpointMergePull); n != 1 {
		t.Fatalf("merge called %d times, want 1", n)
	}
}

func TestMergePR_RetriesAMergeThatDidNotHappen(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	pr := e.openPR(t, "req-1")
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointMergePull, Kind: githubtest.FaultServerError})
	if _, err := e.c.MergePR(ctx(t), repo, pr.Number, githubx.MergeOptions{ExpectedHeadSHA: pr.HeadSHA}); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.CallCount(githubtest.EndpointMergePull); n != 2 {
		t.Fatalf("merge called %d times, want 2", n)
	}
	// The retry came only after reading the PR to see it had not merged.
	if n := e.fake.CallCount(githubtest.EndpointGetPull); n != 1 {
		t.Fatalf("PR read %d times before retrying, want 1", n)
	}
}

func TestListReviews_FollowsPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	pr := e.openPR(t, "req-1")
	for i := 0; i < 130; i++ {
		if err := e.fake.As(fmt.Sprintf("user%03d", i)).Approve("acme", "infra", pr.Number); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := e.c.ListReviews(ctx(t), repo, pr.Number)
	if err != nil || len(rs) != 130 || rs[129].User != "user129" {
		t.Fatalf("%d reviews, %v", len(rs), err)
	}
	if n := e.fake.CallCount(githubtest.EndpointListReviews); n != 2 {
		t.Fatalf("%d pages fetched, want 2", n)
	}
}

func TestClient_ConcurrentUseIsSafe(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{CacheEntries: 2})
	pr := e.openPR(t, "req-1")
	errs := make(chan error, 40)
	for i := 0; i < 40; i++ {
		go func(i int) {
			var err error
			switch i % 4 {
			case 0:
				_, err = e.c.GetPR(ctx(t), repo, pr.Number)
			case 1:
				_, err = e.c.ListReviews(ctx(t), repo, pr.Number)
			case 2:
				_, err = e.c.ReadFile(ctx(t), repo, "README.md", "")
			default:
				_, err = e.c.GetPR(ctx(t), repo, pr.Number, githubx.BypassCache())
			}
			errs <- err
		}(i)
	}
	for i := 0; i < 40; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if s := e.c.Stats(); s.CacheEntries > 2 || s.Calls < 40-s.NotModified {
		t.Fatalf("stats %+v", s)
	}
}

func TestClosePR_ClosesWithoutMergingKeepsBranchAndIsRepeatable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	pr := e.openPR(t, "req-1")
	for range 2 { // a retry after a lost answer closes nothing twice
		got, err := e.c.ClosePR(ctx(t), repo, pr.Number)
		if err != nil || got.Open() || got.Merged || got.State != "closed" {
			t.Fatalf("ClosePR = %+v, %v", got, err)
		}
	}
	if fp, err := e.fake.PR("acme", "infra", pr.Number); err != nil || fp.State != "closed" || fp.Merged {
		t.Fatalf("fake PR = %+v, %v", fp, err)
	}
	if _, err := e.c.BranchHead(ctx(t), repo, "req-1"); err != nil {
		t.Fatalf("branch gone after close: %v", err)
	}
	if _, err := e.c.ClosePR(ctx(t), repo, pr.Number+10); !errors.Is(err, githubx.ErrNotFound) {
		t.Fatalf("ClosePR of a missing PR: %v, want ErrNotFound", err)
	}
}
