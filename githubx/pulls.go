package githubx

import (
	"context"
	"errors"

	"github.com/google/go-github/v60/github"
)

// NewPR describes a pull request to open.
type NewPR struct {
	Title string
	Body  string
	// Head is the branch with the changes; Base the branch to merge into.
	Head  string
	Base  string
	Draft bool
}

// OpenPR opens a pull request, or returns the open pull request that
// already exists for the same head and base. That makes it safe to call
// again after any failure, including a lost answer.
func (c *Client) OpenPR(ctx context.Context, repo Repo, pr NewPR) (PullRequest, error) {
	const op = "githubx.OpenPR"
	if !repo.Valid() || pr.Title == "" || pr.Head == "" || pr.Base == "" {
		return PullRequest{}, invalid(op, "repo, title, head and base are required")
	}
	ictx := withCall(ctx, callConfig{idempotent: true}) // a replay answers "already exists"
	p, _, err := c.gh.PullRequests.Create(ictx, repo.Owner, repo.Name, &github.NewPullRequest{
		Title: github.String(pr.Title), Body: github.String(pr.Body), Head: github.String(pr.Head),
		Base: github.String(pr.Base), Draft: github.Bool(pr.Draft),
	})
	if err == nil {
		return toPR(p), nil
	}
	if err = wrapErr(op, err); !errors.Is(err, ErrAlreadyExists) {
		return PullRequest{}, err
	}
	list, _, lerr := c.gh.PullRequests.List(readCtx(ctx, []CallOption{BypassCache()}), repo.Owner, repo.Name, &github.PullRequestListOptions{
		State: "open", Head: repo.Owner + ":" + pr.Head, Base: pr.Base,
	})
	if lerr != nil {
		return PullRequest{}, wrapErr(op, lerr)
	}
	if len(list) == 0 {
		return PullRequest{}, err
	}
	return c.GetPR(ctx, repo, list[0].GetNumber(), BypassCache())
}

// GetPR returns a pull request. Unchanged pull requests are answered by a
// conditional GET that costs no rate-limit unit; pass [BypassCache] to
// force a fresh read.
func (c *Client) GetPR(ctx context.Context, repo Repo, number int, opts ...CallOption) (PullRequest, error) {
	const op = "githubx.GetPR"
	if !repo.Valid() || number <= 0 {
		return PullRequest{}, invalid(op, "repo and a positive number are required")
	}
	p, _, err := c.gh.PullRequests.Get(readCtx(ctx, opts), repo.Owner, repo.Name, number)
	if err != nil {
		return PullRequest{}, wrapErr(op, err)
	}
	return toPR(p), nil
}

// ListReviews returns all reviews of a pull request, oldest first.
func (c *Client) ListReviews(ctx context.Context, repo Repo, number int, opts ...CallOption) ([]Review, error) {
	const op = "githubx.ListReviews"
	if !repo.Valid() || number <= 0 {
		return nil, invalid(op, "repo and a positive number are required")
	}
	var out []Review
	lo := &github.ListOptions{PerPage: 100}
	for page := 0; page < 50; page++ {
		rs, resp, err := c.gh.PullRequests.ListReviews(readCtx(ctx, opts), repo.Owner, repo.Name, number, lo)
		if err != nil {
			return nil, wrapErr(op, err)
		}
		for _, r := range rs {
			out = append(out, Review{ID: r.GetID(), User: r.GetUser().GetLogin(), State: r.GetState(),
				CommitID: r.GetCommitID(), SubmittedAt: r.GetSubmittedAt().Time})
		}
		if resp.NextPage == 0 {
			break
		}
		lo.Page = resp.NextPage
	}
	return out, nil
}

// MergeOptions are the parameters of [Client.MergePR].
type MergeOptions struct {
	// ExpectedHeadSHA is required: GitHub refuses the merge with
	// [ErrHeadSHAMismatch] if the head moved since it was approved.
	ExpectedHeadSHA string
	// Method is "merge" (default), "squash" or "rebase".
	Method string
	// CommitTitle overrides the merge commit's title.
	CommitTitle string
}

// MergePR merges a pull request whose head is still opts.ExpectedHeadSHA
// and returns the merge commit SHA. A merge is not blindly retried: after a
// 5xx or a lost answer the client re-reads the pull request and reports the
// merge that happened, retrying only if it did not. Errors: [ErrNotFound],
// [ErrHeadSHAMismatch], [ErrNotMergeable] (both match [ErrConflict]).
func (c *Client) MergePR(ctx context.Context, repo Repo, number int, opts MergeOptions) (string, error) {
	const op = "githubx.MergePR"
	if !repo.Valid() || number <= 0 || opts.ExpectedHeadSHA == "" {
		return "", invalid(op, "repo, a positive number and ExpectedHeadSHA are required")
	}
	for attempt := 0; ; attempt++ {
		res, _, err := c.gh.PullRequests.Merge(ctx, repo.Owner, repo.Name, number, "", &github.PullRequestOptions{
			SHA: opts.ExpectedHeadSHA, MergeMethod: opts.Method, CommitTitle: opts.CommitTitle,
		})
		if err == nil {
			return res.GetSHA(), nil
		}
		err = wrapErr(op, err)
		var e *Error
		if errors.As(err, &e) && e.StatusCode == 409 {
			e.Err = ErrHeadSHAMismatch
		}
		if !retryable(err) || attempt >= c.retries {
			return "", err
		}
		if serr := c.sleepBackoff(ctx, attempt); serr != nil {
			return "", wrapErr(op, serr)
		}
		pr, gerr := c.GetPR(ctx, repo, number, BypassCache())
		if gerr != nil {
			return "", err // cannot tell whether it merged: report the original failure
		}
		if pr.Merged {
			if pr.HeadSHA != opts.ExpectedHeadSHA {
				return "", &Error{Op: op, StatusCode: 409, Message: "merged at another head", Err: ErrHeadSHAMismatch}
			}
			return pr.MergeCommitSHA, nil
		}
		if !pr.Open() {
			return "", &Error{Op: op, Message: "pull request closed", Err: ErrNotMergeable}
		}
	}
}

// ClosePR closes a pull request without merging it (PATCH
// pulls/{number} with state "closed") and returns it as GitHub answers.
// Its branch is left alone. Closing a closed pull request changes
// nothing, so a retry after a lost answer is safe. A pull request that
// was merged meanwhile stays merged: check the answer's Merged.
func (c *Client) ClosePR(ctx context.Context, repo Repo, number int) (PullRequest, error) {
	const op = "githubx.ClosePR"
	if !repo.Valid() || number <= 0 {
		return PullRequest{}, invalid(op, "repo and a positive number are required")
	}
	ictx := withCall(ctx, callConfig{idempotent: true}) // the same PATCH twice ends in the same state
	p, _, err := c.gh.PullRequests.Edit(ictx, repo.Owner, repo.Name, number, &github.PullRequest{State: github.String("closed")})
	if err != nil {
		return PullRequest{}, wrapErr(op, err)
	}
	return toPR(p), nil
}
