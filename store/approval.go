package store

import (
	"slices"
	"time"

	"github.com/tfpilot/tfpilot/runs"
)

// Review states as [ReviewFact] records them (GitHub's webhook spelling).
const (
	ReviewStateApproved         = "approved"
	ReviewStateChangesRequested = "changes_requested"
	ReviewStateDismissed        = "dismissed"
)

// Sources of an [ApprovalGrant].
const (
	ApprovalSourceAPI    = "api"
	ApprovalSourceReview = "github-review"
)

// ApprovalGrant is one principal's approval of one head commit and,
// when it was known, of one saved plan.
type ApprovalGrant struct {
	Principal string `json:"principal"`
	HeadSHA   string `json:"headSha"`
	// PlanDigest is the digest of the saved plan file the approver saw
	// ("sha256:<hex>", the plan attempt's output.planDigest); empty when
	// the plan reported none or its output was not read yet.
	PlanDigest string `json:"planDigest,omitempty"`
	// PlannedSHA is, for a plan pinned to a commit (the re-plan at a
	// merge commit whose tree differs from the planned one, replan.go),
	// the commit that plan planned; empty for a plan of the head. A
	// pinned plan counts as approved only by a grant naming its commit
	// (and its digest), never by one given before it existed.
	PlannedSHA string    `json:"plannedSha,omitempty"`
	Source     string    `json:"source"`
	ReviewID   int64     `json:"reviewId,omitempty"`
	At         time.Time `json:"at,omitzero"`
}

// ReviewFact is a GitHub review of the request's pull request as tfpilot
// saw it: who wrote it, on which commit, and whether its reviewer could
// approve the request. Reviews that approve nothing are kept too, so the
// document shows who tried.
type ReviewFact struct {
	ID       int64  `json:"id"`
	CommitID string `json:"commitId,omitempty"`
	// Login is the reviewer's GitHub login.
	Login string `json:"login"`
	// Principal is the principal Login maps to; empty when unmapped.
	Principal string `json:"principal,omitempty"`
	// State is one of the ReviewState constants.
	State       string    `json:"state"`
	SubmittedAt time.Time `json:"submittedAt,omitzero"`
	// Ineligible says why the reviewer's approval does not count
	// (unmapped, not allowed to approve, the requester); empty when it
	// may count.
	Ineligible string `json:"ineligible,omitempty"`
	// PlanDigest is the digest of the request's current plan when the
	// review was recorded: the saved plan the reviewer saw. Empty when
	// unknown.
	PlanDigest string `json:"planDigest,omitempty"`
}

// Clone returns a deep copy of a (nil for nil).
func (a *Approval) Clone() *Approval {
	if a == nil {
		return nil
	}
	c := *a
	c.Approvers = slices.Clone(a.Approvers)
	c.Grants = slices.Clone(a.Grants)
	c.Reviews = slices.Clone(a.Reviews)
	return &c
}

// ApprovalHead is the commit r's approvals are about: the pull
// request's head, else the commit tfpilot pushed.
func (r *Request) ApprovalHead() string {
	if r.PR != nil && r.PR.HeadSHA != "" {
		return r.PR.HeadSHA
	}
	return r.CommitSHA
}

// ApprovalCounts reports whether a holds an approval of head that
// counts. An approval written before approvals were bound to commits (no
// headSha) counts as it did then, until the head changes.
func ApprovalCounts(a *Approval, head string) bool {
	if a == nil || !a.Approved {
		return false
	}
	return a.HeadSHA == "" || a.HeadSHA == head
}

// ApprovalCountsForPlan reports whether a holds an approval of head that
// counts for the saved plan digest: some principal's grant of head names
// digest. A grant of another digest (an earlier plan of the same commit,
// or one given before the plan's digest was read) does not count. An
// empty digest (a plan that reported none) falls back to [ApprovalCounts].
func ApprovalCountsForPlan(a *Approval, head, digest string) bool {
	if digest == "" {
		return ApprovalCounts(a, head)
	}
	if !ApprovalCounts(a, head) {
		return false
	}
	return slices.ContainsFunc(a.Grants, func(g ApprovalGrant) bool { return g.HeadSHA == head && g.PlanDigest == digest })
}

// PinnedSHA is the commit r's current plan is pinned to (a re-plan at the
// merge commit), empty for a plan of the head.
func (r *Request) PinnedSHA() string {
	if a, ok := runs.Current(r.Runs, runs.Plan); ok {
		return a.PinnedSHA
	}
	return ""
}

// PlanApproved reports whether an approval of r's head counts for r's
// current plan: it names the plan's digest ([ApprovalCountsForPlan]) and,
// for a plan pinned to a commit, that commit ([ApprovalGrant.PlannedSHA]).
func (r *Request) PlanApproved() bool {
	head, d := r.ApprovalHead(), r.PlanDigest()
	if !ApprovalCountsForPlan(r.Approval, head, d) {
		return false
	}
	pin := r.PinnedSHA()
	if pin == "" {
		return true
	}
	return slices.ContainsFunc(r.Approval.Grants, func(g ApprovalGrant) bool {
		return g.HeadSHA == head && g.PlannedSHA == pin && (d == "" || g.PlanDigest == d)
	})
}

// PlanDigest is the saved plan digest of r's current plan, empty when
// it reported none or its output was not read yet.
func (r *Request) PlanDigest() string {
	if a, ok := runs.Current(r.Runs, runs.Plan); ok && a.Output != nil {
		return a.Output.PlanDigest
	}
	return ""
}
