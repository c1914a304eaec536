package webhook

import (
	"time"

	"github.com/tfpilot/tfpilot/runs"
)

// Kind is an alias of [runs.Kind], the one workflow-kind type of
// tfpilot, kept for existing users: what a workflow run does, as the
// configured [Classifier] decides from the workflow's file and name. Plan,
// apply and destroy runs are attempts of a request ([runs.Kind.Valid]);
// cleanup and drift runs are not.
type Kind = runs.Kind

// The workflow kinds tfpilot drives, as aliases of the [runs.Kind]
// constants.
const (
	KindPlan    = runs.Plan
	KindApply   = runs.Apply
	KindDestroy = runs.Destroy
	KindCleanup = runs.Cleanup
	KindDrift   = runs.Drift
)

// Classifier tells which [Kind] a workflow is from its file path (e.g.
// ".github/workflows/plan.yml") and name. It returns "" for workflows
// that are not tfpilot's; those runs are recorded as ignored. A returned
// kind that is not [runs.Kind.Known] is treated the same way, and logged.
// githubx.Workflows.Classify fits it with its boolean dropped.
type Classifier func(workflowPath, workflowName string) Kind

// Repo is an alias of [runs.Repo], the one repository type shared with
// githubx, kept for existing users.
type Repo = runs.Repo

// WorkflowRunEvent is a workflow_run delivery for one of tfpilot's
// workflows.
type WorkflowRunEvent struct {
	// DeliveryID is the X-GitHub-Delivery header.
	DeliveryID string
	// Action is "requested", "in_progress" or "completed".
	Action string
	// Kind is the classifier's verdict; always valid.
	Kind Kind
	Repo Repo
	// WorkflowPath and WorkflowName identify the workflow.
	WorkflowPath string
	WorkflowName string
	// RunID is workflow_run.id; always positive.
	RunID int64
	// RunName is the run's display_title (its run-name), else its name.
	// [runs.ParseRunName] reads tfpilot's request id and nonce from it.
	RunName string
	// RunAttempt is GitHub's re-run counter (1 for the first run).
	RunAttempt int
	// HeadBranch and HeadSHA are the branch and commit the run ran on.
	HeadBranch string
	HeadSHA    string
	// TriggerEvent is what started the run, e.g. "workflow_dispatch".
	TriggerEvent string
	// PullRequests are the numbers of the same-repository pull requests
	// GitHub associates with the run (often none for dispatched runs).
	PullRequests []int
	// CreatedAt is when GitHub created the run.
	CreatedAt time.Time
	// Facts are the run's status, conclusion and times, ready for
	// [runs.PatchByRunID].
	Facts runs.RunFacts
	// Sender is the login of the user who caused the delivery.
	Sender string
}

// PullRequestEvent is a pull_request delivery with action opened,
// synchronize, closed or reopened.
type PullRequestEvent struct {
	DeliveryID string
	// Action is "opened", "synchronize", "closed" or "reopened".
	Action string
	Repo   Repo
	Number int
	URL    string
	// Open is true when the pull request's state is open.
	Open bool
	// Merged is true for a closed pull request that was merged.
	Merged bool
	// MergeCommitSHA is the merge commit of a merged pull request; it is
	// empty unless Merged (GitHub fills merge_commit_sha with a test merge
	// for open and unmerged pull requests, which is no fact of ours).
	MergeCommitSHA string
	// HeadRef and HeadSHA are the head branch and its commit.
	HeadRef string
	HeadSHA string
	// BeforeSHA is the previous head of a synchronize; empty otherwise.
	BeforeSHA string
	BaseRef   string
	// UpdatedAt is the pull request's updated_at.
	UpdatedAt time.Time
	Sender    string
}

// Review states, lower case as webhooks spell them.
const (
	ReviewApproved         = "approved"
	ReviewChangesRequested = "changes_requested"
	ReviewDismissed        = "dismissed"
)

// ReviewEvent is a pull_request_review delivery: a review submitted as
// approved or changes requested, or a review dismissed.
type ReviewEvent struct {
	DeliveryID string
	// Action is "submitted" or "dismissed".
	Action string
	Repo   Repo
	// Number is the reviewed pull request's number.
	Number int
	// HeadRef and HeadSHA are the pull request's head branch and commit.
	HeadRef string
	HeadSHA string
	// ReviewID is the review's id.
	ReviewID int64
	// Reviewer is the review author's login.
	Reviewer string
	// State is [ReviewApproved] or [ReviewChangesRequested] for a
	// submission and [ReviewDismissed] for a dismissal.
	State string
	// CommitID is the commit the review was made on.
	CommitID    string
	SubmittedAt time.Time
	Sender      string
}
