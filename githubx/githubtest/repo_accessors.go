package githubtest

import (
	"errors"
	"fmt"
)

// RepoSpec describes a repository to create with [Fake.CreateRepo].
type RepoSpec struct {
	Owner string
	Name  string
	// DefaultBranch defaults to "main".
	DefaultBranch string
	// Files are the contents of the initial commit, path → content.
	Files map[string]string
	// Workflows are the Actions workflows the repository has. Nil means
	// [DefaultWorkflows].
	Workflows []Workflow
}

// ErrNotFound is returned by the fake's Go API (not its HTTP API) for a
// missing repository, branch, pull request or run.
var ErrNotFound = errors.New("githubtest: not found")

// CreateRepo creates a repository with one commit holding spec.Files on its
// default branch and returns that commit's SHA.
func (f *Fake) CreateRepo(spec RepoSpec) (string, error) {
	if spec.Owner == "" || spec.Name == "" {
		return "", fmt.Errorf("githubtest: create repo: owner and name are required")
	}
	if spec.DefaultBranch == "" {
		spec.DefaultBranch = "main"
	}
	wfs := spec.Workflows
	if wfs == nil {
		wfs = DefaultWorkflows()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := repoKey(spec.Owner, spec.Name)
	if _, ok := f.repos[k]; ok {
		return "", fmt.Errorf("githubtest: create repo %s: already exists", k)
	}
	now := f.clock.Now()
	r := &repo{
		id: f.newID(), owner: spec.Owner, name: spec.Name, defaultBranch: spec.DefaultBranch,
		created: now, pushed: now,
		objects: map[string]*object{}, refs: map[string]string{}, pulls: map[int]*pull{},
		nextNumber: 1, runs: map[int64]*run{}, jobs: map[int64]*job{},
	}
	for _, w := range wfs {
		w := w
		r.workflows = append(r.workflows, &workflow{Workflow: w, id: f.newID(), created: now})
	}
	tree := map[string]string{}
	for p, c := range spec.Files {
		tree[p] = r.putBlob([]byte(c))
	}
	sha := r.putCommit(&commit{tree: r.putTree(tree), message: "Initial commit", author: f.opts.Login, at: now})
	r.refs[spec.DefaultBranch] = sha
	f.repos[k] = r
	return sha, nil
}

// File returns the content of path at ref (a branch or commit SHA; empty
// means the default branch).
func (f *Fake) File(owner, name, ref, path string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.repoLocked(owner, name)
	if rp == nil {
		return "", ErrNotFound
	}
	sha, ok := rp.resolve(ref)
	if !ok {
		return "", ErrNotFound
	}
	blob, ok := rp.treeOf(sha)[path]
	if !ok {
		return "", ErrNotFound
	}
	return string(rp.objects[blob].data), nil
}

// Branch returns the commit SHA a branch points at.
func (f *Fake) Branch(owner, name, branch string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.repoLocked(owner, name)
	if rp == nil {
		return "", ErrNotFound
	}
	sha, ok := rp.refs[branch]
	if !ok {
		return "", ErrNotFound
	}
	return sha, nil
}

// Commit describes a commit of the fake, for assertions.
type Commit struct {
	SHA     string
	Message string
	Parents []string
	// Files is the full tree of the commit, path → content.
	Files map[string]string
}

// Commit returns the commit sha of a repository.
func (f *Fake) Commit(owner, name, sha string) (Commit, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.repoLocked(owner, name)
	if rp == nil {
		return Commit{}, ErrNotFound
	}
	c := rp.commitOf(sha)
	if c == nil {
		return Commit{}, ErrNotFound
	}
	files := map[string]string{}
	for p, b := range rp.objects[c.tree].tree {
		files[p] = string(rp.objects[b].data)
	}
	return Commit{SHA: sha, Message: c.message, Parents: append([]string(nil), c.parents...), Files: files}, nil
}
