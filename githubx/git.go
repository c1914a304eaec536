package githubx

import (
	"context"
	"encoding/base64"
	"errors"
	"path"
	"strings"

	"github.com/google/go-github/v60/github"
)

// FileChange is one change of a commit made by [Client.CommitFiles].
type FileChange struct {
	// Path is the file's path from the repository root, e.g. "envs/dev/main.tf".
	Path string
	// Content is the new content of the file (binary safe).
	Content []byte
	// Delete removes the file instead; Content is ignored.
	Delete bool
}

// File is a file read at a ref.
type File struct {
	Path    string
	SHA     string // blob SHA
	Content []byte
}

// EnsureBranch makes sure branch exists, creating it at the head of base
// when it does not, and returns the SHA the branch points at. It is safe to
// call again after any failure.
func (c *Client) EnsureBranch(ctx context.Context, repo Repo, branch, base string) (string, error) {
	const op = "githubx.EnsureBranch"
	if !repo.Valid() || branch == "" || base == "" {
		return "", invalid(op, "repo, branch and base are required")
	}
	sha, err := c.branchSHA(ctx, repo, branch, true)
	if err == nil {
		return sha, nil
	}
	if !isNotFound(err) {
		return "", wrapErr(op, err)
	}
	baseSHA, err := c.branchSHA(ctx, repo, base, true)
	if err != nil {
		return "", wrapErr(op, err)
	}
	// A replay of this create after an ambiguous failure answers "already
	// exists", handled below, so the transport may retry it.
	ictx := withCall(ctx, callConfig{idempotent: true})
	_, _, err = c.gh.Git.CreateRef(ictx, repo.Owner, repo.Name, &github.Reference{
		Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: github.String(baseSHA)},
	})
	if err == nil {
		return baseSHA, nil
	}
	if err = wrapErr(op, err); errors.Is(err, ErrAlreadyExists) {
		sha, err := c.branchSHA(ctx, repo, branch, true)
		return sha, wrapErr(op, err)
	}
	return "", err
}

// branchSHA reads the commit a branch points at.
func (c *Client) branchSHA(ctx context.Context, repo Repo, branch string, fresh bool) (string, error) {
	var opts []CallOption
	if fresh {
		opts = append(opts, BypassCache())
	}
	ref, _, err := c.gh.Git.GetRef(readCtx(ctx, opts), repo.Owner, repo.Name, "heads/"+branch)
	if err != nil {
		return "", wrapErr("githubx.GetRef", err)
	}
	return ref.GetObject().GetSHA(), nil
}

// CommitFiles commits changes on top of branch as ONE commit (git data
// API: blobs, a tree on the branch's tree, a commit, a fast-forward ref
// update) and returns the new commit SHA. If the branch moved meanwhile the
// update is refused with [ErrConflict] and nothing visible changed; call
// again to rebase the changes on the new head. Changes that leave the tree
// as it is make no commit and return the branch's current SHA.
func (c *Client) CommitFiles(ctx context.Context, repo Repo, branch, message string, changes []FileChange) (string, error) {
	const op = "githubx.CommitFiles"
	if !repo.Valid() || branch == "" || message == "" || len(changes) == 0 {
		return "", invalid(op, "repo, branch, message and at least one change are required")
	}
	for _, ch := range changes {
		if p := strings.Trim(ch.Path, "/"); p == "" || path.Clean(p) != p || strings.HasPrefix(p, "../") || p == ".." {
			return "", invalid(op, "bad path "+ch.Path)
		}
	}
	parent, err := c.branchSHA(ctx, repo, branch, true)
	if err != nil {
		return "", wrapErr(op, err)
	}
	head, _, err := c.gh.Git.GetCommit(readCtx(ctx, nil), repo.Owner, repo.Name, parent)
	if err != nil {
		return "", wrapErr(op, err)
	}
	// Blobs, trees and commits are content-addressed or unreferenced until
	// the ref moves, so retrying their creation is harmless.
	ictx := withCall(ctx, callConfig{idempotent: true})
	entries := make([]*github.TreeEntry, 0, len(changes))
	for _, ch := range changes {
		p := strings.Trim(ch.Path, "/")
		e := &github.TreeEntry{Path: github.String(p), Mode: github.String("100644"), Type: github.String("blob")}
		if !ch.Delete {
			blob, _, err := c.gh.Git.CreateBlob(ictx, repo.Owner, repo.Name, &github.Blob{
				Content: github.String(base64.StdEncoding.EncodeToString(ch.Content)), Encoding: github.String("base64"),
			})
			if err != nil {
				return "", wrapErr(op, err)
			}
			e.SHA = blob.SHA
		}
		entries = append(entries, e)
	}
	tree, _, err := c.gh.Git.CreateTree(ictx, repo.Owner, repo.Name, head.GetTree().GetSHA(), entries)
	if err != nil {
		return "", wrapErr(op, err)
	}
	if tree.GetSHA() == head.GetTree().GetSHA() {
		return parent, nil // nothing changed: no empty commit, no synchronize
	}
	commit, _, err := c.gh.Git.CreateCommit(ictx, repo.Owner, repo.Name, &github.Commit{
		Message: github.String(message), Tree: &github.Tree{SHA: tree.SHA}, Parents: []*github.Commit{{SHA: github.String(parent)}},
	}, nil)
	if err != nil {
		return "", wrapErr(op, err)
	}
	// A replayed fast-forward to the same SHA succeeds, so this is
	// idempotent too; a moved branch answers 422 → ErrConflict.
	_, _, err = c.gh.Git.UpdateRef(ictx, repo.Owner, repo.Name, &github.Reference{
		Ref: github.String("heads/" + branch), Object: &github.GitObject{SHA: commit.SHA},
	}, false)
	if err != nil {
		return "", wrapErr(op, err)
	}
	return commit.GetSHA(), nil
}

// ReadFile returns the file at path on ref (a branch, tag or commit SHA;
// empty means the default branch). A directory is [ErrInvalid].
func (c *Client) ReadFile(ctx context.Context, repo Repo, filePath, ref string, opts ...CallOption) (File, error) {
	const op = "githubx.ReadFile"
	if !repo.Valid() || filePath == "" {
		return File{}, invalid(op, "repo and path are required")
	}
	fc, _, _, err := c.gh.Repositories.GetContents(readCtx(ctx, opts), repo.Owner, repo.Name, filePath, &github.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		return File{}, wrapErr(op, err)
	}
	if fc == nil {
		return File{}, invalid(op, filePath+" is a directory")
	}
	content, err := fc.GetContent()
	if err != nil {
		return File{}, &Error{Op: op, Message: "decode content", Err: err}
	}
	return File{Path: fc.GetPath(), SHA: fc.GetSHA(), Content: []byte(content)}, nil
}
