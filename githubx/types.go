package githubx

import (
	"time"

	"github.com/google/go-github/v60/github"
)

// PullRequest is the part of a GitHub pull request tfpilot uses.
type PullRequest struct {
	Number  int
	URL     string // html_url
	Title   string
	State   string // "open" or "closed"
	Draft   bool
	Merged  bool
	HeadRef string
	HeadSHA string
	BaseRef string
	// MergeCommitSHA is the merge commit once Merged.
	MergeCommitSHA string
	// Mergeable is nil while GitHub is still computing it.
	Mergeable      *bool
	MergeableState string
	Author         string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ClosedAt       time.Time
	MergedAt       time.Time
}

// Open reports whether the pull request is open.
func (p PullRequest) Open() bool { return p.State == "open" }

// Review is a pull request review.
type Review struct {
	ID          int64
	User        string
	State       string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
	CommitID    string
	SubmittedAt time.Time
}

// Run is a GitHub Actions workflow run.
type Run struct {
	ID           int64
	Kind         WorkflowKind // "" when the workflow is none of [Workflows]
	WorkflowID   int64
	WorkflowPath string // e.g. ".github/workflows/plan.yml"
	Name         string // the workflow's name
	DisplayTitle string // the run name (run-name), which carries the nonce
	Event        string
	Status       string // queued, in_progress, completed, …
	Conclusion   string // "" until completed
	HeadBranch   string
	HeadSHA      string
	RunNumber    int
	RunAttempt   int
	URL          string // html_url
	CreatedAt    time.Time
	UpdatedAt    time.Time
	StartedAt    time.Time
	// CompletedAt is UpdatedAt once Status is "completed" (GitHub's run
	// object has no completed_at); zero before.
	CompletedAt time.Time
}

// Job is a job of a workflow run.
type Job struct {
	ID          int64
	RunID       int64
	Name        string
	Status      string
	Conclusion  string
	URL         string // html_url
	StartedAt   time.Time
	CompletedAt time.Time
}

func toPR(p *github.PullRequest) PullRequest {
	out := PullRequest{
		Number: p.GetNumber(), URL: p.GetHTMLURL(), Title: p.GetTitle(), State: p.GetState(),
		Draft: p.GetDraft(), Merged: p.GetMerged(), MergeCommitSHA: p.GetMergeCommitSHA(),
		Mergeable: p.Mergeable, MergeableState: p.GetMergeableState(), Author: p.GetUser().GetLogin(),
		CreatedAt: p.GetCreatedAt().Time, UpdatedAt: p.GetUpdatedAt().Time,
		ClosedAt: p.GetClosedAt().Time, MergedAt: p.GetMergedAt().Time,
	}
	if p.Head != nil {
		out.HeadRef, out.HeadSHA = p.Head.GetRef(), p.Head.GetSHA()
	}
	if p.Base != nil {
		out.BaseRef = p.Base.GetRef()
	}
	if !out.MergedAt.IsZero() {
		out.Merged = true
	}
	if out.Mergeable != nil {
		v := *out.Mergeable
		out.Mergeable = &v
	}
	return out
}

// apiRun decodes a workflow run; go-github v60's WorkflowRun lacks "path".
type apiRun struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	DisplayTitle string    `json:"display_title"`
	Path         string    `json:"path"`
	WorkflowID   int64     `json:"workflow_id"`
	Event        string    `json:"event"`
	Status       string    `json:"status"`
	Conclusion   *string   `json:"conclusion"`
	HeadBranch   string    `json:"head_branch"`
	HeadSHA      string    `json:"head_sha"`
	RunNumber    int       `json:"run_number"`
	RunAttempt   int       `json:"run_attempt"`
	HTMLURL      string    `json:"html_url"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	RunStartedAt time.Time `json:"run_started_at"`
}

type apiRuns struct {
	TotalCount   int      `json:"total_count"`
	WorkflowRuns []apiRun `json:"workflow_runs"`
}

func (c *Client) toRun(r apiRun) Run {
	out := Run{
		ID: r.ID, WorkflowID: r.WorkflowID, WorkflowPath: r.Path, Name: r.Name, DisplayTitle: r.DisplayTitle,
		Event: r.Event, Status: r.Status, HeadBranch: r.HeadBranch, HeadSHA: r.HeadSHA,
		RunNumber: r.RunNumber, RunAttempt: r.RunAttempt, URL: r.HTMLURL,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, StartedAt: r.RunStartedAt,
	}
	if r.Conclusion != nil {
		out.Conclusion = *r.Conclusion
	}
	out.Kind, _ = c.workflows.Classify(out.WorkflowPath, out.Name)
	if out.Status == "completed" {
		out.CompletedAt = out.UpdatedAt
	}
	return out
}

func toJob(j *github.WorkflowJob) Job {
	return Job{
		ID: j.GetID(), RunID: j.GetRunID(), Name: j.GetName(), Status: j.GetStatus(),
		Conclusion: j.GetConclusion(), URL: j.GetHTMLURL(),
		StartedAt: j.GetStartedAt().Time, CompletedAt: j.GetCompletedAt().Time,
	}
}
