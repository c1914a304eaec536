package githubtest

import "time"

// SetListLag makes the runs lists (the workflow's and the repository's)
// leave out runs created less than d ago on the fake's clock, as GitHub's
// do for a few seconds after a workflow_dispatch. Getting a run by id is
// not delayed. Zero turns the lag off.
func (f *Fake) SetListLag(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listLag = d
}

// unlistedLocked reports whether r is still too new to be listed.
func (f *Fake) unlistedLocked(r *run) bool {
	return f.listLag > 0 && f.clock.Now().Sub(r.created) < f.listLag
}
