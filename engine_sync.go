package tfpilot

import (
	"context"
	"errors"
	"fmt"
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
//   - after a successful destroy, a cleanup pull request removes the block
//     and the request is archived to history.
//
// Facts are patched with compare-and-swap writes and need no lock; the
// steps that act on GitHub take the request's lock, and are skipped while
// another operation holds it. Sync of an archived request returns it.
func (p *Pilot) Sync(ctx context.Context, c Caller, id string) (*Request, error) {
	r, err := p.store.GetRequest(ctx, id)
	if errors.Is(err, ErrNotFound) {
		if ar, aerr := p.store.GetArchivedRequest(ctx, id); aerr == nil {
			if err := p.cfg.Authorizer.Authorize(ctx, c.Principal, ActionRead, ar); err != nil {
				return nil, err
			}
			return ar, nil
		}
	}
	if err != nil {
		return nil, err
	}
	if err := p.cfg.Authorizer.Authorize(ctx, c.Principal, ActionSync, r); err != nil {
		return nil, err
	}
	now := p.now()
	if r.Lock != nil && r.Lock.Expired(now) {
		if r, err = p.patch(ctx, id, func(r *Request) {
			if r.Lock != nil && r.Lock.Expired(p.now()) {
				r.Lock = nil
			}
		}); err != nil {
			return nil, err
		}
	}
	if r.PR != nil {
		if r, err = p.syncPR(ctx, r); err != nil {
			return nil, p.githubErr(ctx, err)
		}
	}
	redispatch, err := p.syncRuns(ctx, r)
	if err != nil {
		return nil, p.githubErr(ctx, err)
	}
	if r, err = p.store.GetRequest(ctx, id); err != nil {
		return nil, err
	}
	if needsWork(r, redispatch) && !r.Lock.Active(p.now()) {
		if r, err = p.syncLocked(ctx, c, r, redispatch); err != nil {
			return nil, p.githubErr(ctx, err)
		}
	}
	return r, nil
}

// githubErr records a rate limit before returning err.
func (p *Pilot) githubErr(ctx context.Context, err error) error {
	p.rateLimited(ctx, err)
	return err
}

type pending struct {
	kind    runs.Kind
	attempt int
}

func needsWork(r *Request, redispatch []pending) bool {
	if len(redispatch) > 0 || r.CommitSHA == "" || r.PR == nil {
		return true
	}
	if plan, ok := runs.Current(r.Runs, runs.Plan); !merged(r) && (!ok || plan.HeadSHA != r.CommitSHA) {
		return true
	}
	if d, ok := runs.Current(r.Runs, runs.Destroy); ok && runs.Succeeded(d) {
		return true
	}
	return false
}

// syncLocked runs the steps of Sync that act on GitHub, under the lock.
func (p *Pilot) syncLocked(ctx context.Context, c Caller, r *Request, redispatch []pending) (*Request, error) {
	h := holder(Principal{Login: "sync"}, ActionSync)
	r, err := p.acquire(ctx, r.ID, ActionSync, h, nil)
	if errors.Is(err, ErrLocked) {
		return p.store.GetRequest(ctx, r.ID) // someone else is working on it
	}
	if err != nil {
		return nil, err
	}
	defer p.release(ctx, r.ID, h)
	who := Principal{Login: c.Principal.Login}
	for _, pd := range redispatch {
		p.log.InfoContext(ctx, "tfpilot: no run carries the nonce; dispatching again", "request", r.ID, "kind", pd.kind, "attempt", pd.attempt)
		if r, err = p.startRun(ctx, r, h, pd.kind, pd.attempt); err != nil {
			return nil, err
		}
	}
	if d, ok := runs.Current(r.Runs, runs.Destroy); ok && runs.Succeeded(d) {
		return p.cleanup(ctx, r, h, who)
	}
	if r, err = p.provision(ctx, r, h, who); err != nil {
		return nil, err
	}
	return p.store.GetRequest(ctx, r.ID)
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
	wasMerged := merged(r)
	r, err = p.patch(ctx, r.ID, func(r *Request) {
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
		r.Approval = approvalFromReviews(r.Approval, headOf(r), facts)
	})
	if err != nil {
		return nil, err
	}
	if !wasMerged && merged(r) {
		p.event(ctx, r.ID, "pr_merged", Principal{Login: "github"}, map[string]any{"mergedSha": r.MergedSHA, "source": "sync"})
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
				if p.inCooldown(key, now) {
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
					p.setCooldown(key, now)
				}
			case a.RunID == 0 && a.Conclusion == "" && a.Nonce != "":
				run, err := p.gh.FindRun(ctx, repo, p.cfg.Workflows.File(githubx.WorkflowKind(k)), a.Nonce, githubx.BypassCache())
				switch {
				case err == nil:
					if _, err := p.attachRun(ctx, r.ID, k, a.Attempt, run.ID, run.URL); err != nil {
						return nil, err
					}
					if _, err := p.patchRun(ctx, r.ID, k, run.ID, run); err != nil {
						return nil, err
					}
				case errors.Is(err, githubx.ErrNotFound):
					if now.Sub(a.DispatchedAt) > p.cfg.DispatchGrace {
						redo = append(redo, pending{k, a.Attempt})
					}
				default:
					return nil, err
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
	var before runs.Attempt
	r, err := p.patch(ctx, id, func(r *Request) {
		before, _ = runs.FindByRunID(r.Runs, k, runID)
		r.Runs, changed = runs.PatchByRunID(r.Runs, k, runID, RunFactsOf(run))
	})
	if err != nil {
		return false, err
	}
	if after, ok := runs.FindByRunID(r.Runs, k, runID); ok && before.Conclusion == "" && after.Conclusion != "" {
		p.event(ctx, id, string(k)+"_completed", Principal{Login: "github"}, map[string]any{
			"attempt": after.Attempt, "runId": runID, "conclusion": after.Conclusion, "source": "sync"})
	}
	return changed, nil
}

func (p *Pilot) inCooldown(key string, now time.Time) bool {
	p.cooldownMu.Lock()
	defer p.cooldownMu.Unlock()
	until, ok := p.cooldown[key]
	if ok && !now.Before(until) {
		delete(p.cooldown, key)
		return false
	}
	return ok
}

func (p *Pilot) setCooldown(key string, now time.Time) {
	p.cooldownMu.Lock()
	defer p.cooldownMu.Unlock()
	p.cooldown[key] = now.Add(p.cfg.ReconcileCooldown)
}

// cleanup opens the pull request that removes a destroyed request's block
// and archives the request.
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
			if _, err := p.gh.CommitFiles(ctx, repo, branch, fmt.Sprintf("tfpilot: remove %s (%s), destroyed", r.Module, r.ID),
				[]githubx.FileChange{{Path: path, Content: next}}); err != nil {
				return nil, err
			}
			pr, err := p.gh.OpenPR(ctx, repo, githubx.NewPR{
				Title: fmt.Sprintf("tfpilot: clean up %s for %s/%s", r.Module, r.Project, r.Environment),
				Body:  fmt.Sprintf("Removes the block of destroyed request `%s`.\n", r.ID),
				Head:  branch, Base: r.TargetBase,
			})
			if err != nil {
				return nil, err
			}
			if r, err = p.mutateHeld(ctx, r.ID, h, func(r *Request) error {
				r.CleanupPR = &PullRequest{Number: pr.Number, URL: pr.URL, Open: pr.Open(), HeadSHA: pr.HeadSHA}
				return nil
			}); err != nil {
				return nil, err
			}
			p.event(ctx, r.ID, "cleanup_pr_opened", who, map[string]any{"number": pr.Number, "url": pr.URL})
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
