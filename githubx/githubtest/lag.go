package githubtest

import "time"

// SetRunsListLag makes the run lists (EndpointWorkflowRuns and
// EndpointRepoRuns) leave out every run created less than lag ago on the
// fake's clock, while EndpointGetRun, webhooks and [Fake.Runs] see it at
// once. GitHub's lists are served from replicas that trail a dispatch:
// a run may take seconds to appear in them, which is why a client that
// lost a dispatch answer must search for its nonce for a while before it
// concludes that no run exists. Zero (the default) turns the lag off.
func (f *Fake) SetRunsListLag(lag time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if lag < 0 {
		lag = 0
	}
	f.listLag = lag
}

// RunsListLag returns the lag set by [Fake.SetRunsListLag].
func (f *Fake) RunsListLag() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.listLag
}

// lagHidesLocked reports whether the run lists still leave r out.
func (f *Fake) lagHidesLocked(r *run) bool {
	return f.listLag > 0 && f.clock.Now().Before(r.created.Add(f.listLag))
}
