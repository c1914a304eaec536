package githubx_test

import (
	"context"
	"testing"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

// BenchmarkGetPR compares a conditional read answered 304 from the ETag
// cache with a fresh read, both against the in-process fake; units/op is
// the rate-limit cost per read in the fake's accounting.
func BenchmarkGetPR(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []githubx.CallOption
	}{
		{"conditional-304", nil},
		{"bypass-cache", []githubx.CallOption{githubx.BypassCache()}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			fake := githubtest.New(githubtest.Options{RateLimit: 1 << 30})
			defer fake.Close()
			if _, err := fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra"}); err != nil {
				b.Fatal(err)
			}
			if _, err := fake.As("dev").Push("acme", "infra", "f", "c", map[string]string{"a": "1"}); err != nil {
				b.Fatal(err)
			}
			c, err := githubx.New(githubx.Options{Token: "t", BaseURL: fake.URL(), AllowInsecureHTTP: true})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			pr, err := c.OpenPR(ctx, repo, githubx.NewPR{Title: "t", Head: "f", Base: "main"})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.GetPR(ctx, repo, pr.Number); err != nil {
				b.Fatal(err)
			}
			spent := fake.RateLimitSpent()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.GetPR(ctx, repo, pr.Number, bc.opts...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(fake.RateLimitSpent()-spent)/float64(b.N), "units/op")
		})
	}
}

// BenchmarkCommitFiles measures one commit of five files through the git
// data API (ref, commit, 5 blobs, tree, commit, ref update).
func BenchmarkCommitFiles(b *testing.B) {
	fake := githubtest.New(githubtest.Options{RateLimit: 1 << 30})
	defer fake.Close()
	if _, err := fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra"}); err != nil {
		b.Fatal(err)
	}
	c, err := githubx.New(githubx.Options{Token: "t", BaseURL: fake.URL(), AllowInsecureHTTP: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	changes := make([]githubx.FileChange, 5)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range changes {
			changes[j] = githubx.FileChange{Path: "envs/dev/f" + string(rune('a'+j)) + ".tf", Content: []byte{byte(i), byte(i >> 8), byte(j)}}
		}
		if _, err := c.CommitFiles(ctx, repo, "main", "bench", changes); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.Stats().Calls)/float64(b.N), "calls/op")
}
