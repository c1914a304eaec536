package tfpilot

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/runs"
)

// Apply-only workflow inputs: the saved plan an apply applies. The apply
// workflow downloads the plan file its plan run saved as an artifact,
// checks it against the digest and applies that file (workflows/apply.yml).
// They are sent when the plan to apply reported a digest; the Apply gate
// has checked that an approval names it ([ApprovalCountsForPlan]).
const (
	// InputPlanRunID carries the plan run's GitHub run id.
	InputPlanRunID = githubx.InputPlanRunID
	// InputPlanDigest carries the saved plan's digest, "sha256:<hex>".
	InputPlanDigest = githubx.InputPlanDigest
	// InputPlanSHA carries, to the plan workflow, the commit a plan
	// pinned to a commit checks out (a re-plan at a merge commit, see
	// replan.go); it is sent only for such a plan.
	InputPlanSHA = githubx.InputPlanSHA
)

// applyInputs are the inputs an apply of r sends beyond the request id and
// the nonce: its current plan's run and saved plan digest, when known.
// They are derived from the stored request, so a dispatch retried by Sync
// sends the same.
func applyInputs(r *Request) map[string]string {
	plan, ok := runs.Current(r.Runs, runs.Plan)
	d := r.PlanDigest()
	if !ok || plan.RunID == 0 || d == "" {
		return nil
	}
	return map[string]string{InputPlanRunID: strconv.FormatInt(plan.RunID, 10), InputPlanDigest: d}
}

// shortDigest abbreviates a plan digest for messages; "none" when empty.
func shortDigest(d string) string {
	if d == "" {
		return "none"
	}
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

// dispatch runs the crash-safe dispatch protocol for kind on request id,
// whose lock h holds: (1) persist a new attempt carrying a fresh nonce;
// (2) call workflow_dispatch with the request id and the nonce as inputs;
// (3) attach the run id and index it. A crash after (1) leaves an attempt
// that Sync finds by its nonce, or dispatches again once no run carries
// the nonce after Config.DispatchGrace; no attempt is ever dispatched
// twice while a run for it exists.
func (p *Pilot) dispatch(ctx context.Context, id, h string, kind runs.Kind, ref, headSHA string, who Principal) (*Request, error) {
	nonce := newToken(20)
	var attempt int
	r, err := p.mutateHeld(ctx, id, h, func(r *Request) error {
		r.Runs = runs.Dispatch(r.Runs, kind, runs.DispatchMeta{HeadSHA: headSHA, Ref: ref, Actor: who.Login, Nonce: nonce}, p.now())
		attempt = r.Runs.Op(kind).CurrentAttempt
		data := map[string]any{"attempt": attempt, "ref": ref, "headSha": headSHA}
		if kind == runs.Apply {
			if in := applyInputs(r); in != nil {
				data["planRunId"], data["planDigest"] = in[InputPlanRunID], in[InputPlanDigest]
			}
		}
		p.stage(r, string(kind)+"_dispatched", who, data)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p.startRun(ctx, r, h, kind, attempt)
}

// startRun calls workflow_dispatch for an attempt already persisted (step
// 2 of the protocol) and attaches the run (step 3).
func (p *Pilot) startRun(ctx context.Context, r *Request, h string, kind runs.Kind, attempt int) (*Request, error) {
	a, ok := attemptByNumber(r.Runs, kind, attempt)
	if !ok {
		return nil, fmt.Errorf("tfpilot: %s attempt %d of %q vanished", kind, attempt, r.ID)
	}
	// The call, with the client's own recovery, ends while h still holds
	// the lock, and DispatchGrace covers it (see Config.DispatchGrace).
	dctx, cancel := context.WithTimeout(ctx, p.cfg.LockTTL/2)
	defer cancel()
	inputs := map[string]string{runs.InputRequestID: r.ID}
	switch kind {
	case runs.Apply:
		maps.Copy(inputs, applyInputs(r))
	case runs.Plan:
		maps.Copy(inputs, planInputs(a)) // replan.go
	}
	res, err := p.gh.Dispatch(dctx, repoOf(r), githubx.DispatchRequest{
		Workflow: p.cfg.Workflows.File(kind),
		Ref:      a.Ref,
		Inputs:   inputs,
		Nonce:    a.Nonce,
	})
	if err != nil {
		p.rateLimited(ctx, err)
		if !definitive(err) {
			// GitHub may or may not have started a run: Sync will find it
			// by its nonce, or dispatch again once it is sure none exists.
			return r, fmt.Errorf("tfpilot: %s dispatch for %q not confirmed; Sync will find or retry it: %w", kind, r.ID, err)
		}
		failed, ferr := p.mutateHeld(ctx, r.ID, h, func(r *Request) error {
			var changed bool
			if r.Runs, changed = runs.FailDispatch(r.Runs, kind, attempt); changed {
				p.stage(r, string(kind)+"_dispatch_failed", Principal{Login: a.Actor}, map[string]any{"attempt": attempt, "error": err.Error()})
			}
			return nil
		})
		if ferr == nil {
			r = failed
		}
		return r, fmt.Errorf("tfpilot: %s dispatch for %q refused by GitHub: %w", kind, r.ID, err)
	}
	if res.RunID == 0 {
		return r, nil // accepted; the webhook or Sync attaches the run
	}
	return p.attachRun(ctx, r.ID, kind, attempt, res.RunID, res.HTMLURL)
}

// attachRun records runID on an attempt and indexes it. Attaching is a
// fact about GitHub, so it needs no lock. A run the attempt does not take
// (it already has another run: runID is a duplicate dispatch of it) is
// reported, never indexed: the run index names only attempts' runs. dups
// are other runs found carrying the attempt's nonce; they are reported
// with the attach.
func (p *Pilot) attachRun(ctx context.Context, id string, kind runs.Kind, attempt int, runID int64, url string, dups ...int64) (*Request, error) {
	var rejected int64
	r, err := p.patch(ctx, id, func(r *Request) {
		rejected = 0
		next, ok := runs.AttachRunID(r.Runs, kind, attempt, runID, url)
		if !ok {
			if a, found := attemptByNumber(r.Runs, kind, attempt); found && a.RunID != 0 && a.RunID != runID {
				rejected = a.RunID
			}
			return
		}
		if a, _ := attemptByNumber(r.Runs, kind, attempt); a.RunID == 0 && len(dups) > 0 {
			p.stage(r, string(kind)+"_duplicate_run", Principal{Login: "github"}, map[string]any{
				"attempt": attempt, "runId": runID, "duplicates": dups})
		}
		r.Runs = next
	})
	if err != nil {
		return nil, err
	}
	if rejected != 0 {
		p.log.WarnContext(ctx, "tfpilot: a second run for one attempt; not attached, not indexed", "request", id, "kind", kind, "attempt", attempt, "run", runID, "attached", rejected)
		p.event(ctx, id, string(kind)+"_duplicate_run", Principal{Login: "github"}, map[string]any{
			"attempt": attempt, "runId": rejected, "duplicates": []int64{runID}})
		return r, nil
	}
	if a, ok := attemptByNumber(r.Runs, kind, attempt); !ok || a.RunID != runID {
		return r, nil
	}
	if err := p.store.IndexRun(ctx, kind, runID, id); err != nil {
		return r, fmt.Errorf("tfpilot: index %s run %d of %q: %w", kind, runID, id, err)
	}
	return r, nil
}

func attemptByNumber(s runs.State, k runs.Kind, n int) (runs.Attempt, bool) {
	for _, a := range s.Op(k).Attempts {
		if a.Attempt == n {
			return a, true
		}
	}
	return runs.Attempt{}, false
}

// definitive reports whether GitHub certainly did not start a run.
func definitive(err error) bool {
	return errors.Is(err, githubx.ErrNotFound) || errors.Is(err, githubx.ErrInvalid) ||
		errors.Is(err, githubx.ErrUnauthorized) || errors.Is(err, githubx.ErrForbidden)
}

// githubErr records a rate limit and returns err, wrapped with
// [ErrUnavailable] when GitHub could not be reached, failed or is rate
// limiting.
func (p *Pilot) githubErr(ctx context.Context, err error) error {
	p.rateLimited(ctx, err)
	return unavailable(err)
}

// rateLimited stores GitHub's backoff so every process (and Get's poll
// interval) honours it.
func (p *Pilot) rateLimited(ctx context.Context, err error) {
	var rl *githubx.RateLimitError
	if !errors.As(err, &rl) {
		return
	}
	if serr := p.store.SetRateLimitBackoff(ctx, RateLimitBackoff{Scope: "global", Until: rl.Reset, Reason: rl.Error()}); serr != nil {
		p.log.WarnContext(ctx, "tfpilot: rate-limit backoff not stored", "err", serr)
	}
}

func repoOf(r *Request) githubx.Repo { return githubx.Repo{Owner: r.TargetOwner, Name: r.TargetRepo} }
