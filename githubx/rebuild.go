package githubx

import (
	"context"
	"encoding/base64"
	"path"
	"slices"
	"strings"

	"github.com/google/go-github/v60/github"
)

// BranchHead returns the commit branch points at, read fresh (no cache).
// A missing branch is [ErrNotFound].
func (c *Client) BranchHead(ctx context.Context, repo Repo, branch string) (string, error) {
	const op = "githubx.BranchHead"
	if !repo.Valid() || branch == "" {
		return "", invalid(op, "repo and branch are required")
	}
	sha, err := c.branchSHA(ctx, repo, branch, true)
	return sha, wrapErr(op, err)
}

// RebuildOnBase makes branch hold the tree of commit baseSHA with changes
// applied, as one commit whose parents are the branch's head and baseSHA:
// a merge of the base into the branch that resolves every path to the
// base's version except the changed ones. The branch's history is kept
// (its earlier commits stay reachable), but its content is replaced, so a
// pull request from branch is mergeable into a base at baseSHA and its
// diff is exactly changes.
//
// The branch moves by fast-forward only: if someone pushed to it since it
// was read, the update is refused with [ErrConflict] and nothing visible
// changed. When the branch already holds that tree directly on top of
// baseSHA (baseSHA is its head or a parent of its head) nothing is
// committed and rebuilt is false.
func (c *Client) RebuildOnBase(ctx context.Context, repo Repo, branch, baseSHA, message string, changes []FileChange) (sha string, rebuilt bool, err error) {
	const op = "githubx.RebuildOnBase"
	if !repo.Valid() || branch == "" || baseSHA == "" || message == "" || len(changes) == 0 {
		return "", false, invalid(op, "repo, branch, base commit, message and at least one change are required")
	}
	for _, ch := range changes {
		if p := strings.Trim(ch.Path, "/"); p == "" || path.Clean(p) != p || strings.HasPrefix(p, "../") || p == ".." {
			return "", false, invalid(op, "bad path "+ch.Path)
		}
	}
	head, err := c.branchSHA(ctx, repo, branch, true)
	if err != nil {
		return "", false, wrapErr(op, err)
	}
	headCommit, _, err := c.gh.Git.GetCommit(readCtx(ctx, nil), repo.Owner, repo.Name, head)
	if err != nil {
		return "", false, wrapErr(op, err)
	}
	baseCommit, _, err := c.gh.Git.GetCommit(readCtx(ctx, nil), repo.Owner, repo.Name, baseSHA)
	if err != nil {
		return "", false, wrapErr(op, err)
	}
	ictx := withCall(ctx, callConfig{idempotent: true})
	entries := make([]*github.TreeEntry, 0, len(changes))
	for _, ch := range changes {
		e := &github.TreeEntry{Path: github.String(strings.Trim(ch.Path, "/")), Mode: github.String("100644"), Type: github.String("blob")}
		if !ch.Delete {
			blob, _, err := c.gh.Git.CreateBlob(ictx, repo.Owner, repo.Name, &github.Blob{
				Content: github.String(base64.StdEncoding.EncodeToString(ch.Content)), Encoding: github.String("base64"),
			})
			if err != nil {
				return "", false, wrapErr(op, err)
			}
			e.SHA = blob.SHA
		}
		entries = append(entries, e)
	}
	tree, _, err := c.gh.Git.CreateTree(ictx, repo.Owner, repo.Name, baseCommit.GetTree().GetSHA(), entries)
	if err != nil {
		return "", false, wrapErr(op, err)
	}
	onBase := head == baseSHA || slices.ContainsFunc(headCommit.Parents, func(p *github.Commit) bool { return p.GetSHA() == baseSHA })
	if onBase && tree.GetSHA() == headCommit.GetTree().GetSHA() {
		return head, false, nil
	}
	commit, _, err := c.gh.Git.CreateCommit(ictx, repo.Owner, repo.Name, &github.Commit{
		Message: github.String(message), Tree: &github.Tree{SHA: tree.SHA},
		Parents: []*github.Commit{{SHA: github.String(head)}, {SHA: github.String(baseSHA)}},
	}, nil)
	if err != nil {
		return "", false, wrapErr(op, err)
	}
	_, _, err = c.gh.Git.UpdateRef(ictx, repo.Owner, repo.Name, &github.Reference{
		Ref: github.String("heads/" + branch), Object: &github.GitObject{SHA: commit.SHA},
	}, false)
	if err != nil {
		return "", false, wrapErr(op, err)
	}
	return commit.GetSHA(), true, nil
}
