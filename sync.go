package tfpilot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/hclblocks"
	"github.com/tfpilot/tfpilot/runs"
)

// Sync brings request id up to date with GitHub and finishes what a
// failure left undone:
//
//   - an expired lock is cleared (an expired lock is no lock);
//   - the pull request and its reviews are read (conditional GETs: an
//     unchanged pull request costs no rate limit);
//   - every attempt that needs reconciling (INV-REC-1) is fetched with
//     the cache bypassed; a fetch that changes nothing puts the run in a
//     cooldown (Config.ReconcileCooldown);
//   - an attempt without a run id is looked up by its dispatch nonce and
//     attached; if no run carries the nonce after Config.DispatchGrace,
//     it is dispatched again (its first dispatch never happened);
//   - provisioning left incomplete by a crash (commit, pull request,
//     plan) is completed;
//   - a merge commit whose tree differs from the planned commit's is
//     planned again, pinned to the merge commit (replan.go);
//   - after a successful destroy, a cleanup pull request removes the block
//     and the request is archived to history.
//
// Facts are patched with compare-and-swap writes and need no lock; the
// steps that act on GitHub take the request's lock, and are skipped while
// another operation holds it. Sync of an archived request returns it.
func (p *Pilot) Sync(ctx context.Context, c Caller, id string) (View, error) {
	r, err := p.store.GetRequest(ctx, id)
	if errors.Is(err, ErrNotFound) {
		if ar, aerr := p.store.GetArchivedRequest(ctx, id); aerr == nil {
			if err := p.cfg.Authorizer.Authorize(ctx, c.Principal, ActionRead, ar); err != nil {
				return View{}, err
			}
			return p.view(ctx, ar, true), nil
		}
	}
	if err != nil {
		return View{}, err
	}
	if err := p.cfg.Authorizer.Authorize(ctx, c.Principal, ActionSync, r); err != nil {
		return View{}, err
	}
	if len(r.Outbox) > 0 {
		// Events a crash left staged: record them now.
		r = flush(ctx, p.store, p.log, r)
	}
	now := p.now()
	if r.Lock != nil && r.Lock.Expired(now) {
		if r, err = p.patch(ctx, id, func(r *Request) {
			if r.Lock != nil && r.Lock.Expired(p.now()) {
				r.Lock = nil
			}
		}); err != nil {
			return View{}, err
		}
	}
	if r.PR != nil {
		if r, err = p.syncPR(ctx, r); err != nil {
			return View{}, p.githubErr(ctx, err)
		}
	}
	redispatch, err := p.syncRuns(ctx, r)
	if err != nil {
		return View{}, p.githubErr(ctx, err)
	}
	if r, err = p.store.GetRequest(ctx, id); err != nil {
		return View{}, err
	}
	if r.Cancelled == nil { // a cancelled request's branch stays as it is
		if r, err = p.followBase(ctx, c, r); err != nil { // rebase.go
			return View{}, p.githubErr(ctx, err)
		}
	}
	if r, err = p.followMerge(ctx, c, r); err != nil { // replan.go
		return View{}, p.githubErr(ctx, err)
	}
	r = p.captureOutputs(ctx, r) // output.go
	r = p.syncDrift(ctx, r)      // drift.go
	archived := false
	if needsWork(r, redispatch) && !r.Lock.Active(p.now()) {
		if r, archived, err = p.syncLocked(ctx, c, r, redispatch); err != nil {
			return View{}, p.githubErr(ctx, err)
		}
	}
	return p.view(ctx, r, archived), nil
}

// pending is an attempt that looked stranded (no run id, no run carries
// its nonce, dispatched longer than DispatchGrace ago) on an unlocked
// read: what the read saw is its dispatch generation.
type pending struct {
	kind         runs.Kind
	attempt      int
	nonce        string
	dispatchedAt time.Time
}

func needsWork(r *Request, redispatch []pending) bool {
	if len(redispatch) > 0 || r.Cancelled != nil || r.CommitSHA == "" || r.PR == nil {
		return true
	}
	if plan, ok := runs.Current(r.Runs, runs.Plan); !merged(r) && (!ok || runs.DispatchedFor(plan) != r.CommitSHA) {
		return true
	}
	if d, ok := runs.Current(r.Runs, runs.Destroy); ok && runs.Succeeded(d) {
		return true
	}
	return false
}

// syncLocked runs the steps of Sync that act on GitHub, under the lock,
// and answers the document after the lock is released. archived says
// the request it returns was moved to history (a cancel finished, or a
// destroyed request cleaned up).
func (p *Pilot) syncLocked(ctx context.Context, c Caller, r *Request, redispatch []pending) (_ *Request, archived bool, _ error) {
	h := holder(Principal{Login: "sync"}, ActionSync)
	id := r.ID
	r, err := p.acquire(ctx, id, ActionSync, h, nil)
	if errors.Is(err, ErrLocked) {
		r, err := p.store.GetRequest(ctx, id) // someone else is working on it
		return r, false, err
	}
	if err != nil {
		return nil, false, err
	}
	r, archived, err = func() (*Request, bool, error) {
		defer p.release(ctx, id, h)
		return p.syncHeld(ctx, c, r, h, redispatch)
	}()
	if err != nil || archived {
		return r, archived, err
	}
	r, err = p.store.GetRequest(ctx, id)
	return r, false, err
}

// syncHeld is the work of syncLocked while h holds the lock of r.
func (p *Pilot) syncHeld(ctx context.Context, c Caller, r *Request, h string, redispatch []pending) (_ *Request, archived bool, _ error) {
	id := r.ID
	who := Principal{Login: c.Principal.Login}
	if r.Cancelled != nil {
		return p.finishCancel(ctx, r, h, who) // cancel.go: a cancel stopped half-way
	}
	var err error
	for _, pd := range redispatch {
		if r, err = p.redispatch(ctx, id, h, pd, who); err != nil {
			return nil, false, err
		}
	}
	if d, ok := runs.Current(r.Runs, runs.Destroy); ok && runs.Succeeded(d) {
		r, err := p.cleanup(ctx, r, h, who)
		return r, err == nil, err
	}
	r, err = p.provision(ctx, r, h, who)
	return r, false, err
}

// errStale aborts a re-dispatch whose premise a concurrent write changed.
var errStale = errors.New("tfpilot: attempt changed since it was read")

// redispatch repeats the workflow_dispatch of an attempt that Sync found
// stranded, exactly once across processes. h holds the request's lock.
// It re-reads the attempt under the lock and gives up unless it is still
// exactly what the unlocked read saw (no run id, no conclusion, the same
// nonce and dispatch generation) and its grace has passed; looks for its
// run once more (the list-lag window since its last dispatch is long past,
// see [Config.DispatchGrace]) and attaches one if found; and otherwise
// records the new dispatch generation with a compare-and-swap that renews
// h's lock before calling workflow_dispatch, so that no other process,
// whatever it read before, dispatches the attempt again.
func (p *Pilot) redispatch(ctx context.Context, id, h string, pd pending, who Principal) (*Request, error) {
	r, err := p.store.GetRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	a, ok := attemptByNumber(r.Runs, pd.kind, pd.attempt)
	if !ok || !stranded(a, pd) || p.now().Sub(a.DispatchedAt) <= p.cfg.DispatchGrace {
		return r, nil // attached, concluded or dispatched again meanwhile
	}
	attached, err := p.attachByNonce(ctx, r, pd.kind, a)
	if err != nil || attached {
		if err != nil {
			return nil, err
		}
		return p.store.GetRequest(ctx, id)
	}
	r, err = p.mutateHeld(ctx, id, h, func(r *Request) error {
		cur, ok := attemptByNumber(r.Runs, pd.kind, pd.attempt)
		if !ok || !stranded(cur, pd) {
			return errStale
		}
		var changed bool
		if r.Runs, changed = runs.Redispatch(r.Runs, pd.kind, pd.attempt, p.now()); !changed {
			return errStale
		}
		p.stage(r, string(pd.kind)+"_redispatched", who, map[string]any{"attempt": pd.attempt, "source": "sync"})
		return nil
	})
	switch {
	case errors.Is(err, errStale):
		return p.store.GetRequest(ctx, id)
	case err != nil:
		return nil, err
	}
	p.log.InfoContext(ctx, "tfpilot: no run carries the nonce; dispatching again", "request", id, "kind", pd.kind, "attempt", pd.attempt)
	return p.startRun(ctx, r, h, pd.kind, pd.attempt)
}

// stranded reports whether a is still the attempt pd saw: no run id, no
// conclusion, same nonce, same dispatch generation.
func stranded(a runs.Attempt, pd pending) bool {
	return a.RunID == 0 && a.Conclusion == "" && a.Nonce == pd.nonce && a.DispatchedAt.Equal(pd.dispatchedAt)
}

// attachByNonce looks for the runs carrying a's nonce. The oldest is
// attached to a and patched with its facts; any other is a duplicate
// dispatch: it is reported (a <kind>_duplicate_run event, staged with the
// attach, and a warning) and never attached or indexed. It reports
// whether a run was found.
func (p *Pilot) attachByNonce(ctx context.Context, r *Request, k runs.Kind, a runs.Attempt) (bool, error) {
	found, err := p.gh.FindRuns(ctx, repoOf(r), p.cfg.Workflows.File(k), a.Nonce, githubx.BypassCache())
	if err != nil || len(found) == 0 {
		return false, err
	}
	run := found[0]
	var dups []int64
	for _, d := range found[1:] {
		dups = append(dups, d.ID)
	}
	if len(dups) > 0 {
		p.log.WarnContext(ctx, "tfpilot: more than one run carries an attempt's nonce; only the first is the attempt's", "request", r.ID, "kind", k, "attempt", a.Attempt, "run", run.ID, "duplicates", dups)
	}
	if _, err := p.attachRun(ctx, r.ID, k, a.Attempt, run.ID, run.URL, dups...); err != nil {
		return false, err
	}
	if _, err := p.patchRun(ctx, r.ID, k, run.ID, run); err != nil {
		return false, err
	}
	return true, nil
}

// syncPR patches the pull request's facts and the approvals its reviews
// carry.
func (p *Pilot) syncPR(ctx context.Context, r *Request) (*Request, error) {
	repo := repoOf(r)
	ref := PRRef{Owner: r.TargetOwner, Repo: r.TargetRepo, Number: r.PR.Number}
	if _, err := p.store.LookupPR(ctx, ref); errors.Is(err, ErrNotFound) {
		if err := p.store.IndexPR(ctx, ref, r.ID); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	pr, err := p.gh.GetPR(ctx, repo, r.PR.Number)
	if err != nil {
		return nil, err
	}
	reviews, err := p.gh.ListReviews(ctx, repo, r.PR.Number)
	if err != nil {
		return nil, err
	}
	facts := p.approvalRules().reviewFacts(ctx, r, reviews)
	r, err = p.patch(ctx, r.ID, func(r *Request) {
		wasMerged := merged(r) // this write's own read: see outbox.go
		r.PR.Open, r.PR.URL = pr.Open(), pr.URL
		if pr.HeadSHA != "" && !merged(r) {
			r.PR.HeadSHA = pr.HeadSHA
		}
		if pr.Merged {
			r.PR.Merged = true
			if r.MergedSHA == "" {
				r.MergedSHA = pr.MergeCommitSHA
			}
		}
		r.Approval = approvalFromReviews(r.Approval, r.ApprovalHead(), facts)
		if !wasMerged && merged(r) {
			p.stage(r, "pr_merged", Principal{Login: "github"}, map[string]any{"mergedSha": r.MergedSHA, "source": "sync"})
		}
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// syncRuns reconciles attempts and returns those whose dispatch must be
// repeated because no run carries their nonce.
func (p *Pilot) syncRuns(ctx context.Context, r *Request) ([]pending, error) {
	repo := repoOf(r)
	now := p.now()
	var redo []pending
	for _, k := range runs.Kinds() {
		for _, a := range r.Runs.Op(k).Attempts {
			if a.RunID != 0 {
				if err := p.ensureRunIndexed(ctx, r.ID, k, a.RunID); err != nil {
					return nil, err
				}
			}
			switch {
			case a.RunID != 0 && runs.NeedsReconcile(a):
				key := fmt.Sprintf("%s/%s/%d", r.ID, k, a.RunID)
				if p.inCooldown(ctx, key, now) {
					continue
				}
				run, err := p.gh.GetRun(ctx, repo, a.RunID, githubx.BypassCache())
				if err != nil {
					return nil, err
				}
				changed, err := p.patchRun(ctx, r.ID, k, a.RunID, run)
				if err != nil {
					return nil, err
				}
				if !changed {
					p.setCooldown(ctx, key, now)
				}
			case a.RunID == 0 && a.Conclusion == "" && a.Nonce != "":
				found, err := p.attachByNonce(ctx, r, k, a)
				switch {
				case err != nil:
					return nil, err
				case !found && now.Sub(a.DispatchedAt) > p.cfg.DispatchGrace:
					redo = append(redo, pending{kind: k, attempt: a.Attempt, nonce: a.Nonce, dispatchedAt: a.DispatchedAt})
				}
			}
		}
	}
	return redo, nil
}

// ensureRunIndexed repairs a run index entry that a crash between
// attaching a run and indexing it left missing.
func (p *Pilot) ensureRunIndexed(ctx context.Context, id string, k runs.Kind, runID int64) error {
	_, err := p.store.LookupRun(ctx, k, runID)
	if errors.Is(err, ErrNotFound) {
		err = p.store.IndexRun(ctx, k, runID, id)
	}
	return err
}

// RunFactsOf converts a run read through the GitHub client into the facts
// [runs.PatchByRunID] takes.
func RunFactsOf(run githubx.Run) runs.RunFacts {
	return runs.RunFacts{ID: run.ID, Status: run.Status, Conclusion: run.Conclusion, CompletedAt: run.CompletedAt,
		UpdatedAt: run.UpdatedAt, HeadSHA: run.HeadSHA, HTMLURL: run.URL}
}

func (p *Pilot) patchRun(ctx context.Context, id string, k runs.Kind, runID int64, run githubx.Run) (bool, error) {
	var changed bool
	_, err := p.patch(ctx, id, func(r *Request) {
		before, _ := runs.FindByRunID(r.Runs, k, runID)
		r.Runs, changed = runs.PatchByRunID(r.Runs, k, runID, RunFactsOf(run))
		// Decided on this write's own read: a concurrent webhook or Sync
		// that concluded the run first makes this try lose the race and
		// rerun, finding nothing to record.
		if after, ok := runs.FindByRunID(r.Runs, k, runID); ok && before.Conclusion == "" && after.Conclusion != "" {
			p.stage(r, string(k)+"_completed", Principal{Login: "github"}, map[string]any{
				"attempt": after.Attempt, "runId": runID, "conclusion": after.Conclusion, "source": "sync"})
		}
		if after, ok := runs.FindByRunID(r.Runs, k, runID); ok && runs.HeadMismatch(after) && !runs.HeadMismatch(before) {
			p.stage(r, headMismatchEvent(k), Principal{Login: "github"}, headMismatchData(after, "sync"))
		}
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}

// inCooldown reports whether the run named by key (request/kind/run) is
// in its reconcile cooldown. The cooldown lives in the store, as a
// [RateLimitBackoff] of scope [cooldownScope](key), so every process
// sharing the store honours it. A store error counts as no cooldown: the
// cost is one more conditional GitHub read.
func (p *Pilot) inCooldown(ctx context.Context, key string, now time.Time) bool {
	b, err := p.store.GetRateLimitBackoff(ctx, cooldownScope(key))
	switch {
	case errors.Is(err, ErrNotFound):
		return false
	case err != nil:
		p.log.WarnContext(ctx, "read reconcile cooldown", "run", key, "err", err)
		return false
	}
	return now.Before(b.Until)
}

// setCooldown starts the reconcile cooldown of the run named by key, in
// the store (see inCooldown). A failed write is logged: the cooldown is
// an economy, not a guarantee.
func (p *Pilot) setCooldown(ctx context.Context, key string, now time.Time) {
	b := RateLimitBackoff{Scope: cooldownScope(key), Until: now.Add(p.cfg.ReconcileCooldown), Reason: "reconcile cooldown"}
	if err := p.store.SetRateLimitBackoff(ctx, b); err != nil {
		p.log.WarnContext(ctx, "write reconcile cooldown", "run", key, "err", err)
	}
}

// cooldownScope is the [RateLimitBackoff] scope of a run's reconcile
// cooldown: "reconcile-cooldown:<request>:<kind>:<run>".
func cooldownScope(key string) string {
	return "reconcile-cooldown:" + strings.ReplaceAll(key, "/", ":")
}

// cleanup opens the pull request that removes a destroyed request's block
// and archives the request; it returns the archived request.
func (p *Pilot) cleanup(ctx context.Context, r *Request, h string, who Principal) (*Request, error) {
	if r.CleanupPR == nil {
		repo := repoOf(r)
		branch := r.BranchName + "-cleanup"
		if _, err := p.gh.EnsureBranch(ctx, repo, branch, r.TargetBase); err != nil {
			return nil, err
		}
		path := r.TargetFiles[0]
		f, err := p.gh.ReadFile(ctx, repo, path, branch, githubx.BypassCache())
		if err != nil && !errors.Is(err, githubx.ErrNotFound) {
			return nil, err
		}
		ed := hclblocks.Editor{Markers: p.cfg.Markers}
		next, err := ed.Remove(f.Content, r.ID)
		switch {
		case errors.Is(err, hclblocks.ErrNotFound):
			// The block is already gone from the base branch: nothing to
			// clean up, so no pull request.
			p.event(ctx, r.ID, "cleanup_not_needed", who, nil)
		case err != nil:
			return nil, fmt.Errorf("tfpilot: remove block of %q from %s: %w", r.ID, path, err)
		default:
			if _, err := p.gh.CommitFiles(ctx, repo, branch, p.cfg.Text.CleanupCommit(r),
				[]githubx.FileChange{{Path: path, Content: next}}); err != nil {
				return nil, err
			}
			pr, err := p.gh.OpenPR(ctx, repo, githubx.NewPR{
				Title: p.cfg.Text.CleanupPRTitle(r),
				Body:  p.cfg.Text.CleanupPRBody(r),
				Head:  branch, Base: r.TargetBase,
			})
			if err != nil {
				return nil, err
			}
			if r, err = p.mutateHeld(ctx, r.ID, h, func(r *Request) error {
				if r.CleanupPR == nil {
					p.stage(r, "cleanup_pr_opened", who, map[string]any{"number": pr.Number, "url": pr.URL})
				}
				r.CleanupPR = &PullRequest{Number: pr.Number, URL: pr.URL, Open: pr.Open(), HeadSHA: pr.HeadSHA}
				return nil
			}); err != nil {
				return nil, err
			}
		}
	}
	p.event(ctx, r.ID, "request_archived", who, nil)
	// Archive with the lock still recorded: the history copy shows who
	// archived it, and no one can act on an archived request anyway.
	if err := p.store.ArchiveRequest(ctx, r.ID, r.Version); err != nil {
		return nil, err
	}
	return p.store.GetArchivedRequest(ctx, r.ID)
}
