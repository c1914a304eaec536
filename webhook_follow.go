package tfpilot

import (
	"context"
	"errors"
	"fmt"

	"github.com/tfpilot/tfpilot/webhook"
)

// followingSink is the [WebhookSink] the Pilot's webhook handler uses,
// plus the webhook's trigger of "a request's branch follows its base":
// after a pull_request "synchronize" moved a request's pull request to a
// head tfpilot did not commit (a person pushed to the request's branch),
// the branch is rebuilt on its base at once, as Sync would (see
// rebase.go). The rebuild's own push comes back as a synchronize whose
// head is the request's commit, which does nothing.
//
// GitHub sends no webhook when a pull request's mergeability changes
// (another request merged into the base); that is found by Sync (the
// reconciler) and by Merge, which rebuild then.
type followingSink struct {
	*WebhookSink
	p *Pilot
}

// HandlePullRequest applies the event, then rebuilds the branch when a
// synchronize brought a foreign head. A failed rebuild is logged and left
// to Sync: the delivery itself was handled.
func (s followingSink) HandlePullRequest(ctx context.Context, ev webhook.PullRequestEvent) (string, error) {
	out, err := s.WebhookSink.HandlePullRequest(ctx, ev)
	if err == nil && ev.Action == "closed" && ev.Merged {
		return s.followMerge(ctx, ev, out), nil
	}
	if err != nil || ev.Action != "synchronize" || ev.HeadSHA == "" {
		return out, err
	}
	id, lerr := s.p.store.LookupPR(ctx, PRRef{Owner: ev.Repo.Owner, Repo: ev.Repo.Name, Number: ev.Number})
	if lerr != nil {
		return out, nil
	}
	r, gerr := s.p.store.GetRequest(ctx, id)
	if gerr != nil || r.CommitSHA == "" || r.CommitSHA == ev.HeadSHA {
		return out, nil
	}
	after, ferr := s.p.followBase(ctx, Caller{Principal: Principal{Login: "github"}}, r)
	switch {
	case ferr != nil && !errors.Is(ferr, context.Canceled):
		s.p.log.WarnContext(ctx, "tfpilot: webhook: rebuilding the branch failed; Sync retries", "request", id, "err", ferr)
	case ferr == nil && after.CommitSHA != r.CommitSHA:
		out = fmt.Sprintf("%s; branch rebuilt on its base at %s", out, short(after.CommitSHA))
	}
	return out, nil
}

// followMerge re-plans, after a merged pull_request delivery, a merge
// commit whose tree differs from the planned one (replan.go). A failure
// is logged and left to Sync and Apply, which compare again.
func (s followingSink) followMerge(ctx context.Context, ev webhook.PullRequestEvent, out string) string {
	id, lerr := s.p.store.LookupPR(ctx, PRRef{Owner: ev.Repo.Owner, Repo: ev.Repo.Name, Number: ev.Number})
	if lerr != nil {
		return out
	}
	r, gerr := s.p.store.GetRequest(ctx, id)
	if gerr != nil {
		return out
	}
	after, ferr := s.p.followMerge(ctx, Caller{Principal: Principal{Login: "github"}}, r)
	switch {
	case ferr != nil && !errors.Is(ferr, context.Canceled):
		s.p.log.WarnContext(ctx, "tfpilot: webhook: comparing the merge commit with the plan failed; Sync retries", "request", id, "err", ferr)
	case ferr == nil && replannedAtMerge(after) && !replannedAtMerge(r):
		out = fmt.Sprintf("%s; merge commit %s re-planned", out, short(after.MergedSHA))
	}
	return out
}
