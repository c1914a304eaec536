package tfpilot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tfpilot/tfpilot/githubx"
)

// This file is the one home of the approval rules. The API's Approve,
// Sync's reading of GitHub reviews and the webhook sink's review handling
// all go through the same pure functions, so the paths cannot drift:
//
//   - an approval is a grant by one principal of one head commit;
//   - it counts only while that commit is the request's head: any change
//     of the head voids every grant ([ApprovalForHead]);
//   - a GitHub review counts only if its reviewer's login maps to a
//     principal ([ApprovalRules.Reviewers]), that principal may approve
//     the request ([Authorizer], [ActionApprove]) and — unless the target
//     allows it ([Target.AllowSelfApproval]) — is not the requester;
//     a review that does not count is kept as a fact that approves nothing;
//   - a review is identified by its GitHub review id: seeing it again
//     (a replayed delivery, the next Sync) changes nothing;
//   - a grant names the digest of the saved plan the approver saw (the
//     current plan's output.planDigest when it was given); once the plan
//     to apply has a digest, only a grant of that digest lets Apply start
//     ([ApprovalCountsForPlan]), so Apply applies what was approved.
//   - after a merge whose commit holds another tree than the plan saw,
//     the plan of the merge commit needs its own grant, naming that
//     commit and the plan's digest ([ApprovalGrant.PlannedSHA]); earlier
//     grants and reviews do not count for it (replan.go).

// ApprovalForHead returns a with every grant that is not for head voided,
// and approved/approvers recomputed for head: a change of the head commit
// voids approvals. Reviews are facts and are kept. It never modifies a;
// it returns a itself when nothing changes. A legacy approval (approved,
// with approvers but no headSha and no grants) is taken to be for the
// first head it is bound to.
func ApprovalForHead(a *Approval, head string) *Approval {
	if a == nil || a.HeadSHA == head {
		return a
	}
	out := a.Clone()
	if a.HeadSHA == "" && len(a.Grants) == 0 && a.Approved {
		for _, p := range a.Approvers {
			out.Grants = append(out.Grants, ApprovalGrant{Principal: p, HeadSHA: head, Source: "legacy"})
		}
	}
	out.HeadSHA = head
	out.Grants = slices.DeleteFunc(out.Grants, func(g ApprovalGrant) bool { return g.HeadSHA != head })
	recount(out)
	return out
}

// recount derives the review grants from the reviews, and approved and
// approvers from the grants for a.HeadSHA.
func recount(a *Approval) {
	a.Grants = slices.DeleteFunc(a.Grants, func(g ApprovalGrant) bool { return g.Source == ApprovalSourceReview })
	a.Grants = append(a.Grants, reviewGrants(a, a.HeadSHA)...)
	a.Approvers = a.Approvers[:0]
	for _, g := range a.Grants {
		if g.HeadSHA == a.HeadSHA && !slices.Contains(a.Approvers, g.Principal) {
			a.Approvers = append(a.Approvers, g.Principal)
		}
	}
	slices.Sort(a.Approvers)
	slices.SortStableFunc(a.Grants, func(x, y ApprovalGrant) int {
		return cmp.Or(strings.Compare(x.Principal, y.Principal), strings.Compare(x.Source, y.Source))
	})
	if len(a.Approvers) == 0 {
		a.Approvers = nil
	}
	a.Approved = len(a.Approvers) > 0
}

// ApprovalWithGrant returns a (bound to head) with g added. A grant for
// another head is refused with [ErrPrecondition]; a principal who already
// approved head and the same plan (digest and pinned commit) changes
// nothing (changed is false); approving another plan replaces the
// principal's grant.
func ApprovalWithGrant(a *Approval, head string, g ApprovalGrant) (out *Approval, changed bool, err error) {
	if head == "" || g.HeadSHA != head {
		return a, false, gate(ActionApprove, "the approval is for %s but the head is %s", short(g.HeadSHA), short(head))
	}
	if a == nil {
		a = &Approval{}
	}
	out = ApprovalForHead(a, head).Clone()
	if slices.ContainsFunc(out.Grants, func(x ApprovalGrant) bool {
		return x.Principal == g.Principal && x.HeadSHA == head && x.PlanDigest == g.PlanDigest && x.PlannedSHA == g.PlannedSHA
	}) {
		return ApprovalForHead(a, head), false, nil
	}
	out.Grants = slices.DeleteFunc(out.Grants, func(x ApprovalGrant) bool {
		return x.Principal == g.Principal && x.Source == g.Source
	})
	out.HeadSHA = head
	out.Grants = append(out.Grants, g)
	recount(out)
	return out, true, nil
}

// ApprovalWithReview returns a (bound to head) after review rv. A review
// already recorded in the same state, or one whose id was dismissed, is
// a replay and changes nothing. Otherwise the review is recorded and the
// reviewer's principal's grants follow the reviewer's latest review (by
// submission time, then id): an eligible approval of head grants; a
// change request or a dismissal withdraws what the principal granted,
// through the API too. A review of another commit, by an unmapped or
// ineligible reviewer, grants nothing.
func ApprovalWithReview(a *Approval, head string, rv ReviewFact) (out *Approval, changed bool) {
	if a == nil {
		a = &Approval{}
	}
	base := ApprovalForHead(a, head)
	i := slices.IndexFunc(base.Reviews, func(x ReviewFact) bool { return x.ID == rv.ID && x.ID != 0 })
	if i >= 0 && (rv.State != ReviewStateDismissed || base.Reviews[i].State == ReviewStateDismissed) {
		// Seen before: a review's only change is its dismissal.
		return base, base != a
	}
	out = base.Clone()
	if i >= 0 {
		// A dismissal keeps what the submission said, and its time.
		prev := out.Reviews[i]
		prev.State = ReviewStateDismissed
		out.Reviews[i] = prev
	} else {
		out.Reviews = append(out.Reviews, rv)
		slices.SortFunc(out.Reviews, func(x, y ReviewFact) int { return cmp.Compare(x.ID, y.ID) })
	}
	if rv.Principal != "" {
		if latest, ok := latestReview(out.Reviews, rv.Login); ok && latest.State != ReviewStateApproved {
			// A change request or dismissal withdraws what the principal
			// granted, through the API too.
			out.Grants = slices.DeleteFunc(out.Grants, func(g ApprovalGrant) bool { return g.Principal == latest.Principal })
		}
	}
	recount(out)
	return out, true
}

// reviewGrants are the grants a's reviews make for head: one per
// reviewer whose latest review (by submission time, then id) is an
// eligible approval of head.
func reviewGrants(a *Approval, head string) []ApprovalGrant {
	var out []ApprovalGrant
	seen := map[string]bool{}
	for _, rv := range a.Reviews {
		login := strings.ToLower(rv.Login)
		if seen[login] {
			continue
		}
		seen[login] = true
		latest, _ := latestReview(a.Reviews, rv.Login)
		if latest.State == ReviewStateApproved && latest.Ineligible == "" && latest.Principal != "" &&
			head != "" && latest.CommitID == head {
			out = append(out, ApprovalGrant{Principal: latest.Principal, HeadSHA: head, PlanDigest: latest.PlanDigest,
				Source: ApprovalSourceReview, ReviewID: latest.ID, At: latest.SubmittedAt})
		}
	}
	return out
}

// latestReview is login's latest review by submission time, then id.
func latestReview(reviews []ReviewFact, login string) (ReviewFact, bool) {
	var best ReviewFact
	found := false
	for _, rv := range reviews {
		if !strings.EqualFold(rv.Login, login) {
			continue
		}
		if !found || cmp.Or(rv.SubmittedAt.Compare(best.SubmittedAt), cmp.Compare(rv.ID, best.ID)) > 0 {
			best, found = rv, true
		}
	}
	return best, found
}

// ApprovalRules decides whose approval counts. [Pilot] builds it from
// [Config] and uses it for Approve and Sync; [WebhookSinkOptions] takes
// it for reviews.
type ApprovalRules struct {
	// Reviewers maps GitHub logins (compared case-insensitively) to
	// principals. A reviewer on no entry approves nothing.
	Reviewers map[string]Principal
	// Authorizer decides whether a principal may approve a request.
	// Nil: nobody may.
	Authorizer Authorizer
	// Targets says, per project/environment, whether a requester may
	// approve their own request ([Target.AllowSelfApproval]). Nil: never.
	Targets Targets
}

// Principal returns the principal GitHub login maps to.
func (ar ApprovalRules) Principal(login string) (Principal, bool) {
	if p, ok := ar.Reviewers[login]; ok {
		return p, true
	}
	for k, p := range ar.Reviewers {
		if strings.EqualFold(k, login) {
			return p, true
		}
	}
	return Principal{}, false
}

// Check returns nil when p's approval of r would count, else an error
// wrapping [ErrPermissionDenied] saying why.
func (ar ApprovalRules) Check(ctx context.Context, p Principal, r *Request) error {
	if ar.Authorizer == nil {
		return fmt.Errorf("%w: no authorizer decides approvals", ErrPermissionDenied)
	}
	if err := ar.Authorizer.Authorize(ctx, p, ActionApprove, r); err != nil {
		return err
	}
	if r.CreatedBy != "" && r.CreatedBy == p.Login && !ar.selfApprovalAllowed(r) {
		return fmt.Errorf("%w: %w (%q requested %s)", ErrPermissionDenied, ErrSelfApproval, p.Login, r.ID)
	}
	return nil
}

func (ar ApprovalRules) selfApprovalAllowed(r *Request) bool {
	if ar.Targets == nil {
		return false
	}
	t, err := ar.Targets.Target(r.Project, r.Environment)
	return err == nil && t.AllowSelfApproval
}

// ReviewFact turns a GitHub review of r's pull request into the fact the
// approval rules take: the principal its login maps to and, when the
// review could not approve, why. state is GitHub's, in either spelling
// (APPROVED or approved).
func (ar ApprovalRules) ReviewFact(ctx context.Context, r *Request, id int64, login, state, commitID string, at time.Time) ReviewFact {
	rv := ReviewFact{ID: id, CommitID: commitID, Login: login, State: strings.ToLower(state), SubmittedAt: at.UTC(),
		PlanDigest: r.PlanDigest()}
	p, ok := ar.Principal(login)
	if !ok {
		rv.Ineligible = "unmapped GitHub login"
		return rv
	}
	rv.Principal = p.Login
	if err := ar.Check(ctx, p, r); err != nil {
		rv.Ineligible = strings.TrimPrefix(err.Error(), ErrPermissionDenied.Error()+": ")
	}
	return rv
}

// approvalRules are the rules the Pilot's paths share.
func (p *Pilot) approvalRules() ApprovalRules {
	return ApprovalRules{Reviewers: p.cfg.Reviewers, Authorizer: p.cfg.Authorizer, Targets: p.cfg.Targets}
}

// ApprovalRules returns the approval rules of p's configuration, for a
// [WebhookSink] built outside [Pilot.WebhookHandler].
func (p *Pilot) ApprovalRules() ApprovalRules { return p.approvalRules() }

// reviewFacts turns the reviews Sync read from GitHub into facts, oldest
// first; comments and pending reviews are no approval facts.
func (ar ApprovalRules) reviewFacts(ctx context.Context, r *Request, reviews []githubx.Review) []ReviewFact {
	var out []ReviewFact
	for _, rv := range reviews {
		switch strings.ToLower(rv.State) {
		case ReviewStateApproved, ReviewStateChangesRequested, ReviewStateDismissed:
		default:
			continue
		}
		if rv.User == "" {
			continue
		}
		out = append(out, ar.ReviewFact(ctx, r, rv.ID, rv.User, rv.State, rv.CommitID, rv.SubmittedAt))
	}
	slices.SortStableFunc(out, func(x, y ReviewFact) int {
		return cmp.Or(x.SubmittedAt.Compare(y.SubmittedAt), cmp.Compare(x.ID, y.ID))
	})
	return out
}

// approvalFromReviews binds a to head (voiding grants of other heads) and
// applies each review, as the webhook path does one at a time. Nil stays
// nil when there is nothing to record.
func approvalFromReviews(a *Approval, head string, facts []ReviewFact) *Approval {
	if a == nil && len(facts) == 0 {
		return nil
	}
	out := ApprovalForHead(a, head)
	for _, f := range facts {
		out, _ = ApprovalWithReview(out, head, f)
	}
	return out
}
