package tfpilot

import (
	"context"
	"errors"
	"fmt"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/tfoutput"
	"github.com/tfpilot/tfpilot/webhook"
)

// The lifecycle events of drift checks, as the original TfPilot named
// them, plus drift_check_failed for a check that found nothing out.
const (
	EventDriftCheckStarted = "drift_check_started"
	EventDriftDetected     = "drift_detected"
	EventDriftCleared      = "drift_cleared"
	EventDriftCheckFailed  = "drift_check_failed"
)

// classifyDrift returns the result of a drift check whose run has
// conclusion ("" while it runs) and output (nil until read).
func classifyDrift(conclusion string, output *tfoutput.Summary) DriftResult {
	switch conclusion {
	case "":
		return DriftPending
	case runs.ConclusionSuccess:
		return DriftNone
	case "failure":
		if output != nil && (output.State == tfoutput.StateFailed) {
			return DriftError // Terraform failed: no plan, so no verdict
		}
		return DriftDetected
	}
	return DriftError // cancelled, timed_out, startup_failure, ...
}

// driftEvent is the lifecycle event that reports a check's result.
func driftEvent(res DriftResult) string {
	switch res {
	case DriftNone:
		return EventDriftCleared
	case DriftDetected:
		return EventDriftDetected
	case DriftError:
		return EventDriftCheckFailed
	}
	return ""
}

// patchDrift applies run facts f of run runID to d and returns the
// event to record when they decided its result, and whether d changed.
// A check whose result is decided takes no more facts.
func patchDrift(d *DriftCheck, runID int64, f runs.RunFacts) (event string, changed bool) {
	if d.Result != DriftPending {
		return "", false
	}
	if d.RunID == 0 && runID != 0 {
		d.RunID, changed = runID, true
	}
	if f.HTMLURL != "" && d.URL != f.HTMLURL {
		d.URL, changed = f.HTMLURL, true
	}
	if f.Status != "" && d.Status != f.Status {
		d.Status, changed = f.Status, true
	}
	if f.Conclusion != "" && f.Status == runs.StatusCompleted {
		d.Conclusion, d.CompletedAt = f.Conclusion, f.CompletedAt
		if d.CompletedAt.IsZero() {
			d.CompletedAt = f.UpdatedAt
		}
		d.Result, changed = classifyDrift(d.Conclusion, d.Output), true
		return driftEvent(d.Result), true
	}
	return "", changed
}

// driftData is the data of a drift event.
func driftData(d *DriftCheck) map[string]any {
	data := map[string]any{"runId": d.RunID, "result": string(d.Result)}
	if d.Conclusion != "" {
		data["conclusion"] = d.Conclusion
	}
	if d.Output != nil && d.Output.Counts != nil {
		data["counts"] = *d.Output.Counts
	}
	return data
}

// StartDriftCheck dispatches the drift workflow (Config.Workflows' Drift,
// drift-plan.yml) for an applied request on its base branch, with the
// inputs the workflow declares: request_id and tfpilot_nonce. The check
// is recorded on [Request.Drift] with event "drift_check_started" before
// the dispatch (the crash-safe order of every dispatch); its run is then
// followed by the webhook or Sync, which record the result
// ("drift_detected", "drift_cleared" or "drift_check_failed").
//
// It needs [ActionDriftCheck] and a request whose derived status is
// applied (else a [*GateError]). While a check is pending it returns the
// request unchanged, so a scheduler may call it on every tick; a pending
// check whose dispatch GitHub never confirmed is given up (result error)
// by Sync after Config.DispatchGrace.
func (p *Pilot) StartDriftCheck(ctx context.Context, c Caller, id string) (View, error) {
	r, err := p.store.GetRequest(ctx, id)
	if err != nil {
		return View{}, err
	}
	if r.Drift != nil && r.Drift.Result == DriftPending {
		if err := p.cfg.Authorizer.Authorize(ctx, c.Principal, ActionDriftCheck, r); err != nil {
			return View{}, err
		}
		return p.view(ctx, r, false), nil
	}
	gates := func(r *Request) error {
		if st := p.cfg.Rules.Derive(r.Facts(), p.now()); st != lifecycle.Applied {
			return gate(ActionDriftCheck, "the request is %s, not applied", st)
		}
		return nil
	}
	return p.operation(ctx, c, ActionDriftCheck, id, nil, gates, func(ctx context.Context, r *Request, h string) (*Request, error) {
		if r.Drift != nil && r.Drift.Result == DriftPending {
			return r, nil // started by a concurrent call
		}
		nonce := newToken(20)
		r, err := p.mutateHeld(ctx, id, h, func(r *Request) error {
			r.Drift = &DriftCheck{Nonce: nonce, Actor: c.Principal.Login, StartedAt: p.now(), Result: DriftPending}
			p.stage(r, EventDriftCheckStarted, c.Principal, map[string]any{"ref": r.TargetBase})
			return nil
		})
		if err != nil {
			return nil, err
		}
		dctx, cancel := context.WithTimeout(ctx, p.cfg.LockTTL/2)
		defer cancel()
		res, err := p.gh.Dispatch(dctx, repoOf(r), githubx.DispatchRequest{
			Workflow: p.cfg.Workflows.File(githubx.WorkflowDrift),
			Ref:      r.TargetBase,
			Inputs:   map[string]string{runs.InputRequestID: id},
			Nonce:    nonce,
		})
		if err != nil {
			p.rateLimited(ctx, err)
			if !definitive(err) {
				return r, fmt.Errorf("tfpilot: drift check dispatch for %q not confirmed; Sync will find its run: %w", id, err)
			}
			if _, ferr := p.mutateHeld(ctx, id, h, func(r *Request) error {
				if r.Drift != nil && r.Drift.Nonce == nonce && r.Drift.Result == DriftPending {
					r.Drift.Result = DriftError
					p.stage(r, EventDriftCheckFailed, c.Principal, map[string]any{"error": err.Error()})
				}
				return nil
			}); ferr != nil {
				p.log.WarnContext(ctx, "tfpilot: refused drift dispatch not recorded", "request", id, "err", ferr)
			}
			return nil, fmt.Errorf("tfpilot: drift check dispatch for %q refused by GitHub: %w", id, err)
		}
		if res.RunID == 0 {
			return r, nil // accepted; the webhook or Sync attaches the run
		}
		return p.patchDriftRun(ctx, id, nonce, res.RunID, runs.RunFacts{ID: res.RunID, HTMLURL: res.HTMLURL})
	})
}

// patchDriftRun applies run facts to request id's drift check if it is
// still the one with nonce, staging the result's event.
func (p *Pilot) patchDriftRun(ctx context.Context, id, nonce string, runID int64, f runs.RunFacts) (*Request, error) {
	return p.patch(ctx, id, func(r *Request) {
		if r.Drift == nil || r.Drift.Nonce != nonce || (r.Drift.RunID != 0 && r.Drift.RunID != runID) {
			return
		}
		d := *r.Drift
		ev, changed := patchDrift(&d, runID, f)
		if !changed {
			return
		}
		r.Drift = &d
		if ev != "" {
			p.stage(r, ev, Principal{Login: "github"}, driftData(&d))
		}
	})
}

// syncDrift follows r's pending drift check on GitHub: the run by its id,
// or by its nonce until then (given up as an error once no run carries
// the nonce after Config.DispatchGrace); and reads a completed check's
// output. Failures are logged and left to the next Sync; it returns the
// request as last written.
func (p *Pilot) syncDrift(ctx context.Context, r *Request) *Request {
	d := r.Drift
	if d == nil {
		return r
	}
	repo := repoOf(r)
	if d.Result == DriftPending {
		var run githubx.Run
		var err error
		if d.RunID != 0 {
			run, err = p.gh.GetRun(ctx, repo, d.RunID, githubx.BypassCache())
		} else {
			var found []githubx.Run
			found, err = p.gh.FindRuns(ctx, repo, p.cfg.Workflows.File(githubx.WorkflowDrift), d.Nonce, githubx.BypassCache())
			switch {
			case err == nil && len(found) > 0:
				run = found[0]
			case err == nil && p.now().Sub(d.StartedAt) > p.cfg.DispatchGrace:
				nr, perr := p.patch(ctx, r.ID, func(r *Request) {
					if r.Drift != nil && r.Drift.Nonce == d.Nonce && r.Drift.RunID == 0 && r.Drift.Result == DriftPending {
						r.Drift.Result = DriftError
						p.stage(r, EventDriftCheckFailed, Principal{Login: "sync"}, map[string]any{"error": "no run carries the dispatch nonce"})
					}
				})
				if perr == nil {
					return nr
				}
				err = perr
			case err == nil:
				return r // GitHub may not list the run yet
			}
		}
		if err != nil {
			p.rateLimited(ctx, err)
			p.log.WarnContext(ctx, "tfpilot: drift run not read; the next Sync tries again", "request", r.ID, "err", err)
			return r
		}
		nr, err := p.patchDriftRun(ctx, r.ID, d.Nonce, run.ID, RunFactsOf(run))
		if err != nil {
			p.log.WarnContext(ctx, "tfpilot: drift run not stored", "request", r.ID, "err", err)
			return r
		}
		r = nr
	}
	return p.captureDriftOutput(ctx, r)
}

// captureDriftOutput reads the log of r's completed drift check, once,
// and records its summary. A drift plan whose log shows Terraform failing
// (no plan) turns a "drifted" verdict into an error, with event
// drift_check_failed.
func (p *Pilot) captureDriftOutput(ctx context.Context, r *Request) *Request {
	d := r.Drift
	if d == nil || d.RunID == 0 || d.Result == DriftPending || d.Output != nil {
		return r
	}
	out, err := p.readOutput(ctx, repoOf(r), d.RunID) // output.go
	if err != nil {
		p.rateLimited(ctx, err)
		p.log.WarnContext(ctx, "tfpilot: drift run output not read; the next Sync tries again", "request", r.ID, "run", d.RunID, "err", err)
		return r
	}
	nr, err := p.patch(ctx, r.ID, func(r *Request) {
		if r.Drift == nil || r.Drift.RunID != d.RunID || r.Drift.Output != nil {
			return
		}
		nd := *r.Drift
		nd.Output = out
		if res := classifyDrift(nd.Conclusion, out); res != nd.Result && nd.Result == DriftDetected {
			nd.Result = res
			data := driftData(&nd)
			data["errors"] = out.Errors
			p.stage(r, driftEvent(res), Principal{Login: "github"}, data)
		}
		r.Drift = &nd
	})
	if err != nil {
		p.log.WarnContext(ctx, "tfpilot: drift run output not stored", "request", r.ID, "err", err)
		return r
	}
	return nr
}

// driftOutputSink reads a drift run's output as soon as the webhook says
// it completed (see outputSink for plan, apply and destroy runs).
type driftOutputSink struct {
	webhook.Sink
	p *Pilot
}

// HandleWorkflowRun applies the delivery with the wrapped sink, then, for
// a completed drift run, reads its output (best effort: Sync retries).
func (s driftOutputSink) HandleWorkflowRun(ctx context.Context, ev webhook.WorkflowRunEvent) (string, error) {
	outcome, err := s.Sink.HandleWorkflowRun(ctx, ev)
	if err != nil || ev.Kind != webhook.KindDrift || ev.Action != "completed" {
		return outcome, err
	}
	id, _, ok := runs.ParseRunName(ev.RunName)
	if !ok || ValidateRequestID(id) != nil {
		return outcome, nil
	}
	if r, gerr := s.p.store.GetRequest(ctx, id); gerr == nil {
		s.p.captureDriftOutput(ctx, r)
	}
	return outcome, nil
}

// handleDriftRun records a drift run's facts on the request whose
// current drift check dispatched it (by the nonce in the run name, or by
// the run id once known). Runs of older checks, and drift runs tfpilot
// did not dispatch, change nothing.
func (s *WebhookSink) handleDriftRun(ctx context.Context, ev webhook.WorkflowRunEvent) (string, error) {
	id, nonce, ok := runs.ParseRunName(ev.RunName)
	if !ok || ValidateRequestID(id) != nil {
		return fmt.Sprintf("ignored: drift run %d names no request", ev.RunID), nil
	}
	out, err := s.update(ctx, id, ev.Sender, ev.DeliveryID, nil, false, func(r *Request) (*change, string) {
		if r.Drift == nil || r.Drift.Nonce != nonce || (r.Drift.RunID != 0 && r.Drift.RunID != ev.RunID) {
			return nil, fmt.Sprintf("%s: drift run %d is not the request's current drift check", id, ev.RunID)
		}
		d := *r.Drift
		event, changed := patchDrift(&d, ev.RunID, ev.Facts)
		summary := fmt.Sprintf("%s: drift run %d", id, ev.RunID)
		if !changed {
			return nil, summary + ": no change"
		}
		r.Drift = &d
		if event == "" {
			event = "drift_run_updated"
		}
		return &change{event: event, data: driftData(&d), outcome: summary + ": " + string(d.Result)}, ""
	})
	if gone(err) || errors.Is(err, ErrNotFound) {
		return fmt.Sprintf("%s: request not found", id), nil
	}
	return out, err
}
