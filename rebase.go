package tfpilot

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/hclblocks"
)

// A request's branch follows its base.
//
// Every request of one environment writes its block into the same file
// (envs/<env>/tfpilot.tf), so once one request's pull request merges,
// the others' pull requests conflict with the base (GitHub reports
// "mergeable": false, "mergeable_state": "dirty"), or are out of date
// with it ("behind", reported when branch protection requires branches
// to be up to date). tfpilot then rebuilds the request's change on the
// current base: it re-renders its own block between its markers into
// the base's current file and commits that on the request's branch as
// a commit whose parents are the branch head and the base head (see
// [githubx.Client.RebuildOnBase]), so the pull request is mergeable
// again and its diff is exactly the request's block. The planned commit
// changed, so the approval is voided and a new plan is dispatched.
//
// tfpilot owns the request's branch. A person's commits pushed to it
// stay in its history but not in its content: the next rebuild (Sync,
// the webhook's synchronize followed by Sync, or Merge) replaces the
// branch's content with the base plus the request's block, and the
// "branch_rebuilt" event names the head it replaced. What is planned,
// approved and applied under a request is only ever the request's own
// block; a change of anything else goes through its own pull request.

// rebuildNeed is the verdict of [Pilot.needsRebuild].
type rebuildNeed struct {
	// reason is empty when the branch needs no rebuild.
	reason string
	// state is GitHub's mergeable_state as read.
	state string
}

// needsRebuild reads the pull request (a conditional GET: an unchanged
// pull request costs no rate-limit unit) and decides whether r's branch
// must be rebuilt on its base: GitHub says it conflicts or is behind,
// or its head is not the commit tfpilot made. It reads the files only
// when GitHub reports a conflict, to tell a moved base (tfpilot's block
// is no longer on top of the base's file) from a refusal rebuilding
// cannot cure. It never writes.
func (p *Pilot) needsRebuild(ctx context.Context, r *Request) (rebuildNeed, error) {
	if r.PR == nil || merged(r) || !r.PR.Open || r.CommitSHA == "" {
		return rebuildNeed{}, nil
	}
	pr, err := p.gh.GetPR(ctx, repoOf(r), r.PR.Number)
	if err != nil {
		return rebuildNeed{}, err
	}
	need := rebuildNeed{state: pr.MergeableState}
	switch {
	case !pr.Open() || pr.Merged:
		return need, nil
	case pr.HeadSHA != "" && pr.HeadSHA != r.CommitSHA:
		need.reason = fmt.Sprintf("the branch head moved to %s, which tfpilot did not commit", short(pr.HeadSHA))
		return need, nil
	case pr.MergeableState == "behind":
		need.reason = "the pull request is behind its base"
		return need, nil
	case pr.Mergeable == nil || *pr.Mergeable:
		return need, nil // clean, or GitHub is still computing it
	}
	baseHead, next, err := p.renderOnBase(ctx, r)
	if err != nil {
		return need, err
	}
	cur, err := p.gh.ReadFile(ctx, repoOf(r), r.TargetFiles[0], r.CommitSHA)
	if err != nil && !errors.Is(err, githubx.ErrNotFound) {
		return need, err
	}
	if !bytes.Equal(cur.Content, next) {
		need.reason = fmt.Sprintf("the base moved to %s", short(baseHead))
	}
	return need, nil
}

// renderOnBase returns the base branch's head and the content of r's
// target file there with r's block upserted between its markers.
func (p *Pilot) renderOnBase(ctx context.Context, r *Request) (string, []byte, error) {
	block, err := p.renderBlock(r)
	if err != nil {
		return "", nil, err
	}
	repo := repoOf(r)
	baseHead, err := p.gh.BranchHead(ctx, repo, r.TargetBase)
	if err != nil {
		return "", nil, err
	}
	path := r.TargetFiles[0]
	var src []byte
	f, err := p.gh.ReadFile(ctx, repo, path, baseHead)
	switch {
	case err == nil:
		src = f.Content
	case !errors.Is(err, githubx.ErrNotFound):
		return "", nil, err
	}
	next, err := hclblocks.Editor{Markers: p.cfg.Markers}.Upsert(src, r.ID, block)
	if err != nil {
		return "", nil, fmt.Errorf("tfpilot: edit %s of %s at %s: %w", path, r.TargetBase, short(baseHead), err)
	}
	return baseHead, next, nil
}

// renderBlock renders r's module block.
func (p *Pilot) renderBlock(r *Request) ([]byte, error) {
	m, ok := p.cfg.Catalog.Module(r.Module)
	if !ok {
		return nil, invalid("module", fmt.Sprintf("module %q is no longer in the catalogue", r.Module))
	}
	block, err := hclblocks.RenderModule(hclblocks.Module{Name: moduleLabel(r), Source: m.Source, Version: m.Version, Inputs: r.Config})
	if err != nil {
		return nil, fmt.Errorf("%w: render module block: %v", ErrInvalid, err)
	}
	return block, nil
}

// rebuild rebuilds r's branch on its base's current head, under lock h,
// records the new commit (voiding the approval: it was given for another
// commit) and dispatches a plan of it. It returns the request and
// whether the branch's commit changed. A rebuild that finds the branch
// already on the base's head with the right content changes nothing.
func (p *Pilot) rebuild(ctx context.Context, r *Request, h string, who Principal, reason string) (*Request, bool, error) {
	baseHead, next, err := p.renderOnBase(ctx, r)
	if err != nil {
		return nil, false, err
	}
	sha, _, err := p.gh.RebuildOnBase(ctx, repoOf(r), r.BranchName, baseHead,
		p.cfg.Text.RebuildCommit(r, baseHead),
		[]githubx.FileChange{{Path: r.TargetFiles[0], Content: next}})
	if err != nil {
		return nil, false, err
	}
	if sha == r.CommitSHA {
		return r, false, nil
	}
	replaced := r.CommitSHA
	if r.PR != nil && r.PR.HeadSHA != "" {
		replaced = r.PR.HeadSHA
	}
	if r, err = p.mutateHeld(ctx, r.ID, h, func(r *Request) error {
		if r.CommitSHA != sha {
			p.stage(r, "branch_rebuilt", who, map[string]any{
				"commitSha": sha, "baseSha": baseHead, "replacedHead": replaced, "reason": reason})
		}
		r.CommitSHA = sha
		if r.PR != nil {
			r.PR.HeadSHA = sha
		}
		r.Approval = nil // given for the old commit
		return nil
	}); err != nil {
		return nil, false, err
	}
	// A plan still running is for the replaced commit: the new attempt
	// supersedes it (its run finishes on GitHub and is recorded, but it
	// is no longer the current attempt).
	r, err = p.provision(ctx, r, h, who)
	return r, true, err
}

// followBase is Sync's step that keeps r's branch on its base: when
// [Pilot.needsRebuild] says so, it takes the lock (skipping if another
// operation holds it) and rebuilds. It first repairs a pull-request
// index entry that names another request (see [Pilot.indexPR]).
func (p *Pilot) followBase(ctx context.Context, c Caller, r *Request) (*Request, error) {
	if r.PR != nil {
		ref := PRRef{Owner: r.TargetOwner, Repo: r.TargetRepo, Number: r.PR.Number}
		if held, err := p.store.LookupPR(ctx, ref); err == nil && held != r.ID {
			if err := p.indexPR(ctx, r, ref, githubx.PullRequest{}); err != nil { // prindex.go
				return nil, err
			}
		}
	}
	if r.Lock.Active(p.now()) {
		return r, nil
	}
	need, err := p.needsRebuild(ctx, r)
	if err != nil || need.reason == "" {
		return r, err
	}
	h := holder(Principal{Login: "sync"}, ActionSync)
	locked, err := p.acquire(ctx, r.ID, ActionSync, h, nil)
	if errors.Is(err, ErrLocked) {
		return r, nil // someone else is working on it
	}
	if err != nil {
		return nil, err
	}
	_, _, err = p.rebuild(ctx, locked, h, Principal{Login: c.Principal.Login}, need.reason)
	p.release(ctx, r.ID, h)
	if err != nil {
		return nil, err
	}
	return p.store.GetRequest(ctx, r.ID)
}

// mergePrecheck runs before Merge takes the lock, so that a merge GitHub
// would refuse writes nothing: it reads the pull request and, when the
// branch must follow its base, rebuilds it (that changes facts: a new
// commit, a new plan, the approval voided) and answers a gate error
// telling the caller to approve again; when GitHub reports the pull
// request not mergeable for a reason a rebuild cannot cure, it records
// one "merge_refused" event and answers a gate error, writing nothing.
// It answers nil when the merge should be tried; gates that fail are
// left to the locked check, which reports them without writing.
func (p *Pilot) mergePrecheck(ctx context.Context, c Caller, id string, gates func(*Request) error) error {
	r, err := p.store.GetRequest(ctx, id)
	if err != nil {
		return err
	}
	if err := p.cfg.Authorizer.Authorize(ctx, c.Principal, ActionMerge, r); err != nil {
		return err
	}
	if gates(r) != nil || r.Lock.Active(p.now()) {
		return nil
	}
	need, err := p.needsRebuild(ctx, r)
	if err != nil {
		return p.githubErr(ctx, err)
	}
	if need.reason == "" {
		if need.state == "dirty" {
			return p.mergeRefused(ctx, c, r, need.state, nil)
		}
		return nil
	}
	h := holder(c.Principal, ActionMerge)
	locked, err := p.acquire(ctx, id, ActionMerge, h, gates)
	if err != nil {
		return err
	}
	out, changed, err := p.rebuild(ctx, locked, h, c.Principal, need.reason)
	p.release(ctx, id, h)
	if err != nil {
		return p.githubErr(ctx, err)
	}
	if !changed {
		return p.mergeRefused(ctx, c, locked, need.state, nil)
	}
	return gate(ActionMerge, "%s; re-planned on %s; approve again", need.reason, short(out.CommitSHA))
}

// mergeRefused records GitHub's refusal of a merge as one event and
// answers the gate error; the document is not written.
func (p *Pilot) mergeRefused(ctx context.Context, c Caller, r *Request, state string, cause error) error {
	data := map[string]any{"mergeableState": state, "headSha": r.CommitSHA}
	if cause != nil {
		data["error"] = cause.Error()
	}
	p.event(ctx, r.ID, "merge_refused", c.Principal, data)
	reason := "GitHub refuses the merge: the pull request is not mergeable"
	if state != "" {
		reason += " (" + state + ")"
	}
	if cause != nil {
		return fmt.Errorf("%w: %w", gate(ActionMerge, "%s", reason), cause)
	}
	return gate(ActionMerge, "%s", reason)
}
