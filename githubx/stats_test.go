package githubx_test

import (
	"testing"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

// TestStats_UnitsAreWhatGitHubCharged: Stats.Units counts the answers
// GitHub charges a rate-limit unit for, so it tracks the fake's own
// count while free 304s are left out.
func TestStats_UnitsAreWhatGitHubCharged(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	spent0, units0 := e.fake.RateLimitSpent(), e.c.Stats().Units
	pr := e.openPR(t, "req-units")
	for range 3 {
		if _, err := e.c.GetPR(ctx(t), repo, pr.Number); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.c.GetPR(ctx(t), repo, pr.Number, githubx.BypassCache()); err != nil {
		t.Fatal(err)
	}
	s := e.c.Stats()
	spent := int64(e.fake.RateLimitSpent() - spent0)
	if got := s.Units - units0; got != spent || spent == 0 {
		t.Fatalf("Stats.Units grew by %d; the fake charged %d", got, spent)
	}
	if s.NotModified < 2 || s.Calls <= s.Units {
		t.Errorf("stats %+v: want the cached reads counted as free calls", s)
	}
}
