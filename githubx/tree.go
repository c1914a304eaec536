package githubx

import "context"

// CommitTree returns the tree SHA of commit sha: two commits with the same
// tree hold the same files, whatever their history. tfpilot compares the
// merge commit's tree with the planned commit's before applying.
func (c *Client) CommitTree(ctx context.Context, repo Repo, sha string) (string, error) {
	const op = "githubx.CommitTree"
	if !repo.valid() || sha == "" {
		return "", invalid(op, "repo and commit are required")
	}
	commit, _, err := c.gh.Git.GetCommit(readCtx(ctx, nil), repo.Owner, repo.Name, sha)
	if err != nil {
		return "", wrapErr(op, err)
	}
	return commit.GetTree().GetSHA(), nil
}
