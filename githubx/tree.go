package githubx

import "context"

// InputPlanSHA is the plan-only workflow input that pins a plan to a
// commit: the plan workflow checks out this commit instead of its ref's
// head (workflows/plan.yml: `ref: ${{ inputs.plan_sha || github.sha }}`)
// and reports the commit it planned ("tfpilot-planned-commit: <sha>").
// workflow_dispatch takes a branch, not a commit, so this is how tfpilot
// plans one commit of a branch that keeps moving (a merge commit of the
// base). The workflow declares it optional; tfpilot sends it only for a
// pinned plan.
const InputPlanSHA = "plan_sha"

// CommitTree returns the SHA of the tree of commit sha (GET
// /repos/{owner}/{repo}/git/commits/{commit_sha}, the "tree.sha" of
// GitHub's git-commit object). Two commits with the same tree hold the
// same files, whatever their history: tfpilot compares a merge commit's
// tree with the planned commit's to know whether the saved plan is a
// plan of what was merged. Commits are immutable, so the answer never
// changes; the read is conditional (an unchanged answer costs no
// rate-limit unit).
func (c *Client) CommitTree(ctx context.Context, repo Repo, sha string) (string, error) {
	const op = "githubx.CommitTree"
	if !repo.Valid() || sha == "" {
		return "", invalid(op, "repo and commit are required")
	}
	commit, _, err := c.gh.Git.GetCommit(readCtx(ctx, nil), repo.Owner, repo.Name, sha)
	if err != nil {
		return "", wrapErr(op, err)
	}
	tree := commit.GetTree().GetSHA()
	if tree == "" {
		return "", &Error{Op: op, StatusCode: 200, Message: "commit " + sha + " has no tree", Err: ErrUnavailable}
	}
	return tree, nil
}
