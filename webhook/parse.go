package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tfpilot/tfpilot/runs"
)

// ErrMalformed: a signed delivery's body is not the JSON its event type
// promises (or lacks a field tfpilot needs). Check with errors.Is.
var ErrMalformed = errors.New("webhook: malformed payload")

// The JSON shapes below hold only what tfpilot reads.

type repoJSON struct {
	Name  string `json:"name"`
	Owner struct {
		Login string `json:"login"`
	} `json:"owner"`
	FullName string `json:"full_name"`
}

func (r repoJSON) repo() Repo {
	if r.Owner.Login != "" && r.Name != "" {
		return Repo{Owner: r.Owner.Login, Name: r.Name}
	}
	owner, name, _ := strings.Cut(r.FullName, "/")
	return Repo{Owner: owner, Name: name}
}

type userJSON struct {
	Login string `json:"login"`
}

type workflowRunJSON struct {
	Action      string   `json:"action"`
	WorkflowRun *runJSON `json:"workflow_run"`
	Workflow    struct {
		Path string `json:"path"`
		Name string `json:"name"`
	} `json:"workflow"`
	Repository repoJSON `json:"repository"`
	Sender     userJSON `json:"sender"`
}

type runJSON struct {
	ID           int64           `json:"id"`
	Name         string          `json:"name"`
	DisplayTitle string          `json:"display_title"`
	Path         string          `json:"path"`
	HeadBranch   string          `json:"head_branch"`
	HeadSHA      string          `json:"head_sha"`
	RunAttempt   int             `json:"run_attempt"`
	Event        string          `json:"event"`
	CreatedAt    json.RawMessage `json:"created_at"` // read leniently (runs.ParseTime)
	PullRequests []struct {
		Number int `json:"number"`
	} `json:"pull_requests"`
	// The facts, kept raw so that runs.RunFacts alone decides how a
	// GitHub run object reads.
	Status      json.RawMessage `json:"status"`
	Conclusion  json.RawMessage `json:"conclusion"`
	CompletedAt json.RawMessage `json:"completed_at"`
	UpdatedAt   json.RawMessage `json:"updated_at"`
	HTMLURL     json.RawMessage `json:"html_url"`
}

// facts decodes the run's facts with [runs.RunFacts], from a small object
// holding only their fields (decoding the whole run object again would
// cost more than everything else the handler does).
func (r *runJSON) facts() (runs.RunFacts, error) {
	var b []byte
	b = fmt.Appendf(b, `{"id":%d,"head_sha":`, r.ID)
	sha, err := json.Marshal(r.HeadSHA)
	if err != nil {
		return runs.RunFacts{}, err
	}
	b = append(b, sha...)
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{
		{"status", r.Status}, {"conclusion", r.Conclusion}, {"completed_at", r.CompletedAt},
		{"updated_at", r.UpdatedAt}, {"html_url", r.HTMLURL},
	} {
		if len(f.raw) > 0 {
			b = append(b, `,"`+f.name+`":`...)
			b = append(b, f.raw...)
		}
	}
	b = append(b, '}')
	var facts runs.RunFacts
	err = json.Unmarshal(b, &facts)
	return facts, err
}

// parseWorkflowRun decodes a workflow_run body. It returns ignore != ""
// for runs that are not tfpilot's.
func parseWorkflowRun(body []byte, classify Classifier) (ev WorkflowRunEvent, ignore string, err error) {
	var p workflowRunJSON
	if err := json.Unmarshal(body, &p); err != nil {
		return ev, "", fmt.Errorf("%w: workflow_run: %v", ErrMalformed, err)
	}
	run := p.WorkflowRun
	if run == nil {
		return ev, "", fmt.Errorf("%w: workflow_run: no workflow_run object", ErrMalformed)
	}
	facts, err := run.facts()
	if err != nil {
		return ev, "", fmt.Errorf("%w: workflow_run: %v", ErrMalformed, err)
	}
	if run.ID <= 0 {
		return ev, "", fmt.Errorf("%w: workflow_run: no run id", ErrMalformed)
	}
	path := firstNonEmpty(run.Path, p.Workflow.Path)
	name := firstNonEmpty(p.Workflow.Name, run.Name)
	ev = WorkflowRunEvent{
		Action:       p.Action,
		Repo:         p.Repository.repo(),
		WorkflowPath: path,
		WorkflowName: name,
		RunID:        run.ID,
		RunName:      firstNonEmpty(run.DisplayTitle, run.Name),
		RunAttempt:   run.RunAttempt,
		HeadBranch:   run.HeadBranch,
		HeadSHA:      run.HeadSHA,
		TriggerEvent: run.Event,
		CreatedAt:    runs.ParseTime(run.CreatedAt),
		Facts:        facts,
		Sender:       p.Sender.Login,
	}
	for _, pr := range run.PullRequests {
		if pr.Number > 0 {
			ev.PullRequests = append(ev.PullRequests, pr.Number)
		}
	}
	kind := classify(path, name)
	switch {
	case kind == "":
		return ev, fmt.Sprintf("ignored: workflow %q is not tfpilot's", path), nil
	case !kind.Known():
		return ev, fmt.Sprintf("ignored: classifier returned unknown kind %q for workflow %q", kind, path), nil
	}
	ev.Kind = kind
	return ev, "", nil
}

type pullRequestJSON struct {
	Number         int       `json:"number"`
	HTMLURL        string    `json:"html_url"`
	State          string    `json:"state"`
	Merged         bool      `json:"merged"`
	MergedAt       time.Time `json:"merged_at"`
	MergeCommitSHA string    `json:"merge_commit_sha"`
	UpdatedAt      time.Time `json:"updated_at"`
	Head           struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	} `json:"head"`
	Base struct {
		Ref string `json:"ref"`
	} `json:"base"`
}

type pullRequestEventJSON struct {
	Action      string          `json:"action"`
	Number      int             `json:"number"`
	Before      string          `json:"before"`
	PullRequest pullRequestJSON `json:"pull_request"`
	Repository  repoJSON        `json:"repository"`
	Sender      userJSON        `json:"sender"`
}

// parsePullRequest decodes a pull_request body. Actions other than
// opened, synchronize, closed and reopened are ignored.
func parsePullRequest(body []byte) (ev PullRequestEvent, ignore string, err error) {
	var p pullRequestEventJSON
	if err := json.Unmarshal(body, &p); err != nil {
		return ev, "", fmt.Errorf("%w: pull_request: %v", ErrMalformed, err)
	}
	switch p.Action {
	case "opened", "synchronize", "closed", "reopened":
	default:
		return ev, fmt.Sprintf("ignored: pull_request action %q", p.Action), nil
	}
	pr := p.PullRequest
	number := pr.Number
	if number == 0 {
		number = p.Number
	}
	if number <= 0 {
		return ev, "", fmt.Errorf("%w: pull_request: no pull request number", ErrMalformed)
	}
	merged := pr.Merged || !pr.MergedAt.IsZero()
	ev = PullRequestEvent{
		Action:    p.Action,
		Repo:      p.Repository.repo(),
		Number:    number,
		URL:       pr.HTMLURL,
		Open:      pr.State == "open" && !merged,
		Merged:    merged,
		HeadRef:   pr.Head.Ref,
		HeadSHA:   pr.Head.SHA,
		BaseRef:   pr.Base.Ref,
		UpdatedAt: pr.UpdatedAt,
		Sender:    p.Sender.Login,
	}
	if merged {
		ev.MergeCommitSHA = pr.MergeCommitSHA
	}
	if p.Action == "synchronize" {
		ev.BeforeSHA = p.Before
	}
	return ev, "", nil
}

type reviewEventJSON struct {
	Action string `json:"action"`
	Review struct {
		ID          int64     `json:"id"`
		User        userJSON  `json:"user"`
		State       string    `json:"state"`
		CommitID    string    `json:"commit_id"`
		SubmittedAt time.Time `json:"submitted_at"`
	} `json:"review"`
	PullRequest pullRequestJSON `json:"pull_request"`
	Repository  repoJSON        `json:"repository"`
	Sender      userJSON        `json:"sender"`
}

// parseReview decodes a pull_request_review body. Submitted reviews
// other than approvals and change requests (comments), and edits, are
// ignored.
func parseReview(body []byte) (ev ReviewEvent, ignore string, err error) {
	var p reviewEventJSON
	if err := json.Unmarshal(body, &p); err != nil {
		return ev, "", fmt.Errorf("%w: pull_request_review: %v", ErrMalformed, err)
	}
	// Webhooks spell states in lower case, the REST API in upper case.
	state := strings.ToLower(p.Review.State)
	switch {
	case p.Action == "submitted" && (state == ReviewApproved || state == ReviewChangesRequested):
	case p.Action == "dismissed":
		state = ReviewDismissed
	default:
		return ev, fmt.Sprintf("ignored: pull_request_review %s %s", p.Action, state), nil
	}
	if p.PullRequest.Number <= 0 {
		return ev, "", fmt.Errorf("%w: pull_request_review: no pull request number", ErrMalformed)
	}
	if p.Review.User.Login == "" {
		return ev, "", fmt.Errorf("%w: pull_request_review: no reviewer", ErrMalformed)
	}
	ev = ReviewEvent{
		Action:      p.Action,
		Repo:        p.Repository.repo(),
		Number:      p.PullRequest.Number,
		HeadRef:     p.PullRequest.Head.Ref,
		HeadSHA:     p.PullRequest.Head.SHA,
		ReviewID:    p.Review.ID,
		Reviewer:    p.Review.User.Login,
		State:       state,
		CommitID:    p.Review.CommitID,
		SubmittedAt: p.Review.SubmittedAt,
		Sender:      p.Sender.Login,
	}
	return ev, "", nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
