package githubtest

import (
	"fmt"
	"sort"
)

// Human acts on the fake as a person would in GitHub's web UI: reviewing,
// merging and pushing. Each action sends the webhooks GitHub would send.
// Get one with [Fake.As].
type Human struct {
	f     *Fake
	login string
}

// As returns a [Human] acting as login.
func (f *Fake) As(login string) *Human { return &Human{f: f, login: login} }

// Approve submits an approving review of a pull request's current head.
func (h *Human) Approve(owner, repo string, number int) error {
	return h.review(owner, repo, number, "APPROVE", "LGTM")
}

// RequestChanges submits a review requesting changes.
func (h *Human) RequestChanges(owner, repo string, number int, body string) error {
	return h.review(owner, repo, number, "REQUEST_CHANGES", body)
}

func (h *Human) review(owner, repo string, number int, event, body string) error {
	f := h.f
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.repoLocked(owner, repo)
	if rp == nil || rp.pulls[number] == nil {
		return ErrNotFound
	}
	if rv, _, msg := f.reviewLocked(rp, rp.pulls[number], h.login, event, body); rv == nil {
		return fmt.Errorf("githubtest: review %s/%s#%d: %s", owner, repo, number, msg)
	}
	return nil
}

// Merge merges a pull request with a merge commit, as the green button
// does, and returns the merge commit SHA.
func (h *Human) Merge(owner, repo string, number int) (string, error) {
	f := h.f
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.repoLocked(owner, repo)
	if rp == nil || rp.pulls[number] == nil {
		return "", ErrNotFound
	}
	sha, status, msg := f.mergeLocked(rp, rp.pulls[number], "", "merge", "", h.login)
	if sha == "" {
		return "", fmt.Errorf("githubtest: merge %s/%s#%d: %d %s", owner, repo, number, status, msg)
	}
	return sha, nil
}

// Close closes a pull request without merging it.
func (h *Human) Close(owner, repo string, number int) error {
	f := h.f
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.repoLocked(owner, repo)
	if rp == nil || rp.pulls[number] == nil {
		return ErrNotFound
	}
	p := rp.pulls[number]
	if p.state != "open" {
		return fmt.Errorf("githubtest: close %s/%s#%d: already closed", owner, repo, number)
	}
	now := f.clock.Now()
	p.state, p.closed, p.updated = "closed", now, now
	f.sendPullEventLocked(rp, p, "closed", h.login, nil)
	return nil
}

// Push commits files (path → content; an empty content deletes the path)
// on top of branch, creating the branch from the default branch if needed,
// and returns the new commit SHA. Open pull requests from the branch get a
// "synchronize" webhook.
func (h *Human) Push(owner, repo, branch, message string, files map[string]string) (string, error) {
	f := h.f
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.repoLocked(owner, repo)
	if rp == nil {
		return "", ErrNotFound
	}
	parent, ok := rp.refs[branch]
	if !ok {
		parent = rp.refs[rp.defaultBranch]
	}
	tree := map[string]string{}
	for k, v := range rp.treeOf(parent) {
		tree[k] = v
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if files[p] == "" {
			delete(tree, p)
			continue
		}
		tree[p] = rp.putBlob([]byte(files[p]))
	}
	sha := rp.putCommit(&commit{tree: rp.putTree(tree), parents: []string{parent}, message: message, author: h.login, at: f.clock.Now()})
	f.moveBranchLocked(rp, branch, sha, h.login)
	return sha, nil
}
