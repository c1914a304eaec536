package tfpilot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/hclblocks"
	"github.com/tfpilot/tfpilot/lock"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// CreateInput is what a user asks for.
type CreateInput struct {
	Project     string
	Environment string
	Module      string
	Config      map[string]any
}

// Create validates the input, stores a new request, renders the module
// block into the target file on branch tfpilot/<id>, opens the pull
// request and dispatches the first plan. With an idempotency key the
// request id is derived from the key, so a repeat (or a retry after a
// crash) finds the same request instead of creating a second one; the key
// is durable (unlike the original's in-memory map). Once the request is
// stored, Create answers it: a failure of a later step (GitHub refusing,
// rate-limited or unreachable) is recorded as a "provisioning_incomplete"
// event, never returned, and the steps left undone are completed by
// [Pilot.Sync].
func (p *Pilot) Create(ctx context.Context, c Caller, in CreateInput) (View, error) {
	draft := &Request{SchemaVersion: SchemaVersion, Project: in.Project, Environment: in.Environment, Module: in.Module}
	draft.CreatedBy = c.Principal.Login
	if err := p.cfg.Authorizer.Authorize(ctx, c.Principal, ActionCreate, draft); err != nil {
		return View{}, err
	}
	if c.IdempotencyKey != "" {
		sum := sha256.Sum256([]byte(c.Principal.Login + "\x00" + c.IdempotencyKey))
		draft.ID = "req-" + hex.EncodeToString(sum[:8])
	} else {
		draft.ID = "req-" + newToken(16)
	}
	if err := p.validate(draft, in.Config); err != nil {
		return View{}, err
	}
	t, err := p.cfg.Targets.Target(draft.Project, draft.Environment)
	if err != nil {
		return View{}, err
	}
	fp := fingerprint(ActionCreate, c.Principal.Login, draft.Project, draft.Environment, draft.Module, draft.Config)
	if prev, err := p.replay(ctx, scoped("create", c.Principal), c.IdempotencyKey, fp); err != nil || prev != nil {
		if err != nil {
			return View{}, err
		}
		return p.view(ctx, prev, p.archivedNow(ctx, prev.ID)), nil // cancelled since, perhaps
	}
	now := p.now()
	draft.TargetOwner, draft.TargetRepo, draft.TargetBase = t.Owner, t.Repo, t.base()
	draft.TargetEnvPath, draft.TargetFiles = t.EnvPath, []string{t.path()}
	draft.BranchName = p.cfg.BranchPrefix + draft.ID
	draft.ReceivedAt, draft.UpdatedAt = now, now
	h := holder(c.Principal, ActionCreate)
	if draft.Lock, err = lock.Acquire(nil, h, string(ActionCreate), p.cfg.LockTTL, now); err != nil {
		return View{}, err
	}
	if c.IdempotencyKey != "" {
		draft.Idempotency = map[string]IdempotencyMark{"create": {Key: c.IdempotencyKey, At: now}}
	}
	// request_created rides in the document that creates the request, so
	// no crash can store the request without its first milestone.
	p.stage(draft, "request_created", c.Principal, map[string]any{"module": draft.Module})
	r, err := p.store.CreateRequest(ctx, draft)
	switch {
	case errors.Is(err, ErrAlreadyExists) && c.IdempotencyKey != "":
		// An earlier call with this key stored the request and then failed:
		// resume it if it asked for the same thing.
		prev, gerr := p.store.GetRequest(ctx, draft.ID)
		if gerr != nil {
			return View{}, gerr
		}
		if fingerprint(ActionCreate, c.Principal.Login, prev.Project, prev.Environment, prev.Module, prev.Config) != fp {
			return View{}, fmt.Errorf("%w: key %q of create", ErrIdempotencyKeyReused, c.IdempotencyKey)
		}
		if r, err = p.acquire(ctx, draft.ID, ActionCreate, h, nil); err != nil {
			return View{}, err
		}
	case err != nil:
		return View{}, err
	default:
		r = flush(ctx, p.store, p.log, r)
	}
	out, err := p.provision(ctx, r, h, c.Principal)
	p.release(ctx, r.ID, h)
	if err != nil {
		// The request exists: answering an error would invite a
		// duplicate. The failure is recorded on the request, and Sync
		// finishes what is left.
		p.rateLimited(ctx, err)
		p.event(ctx, r.ID, "provisioning_incomplete", c.Principal, map[string]any{"error": err.Error()})
		p.log.WarnContext(ctx, "tfpilot: request stored, provisioning left to Sync", "request", r.ID, "err", err)
		out = r
	}
	if fresh, gerr := p.store.GetRequest(ctx, r.ID); gerr == nil {
		out = fresh
	}
	p.remember(ctx, scoped("create", c.Principal), c.IdempotencyKey, fp, out)
	return p.view(ctx, out, false), nil
}

// validate checks identifiers, the module, its config and the policy,
// renders the module block, and stores the normalised config in r.Config.
func (p *Pilot) validate(r *Request, config map[string]any) error {
	if err := r.Validate(); err != nil {
		return err
	}
	m, ok := p.cfg.Catalog.Module(r.Module)
	if !ok {
		return invalid("module", fmt.Sprintf("unknown module %q", r.Module))
	}
	norm, err := m.ValidateConfig(config)
	if err != nil {
		return err
	}
	r.Config = norm
	var v ValidationError
	for _, check := range p.cfg.Policy {
		v.Violations = append(v.Violations, check(r)...)
	}
	if len(v.Violations) > 0 {
		return &v
	}
	// Render the block now, as pushBlock will: a config that cannot
	// become HCL is refused before anything is stored.
	if _, err := p.renderBlock(r); err != nil {
		return err
	}
	return nil
}

// provision brings a request's GitHub side up to its document, one
// idempotent step at a time, under lock h: push the block when no commit
// carries the current config, open the pull request when there is none,
// and dispatch a plan when the current plan is not for the current
// commit. Create, UpdateConfig and Sync (after a crash) all use it.
func (p *Pilot) provision(ctx context.Context, r *Request, h string, who Principal) (*Request, error) {
	var err error
	if r.CommitSHA == "" {
		sha, err := p.pushBlock(ctx, r)
		if err != nil {
			return nil, err
		}
		if r, err = p.mutateHeld(ctx, r.ID, h, func(r *Request) error {
			if r.CommitSHA != sha {
				p.stage(r, "block_committed", who, map[string]any{"commitSha": sha, "branch": r.BranchName})
			}
			r.CommitSHA = sha
			if r.PR != nil {
				r.PR.HeadSHA = sha
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	if r.PR == nil {
		if r, err = p.openPR(ctx, r, h, who); err != nil {
			return nil, err
		}
	}
	if plan, ok := runs.Current(r.Runs, runs.Plan); !merged(r) && (!ok || runs.DispatchedFor(plan) != r.CommitSHA) {
		return p.dispatch(ctx, r.ID, h, runs.Plan, r.BranchName, r.CommitSHA, who)
	}
	return r, nil
}

// moduleLabel is the module block's label: the module name and the
// request id, as an HCL identifier.
func moduleLabel(r *Request) string {
	id := strings.Map(func(c rune) rune {
		if c == '.' {
			return '_'
		}
		return c
	}, strings.ToLower(r.ID))
	return r.Module + "_" + id
}

// pushBlock renders r's module block into its target file on its branch
// and commits it, returning the commit. If the branch already holds
// exactly that file (a retry after a crash), it commits nothing and
// returns the branch head.
func (p *Pilot) pushBlock(ctx context.Context, r *Request) (string, error) {
	block, err := p.renderBlock(r)
	if err != nil {
		return "", err
	}
	repo := repoOf(r)
	head, err := p.gh.EnsureBranch(ctx, repo, r.BranchName, r.TargetBase)
	if err != nil {
		return "", err
	}
	path := r.TargetFiles[0]
	var src []byte
	f, err := p.gh.ReadFile(ctx, repo, path, r.BranchName, githubx.BypassCache())
	switch {
	case err == nil:
		src = f.Content
	case !errors.Is(err, githubx.ErrNotFound):
		return "", err
	}
	ed := hclblocks.Editor{Markers: p.cfg.Markers}
	next, err := ed.Upsert(src, r.ID, block)
	if err != nil {
		return "", fmt.Errorf("tfpilot: edit %s on %s: %w", path, r.BranchName, err)
	}
	if src != nil && bytes.Equal(next, src) {
		return head, nil
	}
	return p.gh.CommitFiles(ctx, repo, r.BranchName, p.cfg.Text.Commit(r),
		[]githubx.FileChange{{Path: path, Content: next}})
}

func (p *Pilot) openPR(ctx context.Context, r *Request, h string, who Principal) (*Request, error) {
	pr, err := p.gh.OpenPR(ctx, repoOf(r), githubx.NewPR{
		Title: p.cfg.Text.PRTitle(r),
		Body:  p.cfg.Text.PRBody(r, who),
		Head:  r.BranchName,
		Base:  r.TargetBase,
	})
	if err != nil {
		return nil, err
	}
	// The pull_request webhook can record the PR before this write does;
	// the event is recorded once, by whichever write makes the change.
	r, err = p.mutateHeld(ctx, r.ID, h, func(r *Request) error {
		if r.PR == nil {
			r.PR = &PullRequest{Number: pr.Number, URL: pr.URL, Open: pr.Open(), Merged: pr.Merged, HeadSHA: pr.HeadSHA}
			p.stage(r, "pr_opened", who, map[string]any{"number": pr.Number, "url": pr.URL})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := p.indexPR(ctx, r, PRRef{Owner: r.TargetOwner, Repo: r.TargetRepo, Number: pr.Number}, pr); err != nil {
		return nil, err // it names the pull request and the request
	}
	return r, nil
}

func merged(r *Request) bool { return r.MergedSHA != "" || r.PR != nil && r.PR.Merged }

func approved(r *Request) bool { return ApprovalCounts(r.Approval, r.ApprovalHead()) }

// planOK reports whether the current plan succeeded for the pull
// request's head. The plan's HeadSHA is its run's head SHA once GitHub
// reported it; a plan whose run was of another commit than the one it
// was dispatched for is refused: a plan of another commit is not a plan
// of this one.
func planOK(op Action, r *Request) error {
	plan, ok := runs.Current(r.Runs, runs.Plan)
	head := r.CommitSHA
	if r.PR != nil && r.PR.HeadSHA != "" {
		head = r.PR.HeadSHA
	}
	switch {
	case !ok:
		return gate(op, "no plan has run")
	case runs.Active(plan):
		return gate(op, "plan attempt %d is still running", plan.Attempt)
	case plan.Conclusion != runs.ConclusionSuccess:
		return gate(op, "plan for head %s not successful (%s)", short(plan.HeadSHA), plan.Conclusion)
	case plan.PinnedSHA != "":
		// A plan pinned to a commit (the merge commit, replan.go) ran on
		// the base branch: its run's head is not what it planned.
		return pinnedPlanOK(op, plan)
	case runs.HeadMismatch(plan):
		return gate(op, "plan attempt %d was dispatched for %s but its run planned %s: a plan of another commit is not a plan of this one",
			plan.Attempt, short(plan.DispatchedSHA), short(plan.HeadSHA))
	case head != "" && plan.HeadSHA != "" && plan.HeadSHA != head:
		return gate(op, "the plan was for head %s but the pull request is at %s", short(plan.HeadSHA), short(head))
	}
	return nil
}

// open reports a gate error unless the pull request is open and unmerged.
func openUnmerged(op Action, r *Request) error {
	switch {
	case r.PR == nil:
		return gate(op, "the pull request is not open yet")
	case merged(r):
		return gate(op, "the pull request is already merged")
	case !r.PR.Open:
		return gate(op, "the pull request is closed")
	}
	return nil
}

func notRunning(op Action, r *Request, kinds ...runs.Kind) error {
	for _, k := range kinds {
		if a, ok := runs.Current(r.Runs, k); ok && runs.Active(a) {
			return gate(op, "%s attempt %d is still running", k, a.Attempt)
		}
	}
	return nil
}

// UpdateConfig validates a new config, re-renders the block onto the
// request's branch and dispatches a new plan. The approval is reset: it
// was given for the old change.
func (p *Pilot) UpdateConfig(ctx context.Context, c Caller, id string, config map[string]any) (View, error) {
	cur, err := p.store.GetRequest(ctx, id)
	if err != nil {
		return View{}, err
	}
	// Authorize before validating, as Create does: a caller who may not
	// update learns nothing about the module's inputs.
	if err := p.cfg.Authorizer.Authorize(ctx, c.Principal, ActionUpdate, cur); err != nil {
		return View{}, err
	}
	probe := cur.Clone()
	if err := p.validate(probe, config); err != nil {
		return View{}, err
	}
	norm := probe.Config
	gates := func(r *Request) error {
		if err := openUnmerged(ActionUpdate, r); err != nil {
			return err
		}
		return notRunning(ActionUpdate, r, runs.Plan)
	}
	return p.operation(ctx, c, ActionUpdate, id, norm, gates, func(ctx context.Context, _ *Request, h string) (*Request, error) {
		r, err := p.mutateHeld(ctx, id, h, func(r *Request) error {
			r.Config = store.CloneConfig(norm)
			r.CommitSHA = "" // the branch no longer holds the current config
			r.Approval = nil
			p.stage(r, "configuration_updated", c.Principal, nil)
			return nil
		})
		if err != nil {
			return nil, err
		}
		return p.provision(ctx, r, h, c.Principal)
	})
}

// Plan dispatches a new plan of the pull request's head; after a merge
// that was re-planned at its merge commit (replan.go), a new plan of the
// merge commit (after that plan failed, for example).
func (p *Pilot) Plan(ctx context.Context, c Caller, id string) (View, error) {
	gates := func(r *Request) error {
		if err := openUnmerged(ActionPlan, r); err != nil && !replannedAtMerge(r) {
			// After the merge, only the plan of the merge commit can be
			// run again (replan.go).
			return err
		}
		if r.CommitSHA == "" {
			return gate(ActionPlan, "the block has not been committed yet; Sync completes it")
		}
		return notRunning(ActionPlan, r, runs.Plan)
	}
	return p.operation(ctx, c, ActionPlan, id, nil, gates, func(ctx context.Context, r *Request, h string) (*Request, error) {
		if replannedAtMerge(r) {
			return p.planMergeAgain(ctx, r, h, c.Principal) // replan.go
		}
		return p.dispatch(ctx, id, h, runs.Plan, r.BranchName, r.CommitSHA, c.Principal)
	})
}

// Approve records the caller's approval of the pull request's current
// head commit. It needs a successful plan of that head, and the approval
// rules ([ApprovalRules.Check]): the caller may approve the request and,
// unless the target allows it, did not request it.
func (p *Pilot) Approve(ctx context.Context, c Caller, id string) (View, error) {
	rules := p.approvalRules()
	gates := func(r *Request) error {
		if err := openUnmerged(ActionApprove, r); err != nil && !replannedAtMerge(r) {
			// After the merge, only the plan of the merge commit asks for
			// an approval (replan.go).
			return err
		}
		if err := rules.Check(ctx, c.Principal, r); err != nil {
			return err
		}
		return planOK(ActionApprove, r)
	}
	return p.operation(ctx, c, ActionApprove, id, nil, gates, func(ctx context.Context, r *Request, h string) (*Request, error) {
		return p.mutateHeld(ctx, id, h, func(r *Request) error {
			head := r.ApprovalHead()
			digest := r.PlanDigest()
			a, changed, err := ApprovalWithGrant(r.Approval, head, ApprovalGrant{
				Principal: c.Principal.Login, HeadSHA: head, PlanDigest: digest, PlannedSHA: r.PinnedSHA(),
				Source: ApprovalSourceAPI, At: p.now()})
			if err != nil {
				return err
			}
			r.Approval = a
			if changed {
				data := map[string]any{"headSha": head}
				if digest != "" {
					data["planDigest"] = digest
				}
				if pin := r.PinnedSHA(); pin != "" {
					data["plannedSha"] = pin
				}
				p.stage(r, "request_approved", c.Principal, data)
			}
			return nil
		})
	})
}

// Merge merges the pull request at the head that was planned and
// approved, and records the merge commit as mergedSha.
func (p *Pilot) Merge(ctx context.Context, c Caller, id string) (View, error) {
	gates := func(r *Request) error {
		if err := openUnmerged(ActionMerge, r); err != nil {
			return err
		}
		if !approved(r) {
			return gate(ActionMerge, "not approved")
		}
		if err := planOK(ActionMerge, r); err != nil {
			return err
		}
		if d := r.PlanDigest(); !ApprovalCountsForPlan(r.Approval, r.ApprovalHead(), d) {
			// What is merged is what Apply applies: the approved plan.
			return gate(ActionMerge, "no approval names the current plan (digest %s); approve it again", shortDigest(d))
		}
		return nil
	}
	// A merge GitHub would refuse is answered before the lock is taken:
	// a moved base rebuilds the branch, anything else writes nothing.
	if err := p.mergePrecheck(ctx, c, id, gates); err != nil {
		return View{}, err
	}
	return p.operation(ctx, c, ActionMerge, id, nil, gates, func(ctx context.Context, r *Request, h string) (*Request, error) {
		sha, err := p.gh.MergePR(ctx, repoOf(r), r.PR.Number, githubx.MergeOptions{ExpectedHeadSHA: r.PR.HeadSHA})
		if errors.Is(err, githubx.ErrConflict) {
			// The base or the head moved since the precheck: the next
			// Merge or Sync rebuilds the branch.
			return nil, p.mergeRefused(ctx, c, r, "", err)
		}
		if err != nil {
			return nil, err
		}
		// The merged webhook may have recorded the merge already: the
		// event is recorded once, by the write that makes the change.
		r, err = p.mutateHeld(ctx, id, h, func(r *Request) error {
			if !merged(r) {
				p.stage(r, "pr_merged", c.Principal, map[string]any{"mergedSha": sha})
			}
			r.PR.Merged, r.PR.Open = true, false
			if r.MergedSHA == "" {
				r.MergedSHA = sha
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		// The base may have moved since the plan: a merge commit with
		// another tree is planned again (replan.go). The merge is done
		// whatever happens here; Sync and Apply repeat the check.
		out, _, rerr := p.replanAfterMerge(ctx, r, h, c.Principal)
		if rerr != nil {
			p.rateLimited(ctx, rerr)
			p.log.WarnContext(ctx, "tfpilot: merged; the merge commit's tree was not compared with the plan's, Sync does it", "request", id, "err", rerr)
			return r, nil
		}
		return out, nil
	})
}

// Apply dispatches the apply workflow on the base branch at the merge
// commit. Gates: merged, approved, the current plan succeeded for the
// merged head, and no apply running or done.
func (p *Pilot) Apply(ctx context.Context, c Caller, id string) (View, error) {
	gates := func(r *Request) error {
		switch {
		case !merged(r):
			return gate(ActionApply, "the pull request is not merged")
		case !approved(r):
			return gate(ActionApply, "not approved")
		}
		if err := planOK(ActionApply, r); err != nil {
			return err
		}
		if d := r.PlanDigest(); !r.PlanApproved() {
			// Apply applies the saved plan: an approval counts only for
			// the plan file its approver saw (approval.go).
			if pin := r.PinnedSHA(); pin != "" {
				return gate(ActionApply, "no approval names the plan of the merge commit %s (digest %s); approve it, then apply", short(pin), shortDigest(d))
			}
			return gate(ActionApply, "no approval names the plan to apply (digest %s); approve it again", shortDigest(d))
		}
		if err := notRunning(ActionApply, r, runs.Apply, runs.Destroy); err != nil {
			return err
		}
		if a, ok := runs.Current(r.Runs, runs.Apply); ok && runs.Succeeded(a) {
			return gate(ActionApply, "already applied (attempt %d)", a.Attempt)
		}
		if _, ok := runs.Current(r.Runs, runs.Destroy); ok {
			return gate(ActionApply, "the request has been destroyed")
		}
		return nil
	}
	release, err := p.gatedOnTarget(ctx, c, ActionApply, id) // applygate.go
	if err != nil {
		return View{}, err
	}
	defer release()
	return p.operation(ctx, c, ActionApply, id, nil, gates, func(ctx context.Context, r *Request, h string) (*Request, error) {
		// The saved plan is applied only if it is a plan of what was
		// merged (replan.go).
		r, replanned, err := p.replanAfterMerge(ctx, r, h, c.Principal)
		if err != nil {
			return nil, err
		}
		if replanned {
			a, _ := runs.Current(r.Runs, runs.Plan)
			return nil, gate(ActionApply, "the merge commit %s holds other files than the plan saw: re-planning at the merge commit (plan attempt %d); approve that plan, then apply",
				short(r.MergedSHA), a.Attempt)
		}
		return p.dispatch(ctx, id, h, runs.Apply, r.TargetBase, r.MergedSHA, c.Principal)
	})
}

// Destroy dispatches the destroy workflow. Gate: the request is applied.
// When the destroy succeeds, Sync opens a cleanup pull request removing
// the block and archives the request.
func (p *Pilot) Destroy(ctx context.Context, c Caller, id string) (View, error) {
	gates := func(r *Request) error {
		if err := notRunning(ActionDestroy, r, runs.Apply, runs.Destroy); err != nil {
			return err
		}
		if a, ok := runs.Current(r.Runs, runs.Destroy); ok && runs.Succeeded(a) {
			return gate(ActionDestroy, "already destroyed")
		}
		if a, ok := runs.Current(r.Runs, runs.Apply); !ok || !runs.Succeeded(a) {
			return gate(ActionDestroy, "the request is not applied")
		}
		return nil
	}
	release, err := p.gatedOnTarget(ctx, c, ActionDestroy, id) // applygate.go
	if err != nil {
		return View{}, err
	}
	defer release()
	return p.operation(ctx, c, ActionDestroy, id, nil, gates, func(ctx context.Context, r *Request, h string) (*Request, error) {
		return p.dispatch(ctx, id, h, runs.Destroy, r.TargetBase, r.MergedSHA, c.Principal)
	})
}
