package tfpilot

import (
	"context"
	"errors"
	"fmt"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/store"
)

// indexPR records that pr belongs to r. An entry held by another request
// is verified against GitHub, which names the pull request's head branch:
// when that is r's branch the entry is stale and is repaired (with a
// [store.PRIndexRepairer] store) and recorded as a "pr_index_repaired" event;
// an entry that cannot be repaired is logged and left, never a reason to
// fail the request's own operation. Its errors name the pull request and
// the request.
func (p *Pilot) indexPR(ctx context.Context, r *Request, ref PRRef, pr githubx.PullRequest) error {
	err := p.store.IndexPR(ctx, ref, r.ID)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, ErrAlreadyExists):
		return fmt.Errorf("tfpilot: index pull request %d of %q: %w", ref.Number, r.ID, err)
	}
	held, lerr := p.store.LookupPR(ctx, ref)
	switch {
	case lerr != nil:
		return fmt.Errorf("tfpilot: index pull request %d of %q: %w", ref.Number, r.ID, lerr)
	case held == r.ID:
		return nil
	}
	if pr.HeadRef == "" || pr.Number != ref.Number {
		fresh, gerr := p.gh.GetPR(ctx, repoOf(r), ref.Number, githubx.BypassCache())
		if gerr != nil {
			return fmt.Errorf("tfpilot: verify pull request %d of %q: %w", ref.Number, r.ID, gerr)
		}
		pr = fresh
	}
	if pr.HeadRef != r.BranchName {
		p.log.WarnContext(ctx, "tfpilot: pull request index names another request and GitHub does not say it is this one's",
			"request", r.ID, "number", ref.Number, "indexed", held, "head", pr.HeadRef)
		return nil
	}
	rep, ok := p.store.(store.PRIndexRepairer)
	if !ok {
		p.log.WarnContext(ctx, "tfpilot: stale pull request index entry; the store cannot repair it",
			"request", r.ID, "number", ref.Number, "indexed", held)
		return nil
	}
	if err := rep.ReindexPR(ctx, ref, held, r.ID); err != nil && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("tfpilot: repair index of pull request %d (held by %q) for %q: %w", ref.Number, held, r.ID, err)
	}
	p.event(ctx, r.ID, "pr_index_repaired", Principal{Login: "tfpilot"}, map[string]any{"number": ref.Number, "previous": held})
	return nil
}
