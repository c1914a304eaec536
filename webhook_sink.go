package tfpilot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/webhook"
)

// DefaultBranchPrefix is the default of [Config].BranchPrefix: request
// branches are tfpilot/<request-id>.
const DefaultBranchPrefix = "tfpilot/"

// runCreatedSkew is how much earlier than an attempt's dispatch a run may
// have been created (by GitHub's clock) and still be attached to it by
// branch or pull-request correlation.
const runCreatedSkew = time.Minute

// WebhookEventSource is the Source of the lifecycle events a
// [WebhookSink] appends.
const WebhookEventSource = "github-webhook"

// WebhookSinkOptions configures [NewWebhookSink]; nil means defaults.
type WebhookSinkOptions struct {
	// BranchPrefix is the prefix of request branches, followed by the
	// request id. Empty means [DefaultBranchPrefix]. It must be the
	// engine's [Config].BranchPrefix; [Pilot.WebhookHandler] passes it.
	BranchPrefix string
	// Logger receives failures to append lifecycle events and oddities
	// worth an operator's look. Nil discards.
	Logger *slog.Logger
	// Now is the clock that stamps UpdatedAt on the requests the sink
	// changes. Nil means time.Now.
	Now func() time.Time
	// Approvals decides which reviews approve (see [ApprovalRules]).
	// The zero value maps no GitHub login, so reviews are recorded but
	// approve nothing. [Pilot.WebhookHandler] passes the Pilot's rules.
	Approvals ApprovalRules
}

// WebhookSink applies GitHub webhook events to requests. It implements
// [webhook.Sink]: mount a [webhook.Handler] with it and, as the
// handler's Deliveries, [WebhookSink.Deliveries] (or the same [Store];
// see [IsDuplicateDelivery]).
//
// Every change is a [Mutate] compare-and-swap write, retried on
// conflict, that stages one lifecycle event (Source
// [WebhookEventSource]) on the document in the same write, flushed to the
// [EventStore] right after (see [StageEvent]); a store that is a
// [store.DeliveryWriter] records it in the write itself, and completes the
// delivery there too when the handler's Deliveries are the sink's
// ([WebhookSink.Deliveries]). An event that changes
// nothing writes nothing and records nothing, so repeated facts are
// harmless.
//
// Workflow runs are correlated to a request in this order: the run
// index ([RunIndex.LookupRun]); the dispatch nonce in the run name
// ([runs.ParseRunName], then [runs.FindByNonce]); the pull-request index
// ([PRIndex.LookupPR]) for the run's pull requests; the request branch
// (BranchPrefix + request id). A run found by nonce is attached to the
// attempt that dispatched it; one found by pull request or branch is
// attached to the current attempt only when that attempt has no run id
// yet, the run was started by workflow_dispatch, the attempt was
// dispatched for the same head SHA (when it recorded one) and not after
// the run was created, the run name carries no other attempt's nonce,
// and — for apply runs — when
// the run's head SHA is the request's mergedSha or commitSha (the
// original's guard against attaching another request's apply). Attached
// runs are indexed. Attempts are then patched with [runs.PatchByRunID]:
// never appended, never moved (INV-CORE-3).
//
// Pull requests update the request's pr facts; reviews its approval.
// The merged state is terminal: once pr.merged, later deliveries for
// the pull request change nothing, so deliveries arriving in any order
// end in the same document. Two cases depend on arrival order because
// the document keeps no time for them, and are settled by the next sync
// from GitHub: a close and a reopen of the same pull request, and an
// approval and a revocation by the same reviewer.
type WebhookSink struct {
	store  Store
	prefix string
	log    *slog.Logger
	now    func() time.Time
	rules  ApprovalRules
	claims claims // made by Deliveries (store_delivery.go)
}

// NewWebhookSink returns a [WebhookSink] over store.
func NewWebhookSink(store Store, opts *WebhookSinkOptions) *WebhookSink {
	s := &WebhookSink{store: store, prefix: DefaultBranchPrefix, now: time.Now}
	if opts != nil {
		if opts.BranchPrefix != "" {
			s.prefix = opts.BranchPrefix
		}
		s.log = opts.Logger
		if opts.Now != nil {
			s.now = opts.Now
		}
		s.rules = opts.Approvals
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// IsDuplicateDelivery reports whether err, from
// [DeliveryStore.ClaimDelivery], means the delivery was already claimed.
// It is the [webhook.Options] IsDuplicate for every [Store].
func IsDuplicateDelivery(err error) bool { return errors.Is(err, ErrAlreadyExists) }

var _ webhook.Sink = (*WebhookSink)(nil)

// errNoChange aborts a [Mutate] whose function changed nothing.
var errNoChange = errors.New("tfpilot: no change")

// change is what one event did to a request: the lifecycle event to
// append, and the outcome to report.
type change struct {
	event   string
	data    map[string]any
	outcome string
}

// update applies fn to request id with [Mutate]. fn returns the change it
// made, or nil when it made none (nothing is written then), plus the
// outcome to report either way. The change's lifecycle event is staged
// on the document in the same write (decided by fn from that write's own
// read, so a race recorded it once) and flushed to the event store after
// it (see [StageEvent]).
//
// With a [store.DeliveryWriter] store the write records the event itself, its
// first try works on pre (the document read with the index lookup, when
// not nil), and, when final (nothing follows the write), it completes
// the delivery too (see [WebhookSink.Deliveries]).
func (s *WebhookSink) update(ctx context.Context, id, actor, deliveryID string, pre *Request, final bool, fn func(r *Request) (*change, string)) (outcome string, err error) {
	var ch *change
	apply := func(r *Request) error {
		ch, outcome = fn(r)
		if ch == nil {
			return errNoChange
		}
		now := s.now().UTC()
		r.UpdatedAt = now
		if r.Lock != nil && r.Lock.Expired(now) {
			r.Lock = nil // an expired lock is no lock: drop what a dead holder left
		}
		data := maps.Clone(ch.data)
		if data == nil {
			data = map[string]any{}
		}
		data["deliveryId"] = deliveryID
		StageEvent(r, Event{Event: ch.event, Timestamp: now, Actor: actor, Source: WebhookEventSource, Data: data})
		return nil
	}
	if dw, ok := s.store.(store.DeliveryWriter); ok {
		_, err := s.commit(ctx, dw, id, pre, deliveryID, final, apply, func() string { return ch.outcome })
		switch {
		case errors.Is(err, errNoChange):
			return outcome, nil
		case err != nil:
			return "", fmt.Errorf("tfpilot: webhook: update request %q: %w", id, err)
		}
		return ch.outcome, nil
	}
	stored, err := Mutate(ctx, s.store, id, apply)
	switch {
	case errors.Is(err, errNoChange):
		return outcome, nil
	case err != nil:
		return "", fmt.Errorf("tfpilot: webhook: update request %q: %w", id, err)
	}
	if _, err := FlushOutbox(ctx, s.store, stored); err != nil {
		// The event is written with the change; the next write or Sync
		// flushes it.
		s.log.WarnContext(ctx, "tfpilot: webhook: lifecycle event staged, not yet recorded", "request", id, "event", ch.event, "delivery", deliveryID, "err", err)
		return ch.outcome + " (lifecycle event staged, not yet recorded)", nil
	}
	return ch.outcome, nil
}

// gone reports whether err means the request is not there to update
// (absent, archived, or an id that cannot name one).
func gone(err error) bool { return errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) }

// correlation names how a workflow run was tied to its request.
type correlation string

const (
	viaRunIndex correlation = "run index"
	viaNonce    correlation = "run name"
	viaPRIndex  correlation = "pr index"
	viaBranch   correlation = "branch"
)

// HandleWorkflowRun correlates a workflow run to a request and patches
// the attempt it belongs to. A drift run is recorded on the request's
// drift check it belongs to (see [DriftCheck]). Cleanup runs, and runs
// that correlate to no request, are reported as outcomes, not errors.
func (s *WebhookSink) HandleWorkflowRun(ctx context.Context, ev webhook.WorkflowRunEvent) (string, error) {
	if ev.Kind == webhook.KindDrift {
		return s.handleDriftRun(ctx, ev) // drift.go
	}
	kind := ev.Kind
	if !kind.Valid() {
		return fmt.Sprintf("ignored: %s runs are not attempts of a request", ev.Kind), nil
	}

	// 1. The run index: the run is already attached somewhere.
	id, pre, err := s.lookupRun(ctx, kind, ev.RunID)
	switch {
	case err == nil:
		out, done, err := s.patchRun(ctx, id, pre, kind, ev, viaRunIndex, nil)
		if err != nil || done {
			return out, err
		}
		s.log.WarnContext(ctx, "tfpilot: webhook: run index names a request without the run", "request", id, "kind", kind, "run", ev.RunID)
	case !errors.Is(err, ErrNotFound):
		return "", fmt.Errorf("tfpilot: webhook: look up %s run %d: %w", kind, ev.RunID, err)
	}

	// 2. The run name carries the request id and the attempt's nonce.
	var reasons []string
	if id, nonce, ok := runs.ParseRunName(ev.RunName); ok && ValidateRequestID(id) == nil {
		out, done, err := s.patchRun(ctx, id, nil, kind, ev, viaNonce, func(r *Request) (runs.Attempt, string) {
			a, ok := runs.FindByNonce(r.Runs, kind, nonce)
			if !ok {
				return a, fmt.Sprintf("no %s attempt has nonce %q", kind, nonce)
			}
			return a, ""
		})
		if err != nil || done {
			return out, err
		}
		reasons = append(reasons, out)
	}

	// 3 and 4. The pull-request index, then the branch: the run is
	// attached to the current attempt if it fits.
	var candidates []candidate
	for _, n := range ev.PullRequests {
		id, err := s.store.LookupPR(ctx, PRRef{Owner: ev.Repo.Owner, Repo: ev.Repo.Name, Number: n})
		switch {
		case err == nil:
			candidates = append(candidates, candidate{id, viaPRIndex})
		case !errors.Is(err, ErrNotFound):
			return "", fmt.Errorf("tfpilot: webhook: look up pull request %s#%d: %w", ev.Repo, n, err)
		}
	}
	if id, ok := strings.CutPrefix(ev.HeadBranch, s.prefix); ok && ValidateRequestID(id) == nil {
		candidates = append(candidates, candidate{id, viaBranch})
	}
	seen := map[string]bool{}
	for _, c := range candidates {
		if seen[c.id] {
			continue
		}
		seen[c.id] = true
		out, done, err := s.patchRun(ctx, c.id, nil, kind, ev, c.via, func(r *Request) (runs.Attempt, string) {
			return fitsCurrent(r, kind, ev)
		})
		if err != nil || done {
			return out, err
		}
		reasons = append(reasons, out)
	}
	if len(reasons) > 0 {
		return "not attached: " + strings.Join(reasons, "; "), nil
	}
	return fmt.Sprintf("uncorrelated: %s run %d matches no request", kind, ev.RunID), nil
}

type candidate struct {
	id  string
	via correlation
}

// patchRun patches run ev.RunID on request id (pre, when not nil, is
// request id as read with the index lookup). With pick == nil the run
// must already be attached; otherwise pick chooses the attempt to attach
// it to, or says why none fits, when it is not. done is false when the
// request does not have or take the run; outcome then says why.
func (s *WebhookSink) patchRun(ctx context.Context, id string, pre *Request, kind runs.Kind, ev webhook.WorkflowRunEvent, via correlation, pick func(r *Request) (runs.Attempt, string)) (outcome string, done bool, err error) {
	onRequest := false
	// Found by the run index, the write is the last step (nothing to
	// index), so it may complete the delivery.
	final := via == viaRunIndex
	outcome, err = s.update(ctx, id, ev.Sender, ev.DeliveryID, pre, final, func(r *Request) (*change, string) {
		onRequest = false // fn may run again after a conflict
		st := r.Runs
		old, found := runs.FindByRunID(st, kind, ev.RunID)
		attached := false
		if !found {
			if pick == nil {
				return nil, fmt.Sprintf("%s (%s): %s run %d is not on the request", id, via, kind, ev.RunID)
			}
			a, why := pick(r)
			if why != "" {
				return nil, fmt.Sprintf("%s (%s): %s", id, via, why)
			}
			var ok bool
			if st, ok = runs.AttachRunID(st, kind, a.Attempt, ev.RunID, ev.Facts.HTMLURL); !ok {
				return nil, fmt.Sprintf("%s (%s): %s attempt %d already has run %d", id, via, kind, a.Attempt, a.RunID)
			}
			old, attached = a, true
		}
		onRequest = true
		st, patched := runs.PatchByRunID(st, kind, ev.RunID, ev.Facts)
		cur, _ := runs.FindByRunID(st, kind, ev.RunID)
		summary := fmt.Sprintf("%s: %s attempt %d run %d", id, kind, cur.Attempt, ev.RunID)
		if !patched && !attached {
			return nil, summary + ": no change"
		}
		r.Runs = st
		if runs.HeadMismatch(cur) && !runs.HeadMismatch(old) {
			data := headMismatchData(cur, "webhook")
			data["deliveryId"] = ev.DeliveryID
			StageEvent(r, Event{Event: headMismatchEvent(kind), Timestamp: s.now().UTC(), Actor: ev.Sender, Source: WebhookEventSource, Data: data})
		}
		return runChange(kind, old, cur, attached, via, summary), ""
	})
	switch {
	case gone(err):
		return fmt.Sprintf("%s (%s): request not found", id, via), false, nil
	case err != nil:
		return "", false, err
	case !onRequest:
		return outcome, false, nil
	}
	// The run is on the request (attached now or before): index it so
	// the next delivery finds it first. Indexing again is a no-op.
	if via != viaRunIndex {
		if err := s.store.IndexRun(ctx, kind, ev.RunID, id); err != nil {
			if !errors.Is(err, ErrAlreadyExists) {
				return "", false, fmt.Errorf("tfpilot: webhook: index %s run %d: %w", kind, ev.RunID, err)
			}
			s.log.WarnContext(ctx, "tfpilot: webhook: run indexed to another request", "request", id, "kind", kind, "run", ev.RunID)
			outcome += " (run index names another request)"
		}
	}
	return outcome, true, nil
}

// runChange describes the change from attempt old to cur as a lifecycle
// event: <kind>_completed when a conclusion arrived, <kind>_started when
// the run started, <kind>_run_attached or <kind>_run_updated otherwise.
func runChange(kind runs.Kind, old, cur runs.Attempt, attached bool, via correlation, summary string) *change {
	ch := &change{data: map[string]any{
		"kind":    string(kind),
		"attempt": cur.Attempt,
		"runId":   cur.RunID,
		"status":  cur.Status,
	}}
	if cur.Conclusion != "" {
		ch.data["conclusion"] = cur.Conclusion
	}
	if cur.HeadSHA != "" {
		ch.data["headSha"] = cur.HeadSHA
	}
	if attached {
		ch.data["correlatedBy"] = string(via)
	}
	switch {
	case old.Conclusion == "" && cur.Conclusion != "":
		ch.event = string(kind) + "_completed"
		ch.outcome = fmt.Sprintf("%s: completed %s", summary, cur.Conclusion)
	case old.Status != cur.Status && cur.Status == runs.StatusInProgress:
		ch.event = string(kind) + "_started"
		ch.outcome = summary + ": in_progress"
	case attached:
		ch.event = string(kind) + "_run_attached"
		ch.outcome = fmt.Sprintf("%s: attached (%s), %s", summary, via, cur.Status)
	default:
		ch.event = string(kind) + "_run_updated"
		ch.outcome = fmt.Sprintf("%s: %s", summary, cur.Status)
	}
	if attached && ch.event != string(kind)+"_run_attached" {
		ch.outcome += fmt.Sprintf(" (attached by %s)", via)
	}
	return ch
}

// fitsCurrent returns the current attempt of kind when a run found by
// pull request or branch may be attached to it, else why not.
func fitsCurrent(r *Request, kind runs.Kind, ev webhook.WorkflowRunEvent) (runs.Attempt, string) {
	cur, ok := runs.Current(r.Runs, kind)
	switch {
	case !ok:
		return cur, fmt.Sprintf("no current %s attempt", kind)
	case cur.RunID != 0:
		return cur, fmt.Sprintf("current %s attempt %d already has run %d", kind, cur.Attempt, cur.RunID)
	case !sameRepo(r, ev.Repo):
		return cur, fmt.Sprintf("run is in %s, the request targets %s/%s", ev.Repo, r.TargetOwner, r.TargetRepo)
	case cur.HeadSHA != "" && cur.HeadSHA != ev.HeadSHA:
		return cur, fmt.Sprintf("run head %s is not the attempt's %s", short(ev.HeadSHA), short(cur.HeadSHA))
	case ev.TriggerEvent != "" && ev.TriggerEvent != "workflow_dispatch":
		// Attempts are made by workflow_dispatch only (INV-CORE-3); a run
		// a push or pull request started is not one of them.
		return cur, fmt.Sprintf("run was started by %s, attempts by workflow_dispatch", ev.TriggerEvent)
	case !ev.CreatedAt.IsZero() && !cur.DispatchedAt.IsZero() && ev.CreatedAt.Before(cur.DispatchedAt.Add(-runCreatedSkew)):
		return cur, fmt.Sprintf("run was created before %s attempt %d was dispatched", kind, cur.Attempt)
	}
	if _, nonce, ok := runs.ParseRunName(ev.RunName); ok && cur.Nonce != "" && nonce != cur.Nonce {
		return cur, fmt.Sprintf("run name carries nonce %q, the current attempt %q", nonce, cur.Nonce)
	}
	if kind == runs.Apply && ev.HeadSHA != cur.HeadSHA {
		// The cross-request guard: an apply run belongs to the request
		// only if it ran on the request's merged or committed code.
		if ev.HeadSHA == "" || (ev.HeadSHA != r.MergedSHA && ev.HeadSHA != r.CommitSHA) {
			return cur, fmt.Sprintf("apply run head %s is neither the request's mergedSha nor its commitSha", short(ev.HeadSHA))
		}
	}
	return cur, ""
}

func sameRepo(r *Request, repo webhook.Repo) bool {
	return (r.TargetOwner == "" || strings.EqualFold(r.TargetOwner, repo.Owner)) &&
		(r.TargetRepo == "" || strings.EqualFold(r.TargetRepo, repo.Name))
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	if sha == "" {
		return "(none)"
	}
	return sha
}

// HandlePullRequest updates the pr facts of the request that owns the
// pull request, found by the pull-request index, else by its head branch
// (which indexes it).
func (s *WebhookSink) HandlePullRequest(ctx context.Context, ev webhook.PullRequestEvent) (string, error) {
	return s.onPR(ctx, ev.Repo, ev.Number, ev.HeadRef, ev.Sender, ev.DeliveryID, func(r *Request) (*change, string) {
		return prChange(r, ev)
	})
}

// HandleReview applies a review to the approval of the request that owns
// the pull request, by the approval rules: an approval of the current
// head by a reviewer whose login maps to a principal allowed to approve
// grants; a change request or dismissal withdraws; anything else is
// recorded as a fact that approves nothing. A review already seen (a
// replayed delivery) changes nothing.
func (s *WebhookSink) HandleReview(ctx context.Context, ev webhook.ReviewEvent) (string, error) {
	return s.onPR(ctx, ev.Repo, ev.Number, ev.HeadRef, ev.Reviewer, ev.DeliveryID, func(r *Request) (*change, string) {
		return reviewChange(r, ev, s.rules.ReviewFact(ctx, r, ev.ReviewID, ev.Reviewer, ev.State, ev.CommitID, ev.SubmittedAt))
	})
}

// onPR finds the request owning pull request number in repo and applies
// fn to it.
func (s *WebhookSink) onPR(ctx context.Context, repo webhook.Repo, number int, headRef, actor, deliveryID string, fn func(r *Request) (*change, string)) (string, error) {
	ref := PRRef{Owner: repo.Owner, Repo: repo.Name, Number: number}
	id, pre, err := s.lookupPR(ctx, ref)
	byBranch := false
	switch {
	case errors.Is(err, ErrNotFound):
		bid, ok := strings.CutPrefix(headRef, s.prefix)
		if !ok || ValidateRequestID(bid) != nil {
			return fmt.Sprintf("uncorrelated: pull request %s#%d matches no request", repo, number), nil
		}
		id, byBranch = bid, true
	case err != nil:
		return "", fmt.Errorf("tfpilot: webhook: look up pull request %s#%d: %w", repo, number, err)
	}
	owned := false
	out, err := s.update(ctx, id, actor, deliveryID, pre, !byBranch, func(r *Request) (*change, string) {
		owned = false
		if !sameRepo(r, repo) {
			return nil, fmt.Sprintf("%s: not attached: pull request is in %s, the request targets %s/%s", id, repo, r.TargetOwner, r.TargetRepo)
		}
		if r.PR != nil && r.PR.Number != 0 && r.PR.Number != number {
			return nil, fmt.Sprintf("%s: not attached: the request's pull request is #%d, not #%d", id, r.PR.Number, number)
		}
		owned = true
		return fn(r)
	})
	switch {
	case gone(err):
		return fmt.Sprintf("uncorrelated: %s: request not found", id), nil
	case err != nil:
		return "", err
	}
	if byBranch && owned {
		if err := s.store.IndexPR(ctx, ref, id); err != nil && !errors.Is(err, ErrAlreadyExists) {
			return "", fmt.Errorf("tfpilot: webhook: index pull request %s#%d: %w", repo, number, err)
		}
	}
	return out, nil
}

// prChange applies a pull_request event to r's pr facts. Merged is
// terminal; a synchronize moves the head only from the head it replaced
// (or from none), and opened/reopened only fill a missing head, so
// late copies of old events do not move the head back.
func prChange(r *Request, ev webhook.PullRequestEvent) (*change, string) {
	old := PullRequest{}
	if r.PR != nil {
		old = *r.PR
	}
	oldMerged := r.MergedSHA
	pr := old
	pr.Number = ev.Number
	if pr.URL == "" {
		pr.URL = ev.URL
	}
	event := ""
	switch {
	case old.Merged:
		// Terminal: only fill what the merge left missing.
		if ev.Merged && r.MergedSHA == "" {
			r.MergedSHA = ev.MergeCommitSHA
		}
	case ev.Merged:
		pr.Merged, pr.Open = true, false
		if ev.HeadSHA != "" {
			pr.HeadSHA = ev.HeadSHA
		}
		if r.MergedSHA == "" {
			r.MergedSHA = ev.MergeCommitSHA
		}
		event = "pr_merged"
	case ev.Action == "closed":
		pr.Open = false
		event = "pr_closed"
	case ev.Action == "synchronize":
		pr.Open = true
		if pr.HeadSHA == "" || pr.HeadSHA == ev.BeforeSHA {
			pr.HeadSHA = ev.HeadSHA
		}
		event = "pr_synchronized"
	default: // opened, reopened
		pr.Open = true
		if pr.HeadSHA == "" {
			pr.HeadSHA = ev.HeadSHA
		}
		event = "pr_" + ev.Action
	}
	summary := fmt.Sprintf("%s: pull request #%d", r.ID, ev.Number)
	if r.PR != nil && pr == old && r.MergedSHA == oldMerged {
		return nil, summary + ": no change"
	}
	r.PR = &pr
	if r.Approval != nil {
		// Any change of the head commit voids approvals.
		r.Approval = ApprovalForHead(r.Approval, r.ApprovalHead())
	}
	if event == "" {
		event = "pr_updated"
	}
	data := map[string]any{"number": pr.Number, "open": pr.Open, "merged": pr.Merged}
	if pr.HeadSHA != "" {
		data["headSha"] = pr.HeadSHA
	}
	if r.MergedSHA != "" {
		data["mergedSha"] = r.MergedSHA
	}
	return &change{event: event, data: data, outcome: fmt.Sprintf("%s: %s", summary, strings.TrimPrefix(event, "pr_"))}, ""
}

// reviewChange applies review fact rv (from ev) to r's approval with
// [ApprovalWithReview].
func reviewChange(r *Request, ev webhook.ReviewEvent, rv ReviewFact) (*change, string) {
	summary := fmt.Sprintf("%s: review %d by %s on #%d", r.ID, ev.ReviewID, ev.Reviewer, ev.Number)
	switch ev.State {
	case webhook.ReviewApproved, webhook.ReviewChangesRequested, webhook.ReviewDismissed:
	default:
		return nil, summary + ": ignored state " + ev.State
	}
	if ev.ReviewID == 0 {
		return nil, summary + ": ignored: no review id"
	}
	head := r.ApprovalHead()
	before := slices.Clone(approversOf(r.Approval, head))
	next, changed := ApprovalWithReview(r.Approval, head, rv)
	if !changed {
		return nil, summary + ": no change"
	}
	r.Approval = next
	data := map[string]any{"number": ev.Number, "reviewer": ev.Reviewer, "state": ev.State, "reviewId": ev.ReviewID, "commitId": ev.CommitID}
	if rv.Principal != "" {
		data["principal"] = rv.Principal
	}
	after := approversOf(next, head)
	switch {
	case len(after) > len(before):
		return &change{event: "request_approved", data: data, outcome: summary + ": approved"}, ""
	case len(after) < len(before):
		return &change{event: "approval_revoked", data: data, outcome: summary + ": approval revoked"}, ""
	}
	why := "recorded"
	if rv.Ineligible != "" {
		why = "recorded, approves nothing: " + rv.Ineligible
		data["ineligible"] = rv.Ineligible
	} else if rv.State == ReviewStateApproved && rv.CommitID != head {
		why = fmt.Sprintf("recorded, approves nothing: review of %s, the head is %s", short(rv.CommitID), short(head))
	}
	return &change{event: "review_recorded", data: data, outcome: summary + ": " + why}, ""
}

// approversOf is who approved head.
func approversOf(a *Approval, head string) []string {
	if !ApprovalCounts(a, head) {
		return nil
	}
	return a.Approvers
}

// lookupRun is [RunIndex.LookupRun], and with a [store.DeliveryWriter] store
// also the request it names, read in the same round trip (nil when not
// read or not there).
func (s *WebhookSink) lookupRun(ctx context.Context, kind runs.Kind, runID int64) (string, *Request, error) {
	if dw, ok := s.store.(store.DeliveryWriter); ok {
		return dw.LookupRunRequest(ctx, kind, runID)
	}
	id, err := s.store.LookupRun(ctx, kind, runID)
	return id, nil, err
}

// lookupPR is lookupRun for [PRIndex.LookupPR].
func (s *WebhookSink) lookupPR(ctx context.Context, ref PRRef) (string, *Request, error) {
	if dw, ok := s.store.(store.DeliveryWriter); ok {
		return dw.LookupPRRequest(ctx, ref)
	}
	id, err := s.store.LookupPR(ctx, ref)
	return id, nil, err
}
