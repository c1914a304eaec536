package githubx

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DefaultListLag is how long GitHub may take to list a run that a
// workflow_dispatch started, when the dispatch answer carried no run id.
//
// GitHub documents no bound: the dispatch endpoint historically answered
// 204 with no run id (docs.github.com, "Create a workflow dispatch event";
// cli/cli#4001 collects the community threads asking how to find the
// run), and tools that find the run by a unique id in its name poll the
// runs list for it because the run shows up there only after a delay:
// Codex-/return-dispatch#183 reports a run listed 8 s after its
// dispatch, after the action had stopped looking. tfpilot waits out 20 s,
// more than twice that, before concluding that a dispatch started no run.
const DefaultListLag = 20 * time.Second

// ListLag returns the list-lag window the client waits out before it
// concludes that a dispatch started no run (Options.ListLag).
func (c *Client) ListLag() time.Duration { return c.listLag }

// FindRuns returns every workflow_dispatch run of workflow whose run name
// (display title) or name contains nonce, oldest first, looking at the
// latest 300 runs. None is an empty slice, not an error. A nonce belongs
// to one attempt, so more than one run is a duplicate dispatch: the first
// run is the attempt's, the others must never be taken for it.
func (c *Client) FindRuns(ctx context.Context, repo Repo, workflow, nonce string, opts ...CallOption) ([]Run, error) {
	const op = "githubx.FindRuns"
	if !repo.Valid() || workflow == "" || nonce == "" {
		return nil, invalid(op, "repo, workflow and nonce are required")
	}
	var out []Run
	for page := 1; page <= 3; page++ {
		u := fmt.Sprintf("repos/%s/%s/actions/workflows/%s/runs?event=workflow_dispatch&per_page=100&page=%d",
			url.PathEscape(repo.Owner), url.PathEscape(repo.Name), url.PathEscape(workflow), page)
		var runs apiRuns
		if err := c.getJSON(readCtx(ctx, opts), u, &runs); err != nil {
			return nil, wrapErr(op, err)
		}
		for _, r := range runs.WorkflowRuns {
			if strings.Contains(r.DisplayTitle, nonce) || strings.Contains(r.Name, nonce) {
				out = append(out, c.toRun(r))
			}
		}
		if len(runs.WorkflowRuns) < 100 {
			break
		}
	}
	slices.SortFunc(out, func(a, b Run) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out, nil
}

// awaitListed looks for a run carrying nonce until one is listed or the
// list-lag window since since has passed, waiting between looks with a
// doubling backoff from Options.FindRunInterval. It returns the run, or
// [ErrNotFound] only once the window has been waited out.
func (c *Client) awaitListed(ctx context.Context, repo Repo, workflow, nonce string, since time.Time) (Run, error) {
	wait := c.findWait
	for {
		run, err := c.FindRun(ctx, repo, workflow, nonce, BypassCache())
		if !errors.Is(err, ErrNotFound) {
			return run, err
		}
		left := c.listLag - c.clock.Now().Sub(since)
		if left <= 0 {
			return Run{}, err
		}
		if err := c.clock.Sleep(ctx, min(wait, left)); err != nil {
			return Run{}, wrapErr("githubx.Dispatch", err)
		}
		wait *= 2
	}
}
