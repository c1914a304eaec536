package githubx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"
)

// Apply-only workflow inputs: the approved saved plan an apply applies.
// tfpilot sends them to the apply workflow when the plan reported a digest;
// the repository's workflows/apply.yml declares them (optional) and refuses
// to apply without them.
const (
	// InputPlanRunID carries the plan run's id, whose artifact holds the
	// saved plan file.
	InputPlanRunID = "plan_run_id"
	// InputPlanDigest carries the saved plan's digest, "sha256:<hex>".
	InputPlanDigest = "plan_digest"
)

// DispatchRequest describes a workflow_dispatch.
type DispatchRequest struct {
	// Workflow is the workflow file name, e.g. "plan.yml"
	// (see [Workflows.File]).
	Workflow string
	// Ref is the branch (or tag) to run on.
	Ref string
	// Inputs are the workflow inputs. The nonce is added under
	// Options.NonceInput ([runs.InputNonce] by default).
	Inputs map[string]string
	// Nonce is required: a value unique to this dispatch (the attempt's
	// dispatch nonce) that the workflow puts in its run name, e.g.
	//
	//	run-name: tfpilot ${{ inputs.request_id }} ${{ inputs.tfpilot_nonce }}
	//
	// (see [runs.RunName])
	//
	// so the run can be found without a run id, and a retry can check that
	// the first try did not start a run.
	Nonce string
}

// DispatchResult is what a dispatch produced.
type DispatchResult struct {
	// RunID is the run's id; 0 when GitHub accepted the dispatch but the
	// run was not visible yet (find it later with [Client.FindRun]).
	RunID int64
	// RunURL is the run's API URL and HTMLURL its page, when known.
	RunURL  string
	HTMLURL string
	// Recovered is true when the run was found by its nonce after a failed
	// attempt (the dispatch had been applied but its answer was lost).
	Recovered bool
}

type dispatchBody struct {
	Ref              string            `json:"ref"`
	Inputs           map[string]string `json:"inputs,omitempty"`
	ReturnRunDetails bool              `json:"return_run_details"`
}

type dispatchAnswer struct {
	WorkflowRunID int64  `json:"workflow_run_id"`
	RunURL        string `json:"run_url"`
	HTMLURL       string `json:"html_url"`
}

// Dispatch triggers a workflow_dispatch asking GitHub for the run details
// (return_run_details) and returns the run id. A server that answers 204
// without details (GitHub before 2025, GitHub Enterprise) makes Dispatch
// find the run by its nonce instead.
//
// A dispatch is never blindly retried: after a 5xx or a lost answer the
// client looks for a run carrying the nonce, with backoff, until the
// list-lag window (Options.ListLag, [DefaultListLag]) since the failed try
// has passed; it returns the run if the try started one, and dispatches
// again only if none was listed within the window. Rate-limit
// refusals are retried (GitHub did not apply them) within
// Options.MaxRateLimitWait.
func (c *Client) Dispatch(ctx context.Context, repo Repo, req DispatchRequest) (DispatchResult, error) {
	const op = "githubx.Dispatch"
	if !repo.Valid() || req.Workflow == "" || req.Ref == "" || req.Nonce == "" {
		return DispatchResult{}, invalid(op, "repo, workflow, ref and nonce are required")
	}
	inputs := make(map[string]string, len(req.Inputs)+1)
	for k, v := range req.Inputs {
		inputs[k] = v
	}
	if v, ok := inputs[c.nonceKey]; ok && v != req.Nonce {
		return DispatchResult{}, invalid(op, "input "+c.nonceKey+" differs from Nonce")
	}
	inputs[c.nonceKey] = req.Nonce
	body := dispatchBody{Ref: req.Ref, Inputs: inputs, ReturnRunDetails: true}
	u := fmt.Sprintf("repos/%s/%s/actions/workflows/%s/dispatches", url.PathEscape(repo.Owner), url.PathEscape(repo.Name), url.PathEscape(req.Workflow))

	for attempt := 0; ; attempt++ {
		hreq, err := c.gh.NewRequest(http.MethodPost, u, body)
		if err != nil {
			return DispatchResult{}, wrapErr(op, err)
		}
		sent := c.clock.Now()
		var ans dispatchAnswer
		_, err = c.gh.Do(ctx, hreq, &ans)
		if err == nil {
			if ans.WorkflowRunID != 0 {
				return DispatchResult{RunID: ans.WorkflowRunID, RunURL: ans.RunURL, HTMLURL: ans.HTMLURL}, nil
			}
			return c.awaitRun(ctx, repo, req.Workflow, req.Nonce)
		}
		err = wrapErr(op, err)
		if !retryable(err) || attempt >= c.retries {
			return DispatchResult{}, err
		}
		// The try may have started a run whose answer was lost, and GitHub
		// lists a new run only after a delay: look for it until the
		// list-lag window since the try has passed, never just once.
		c.stats.retries.Add(1)
		run, ferr := c.awaitListed(ctx, repo, req.Workflow, req.Nonce, sent)
		switch {
		case ferr == nil:
			return DispatchResult{RunID: run.ID, HTMLURL: run.URL, Recovered: true}, nil
		case !errors.Is(ferr, ErrNotFound):
			// Cannot tell whether the first try started a run: do not risk
			// a second one.
			return DispatchResult{}, err
		}
	}
}

// awaitRun looks for the run of an accepted dispatch by its nonce, a few
// times with a growing wait, since GitHub lists a new run after a delay.
func (c *Client) awaitRun(ctx context.Context, repo Repo, workflow, nonce string) (DispatchResult, error) {
	wait := c.findWait
	for i := 0; i < c.findTries; i++ {
		run, err := c.FindRun(ctx, repo, workflow, nonce, BypassCache())
		if err == nil {
			return DispatchResult{RunID: run.ID, HTMLURL: run.URL}, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return DispatchResult{}, wrapErr("githubx.Dispatch", err)
		}
		if i+1 < c.findTries {
			if err := c.clock.Sleep(ctx, wait); err != nil {
				return DispatchResult{}, wrapErr("githubx.Dispatch", err)
			}
			wait *= 2
		}
	}
	return DispatchResult{}, nil
}

// FindRun returns the newest workflow_dispatch run of workflow whose run
// name (display title) or name contains nonce, looking at the latest 300
// runs. It fails with [ErrNotFound] when there is none.
func (c *Client) FindRun(ctx context.Context, repo Repo, workflow, nonce string, opts ...CallOption) (Run, error) {
	const op = "githubx.FindRun"
	if !repo.Valid() || workflow == "" || nonce == "" {
		return Run{}, invalid(op, "repo, workflow and nonce are required")
	}
	for page := 1; page <= 3; page++ {
		u := fmt.Sprintf("repos/%s/%s/actions/workflows/%s/runs?event=workflow_dispatch&per_page=100&page=%d",
			url.PathEscape(repo.Owner), url.PathEscape(repo.Name), url.PathEscape(workflow), page)
		var runs apiRuns
		if err := c.getJSON(readCtx(ctx, opts), u, &runs); err != nil {
			return Run{}, wrapErr(op, err)
		}
		for _, r := range runs.WorkflowRuns {
			if strings.Contains(r.DisplayTitle, nonce) || strings.Contains(r.Name, nonce) {
				return c.toRun(r), nil
			}
		}
		if len(runs.WorkflowRuns) < 100 {
			break
		}
	}
	return Run{}, &Error{Op: op, Message: "no run carries nonce " + nonce, Err: ErrNotFound}
}

// GetRun returns a workflow run. Reconciliation passes [BypassCache].
func (c *Client) GetRun(ctx context.Context, repo Repo, runID int64, opts ...CallOption) (Run, error) {
	const op = "githubx.GetRun"
	if !repo.Valid() || runID <= 0 {
		return Run{}, invalid(op, "repo and a positive run id are required")
	}
	var r apiRun
	u := fmt.Sprintf("repos/%s/%s/actions/runs/%d", url.PathEscape(repo.Owner), url.PathEscape(repo.Name), runID)
	if err := c.getJSON(readCtx(ctx, opts), u, &r); err != nil {
		return Run{}, wrapErr(op, err)
	}
	return c.toRun(r), nil
}

func (c *Client) getJSON(ctx context.Context, u string, v any) error {
	req, err := c.gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	_, err = c.gh.Do(ctx, req, v)
	return err
}

// ListJobs returns the jobs of a run's latest attempt.
func (c *Client) ListJobs(ctx context.Context, repo Repo, runID int64, opts ...CallOption) ([]Job, error) {
	const op = "githubx.ListJobs"
	if !repo.Valid() || runID <= 0 {
		return nil, invalid(op, "repo and a positive run id are required")
	}
	var out []Job
	lo := &github.ListWorkflowJobsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for page := 0; page < 20; page++ {
		jobs, resp, err := c.gh.Actions.ListWorkflowJobs(readCtx(ctx, opts), repo.Owner, repo.Name, runID, lo)
		if err != nil {
			return nil, wrapErr(op, err)
		}
		for _, j := range jobs.Jobs {
			out = append(out, toJob(j))
		}
		if resp.NextPage == 0 {
			break
		}
		lo.Page = resp.NextPage
	}
	return out, nil
}

// LogOptions bound a log download.
type LogOptions struct {
	// MaxBytes caps the text returned. Default 1 MiB.
	MaxBytes int64
	// Tail keeps the last MaxBytes instead of the first (Terraform prints
	// its plan summary at the end).
	Tail bool
}

// Logs is a job's log text, possibly truncated.
type Logs struct {
	Text      []byte
	Truncated bool
}

// JobLogs downloads a job's log, keeping at most opts.MaxBytes of it.
// The download URL GitHub redirects to is fetched without credentials.
func (c *Client) JobLogs(ctx context.Context, repo Repo, jobID int64, opts LogOptions) (Logs, error) {
	const op = "githubx.JobLogs"
	if !repo.Valid() || jobID <= 0 {
		return Logs{}, invalid(op, "repo and a positive job id are required")
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 1 << 20
	}
	loc, err := c.logLocation(ctx, repo, jobID)
	if err != nil {
		return Logs{}, wrapErr(op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return Logs{}, wrapErr(op, err)
	}
	resp, err := c.plain.Do(req)
	if err != nil {
		return Logs{}, wrapErr(op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Logs{}, &Error{Op: op, StatusCode: resp.StatusCode, Message: "log download", Err: classify(resp.StatusCode, "", nil)}
	}
	if !opts.Tail {
		b, err := io.ReadAll(io.LimitReader(resp.Body, opts.MaxBytes+1))
		if err != nil {
			return Logs{}, wrapErr(op, err)
		}
		if int64(len(b)) > opts.MaxBytes {
			return Logs{Text: b[:opts.MaxBytes], Truncated: true}, nil
		}
		return Logs{Text: b}, nil
	}
	tail := &tailBuffer{max: int(opts.MaxBytes)}
	if _, err := io.Copy(tail, resp.Body); err != nil {
		return Logs{}, wrapErr(op, err)
	}
	return Logs{Text: tail.bytes(), Truncated: tail.dropped}, nil
}

// logLocation asks GitHub where a job's log is; GitHub answers 302 with
// a short-lived download URL.
func (c *Client) logLocation(ctx context.Context, repo Repo, jobID int64) (string, error) {
	u := fmt.Sprintf("repos/%s/%s/actions/jobs/%d/logs", url.PathEscape(repo.Owner), url.PathEscape(repo.Name), jobID)
	req, err := c.gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req = req.WithContext(withCall(ctx, callConfig{noCache: true}))
	resp, err := c.noRedirect.Do(req)
	if err != nil {
		return "", err
	}
	defer drain(resp)
	if resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusMovedPermanently {
		if loc := resp.Header.Get("Location"); loc != "" {
			return loc, nil
		}
	}
	if err := github.CheckResponse(resp); err != nil {
		return "", err
	}
	return "", &Error{Op: "githubx.JobLogs", StatusCode: resp.StatusCode, Message: "no log location", Err: ErrNotFound}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max     int
	buf     []byte
	dropped bool
}

// Write appends p, trimming to max only when the buffer doubles, so the
// copying stays linear in the log size.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		t.trim()
	}
	return len(p), nil
}

func (t *tailBuffer) trim() {
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.dropped = true
	}
}

func (t *tailBuffer) bytes() []byte {
	t.trim()
	return t.buf
}
