package tfpilot

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/tfpilot/tfpilot/lock"
	"github.com/tfpilot/tfpilot/runs"
)

// MaxCancelReasonLength bounds the reason of [Pilot.Cancel], in
// characters.
const MaxCancelReasonLength = 1000

// Cancel gives up a request that will not be applied: it records the
// cancellation (event "request_cancelled"), closes the request's pull
// request without merging it (event "pr_closed"; the branch stays) and
// archives the request (event "request_archived"). Its lifecycle status
// is still derived from its facts; [Request.Cancelled] says it was
// cancelled.
//
// It is refused with a [*GateError] once an apply or destroy was
// dispatched or the pull request merged (Destroy is the way back then),
// and with [ErrLocked] while another operation holds the request. It
// needs [ActionCancel]. Cancelling a cancelled request returns it
// unchanged; the idempotency key replays the first answer. Each step is
// recorded before the next, so a call that fails half-way (GitHub down)
// is finished by calling Cancel again or by Sync, and no other
// operation but Sync takes a cancelled request's lock meanwhile.
func (p *Pilot) Cancel(ctx context.Context, c Caller, id, reason string) (View, error) {
	if utf8.RuneCountInString(reason) > MaxCancelReasonLength || !utf8.ValidString(reason) {
		return View{}, &ValidationError{Violations: []FieldViolation{{Field: "reason",
			Description: fmt.Sprintf("must be valid UTF-8 of at most %d characters", MaxCancelReasonLength)}}}
	}
	if _, err := p.store.GetRequest(ctx, id); errors.Is(err, ErrNotFound) {
		ar, aerr := p.store.GetArchivedRequest(ctx, id)
		if aerr != nil {
			return View{}, err
		}
		if err := p.cfg.Authorizer.Authorize(ctx, c.Principal, ActionCancel, ar); err != nil {
			return View{}, err
		}
		operation := scoped(string(ActionCancel)+":"+id, c.Principal) // as operation keys it
		if prev, err := p.replay(ctx, operation, c.IdempotencyKey, fingerprint(ActionCancel, id, c.Principal.Login, reason)); err != nil || prev != nil {
			return p.answer(ctx, prev, true, err)
		}
		if ar.Cancelled == nil {
			return View{}, gate(ActionCancel, "the request is archived (destroyed)")
		}
		return p.view(ctx, ar, true), nil // cancelled before: the same answer
	}
	return p.archivingOperation(ctx, c, ActionCancel, id, reason, cancelGate, func(ctx context.Context, r *Request, h string) (*Request, bool, error) {
		var err error
		if r.Cancelled == nil {
			r, err = p.mutateHeld(ctx, id, h, func(r *Request) error {
				r.Cancelled = &Cancellation{Actor: c.Principal.Login, Reason: reason, At: p.now()}
				p.stage(r, "request_cancelled", c.Principal, map[string]any{"reason": reason})
				return nil
			})
			if err != nil {
				return nil, false, err
			}
		}
		return p.finishCancel(ctx, r, h, c.Principal)
	})
}

// cancelGate refuses to cancel a request whose change may have reached
// the infrastructure.
func cancelGate(r *Request) error {
	switch {
	case r.Cancelled != nil:
		return nil // an interrupted cancel: finish it
	case merged(r):
		return gate(ActionCancel, "the pull request is merged; destroy removes what it applies")
	case len(r.Runs.Op(runs.Apply).Attempts) > 0:
		return gate(ActionCancel, "an apply was dispatched; destroy removes what it applied")
	case len(r.Runs.Op(runs.Destroy).Attempts) > 0:
		return gate(ActionCancel, "a destroy was dispatched")
	}
	return nil
}

// finishCancel completes the cancellation of r, whose lock h holds and
// whose Cancelled is set: it closes the pull request, drops the lock and
// archives the request. Cancel and Sync call it; every step is done once
// whatever step an earlier call stopped after. It returns the archived
// request (archived true), or the live one when a concurrent write kept
// it from being archived (Sync archives it later).
func (p *Pilot) finishCancel(ctx context.Context, r *Request, h string, who Principal) (_ *Request, archived bool, _ error) {
	id := r.ID
	if r.PR != nil && r.PR.Open && !r.PR.Merged {
		pr, err := p.gh.ClosePR(ctx, repoOf(r), r.PR.Number)
		if err != nil {
			return nil, false, fmt.Errorf("tfpilot: close pull request #%d of %q: %w", r.PR.Number, id, err)
		}
		if pr.Merged {
			// Someone merged it on GitHub first: the change goes ahead, so
			// the cancellation cannot stand.
			if _, err := p.mutateHeld(ctx, id, h, func(r *Request) error {
				r.Cancelled = nil
				if r.PR != nil {
					r.PR.Open, r.PR.Merged = false, true
				}
				p.stage(r, "cancel_refused", who, map[string]any{"reason": "the pull request was merged on GitHub"})
				return nil
			}); err != nil {
				return nil, false, err
			}
			return nil, false, gate(ActionCancel, "pull request #%d was merged on GitHub", pr.Number)
		}
		if _, err := p.mutateHeld(ctx, id, h, func(r *Request) error {
			if r.PR != nil && r.PR.Open {
				r.PR.Open = false
				p.stage(r, "pr_closed", who, map[string]any{"number": r.PR.Number, "reason": "cancelled"})
			}
			return nil
		}); err != nil {
			return nil, false, err
		}
	}
	// The archived copy holds no lock: drop it in the last write, and
	// archive exactly that version.
	r, err := Mutate(ctx, p.store, id, func(r *Request) error {
		l, err := lock.Release(r.Lock, h, p.now())
		if err != nil {
			return fmt.Errorf("%w: lost the lock: %w", ErrLocked, err)
		}
		r.Lock = l
		r.UpdatedAt = p.now()
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	r = flush(ctx, p.store, p.log, r)
	if err := p.store.ArchiveRequest(ctx, id, r.Version); err != nil {
		if errors.Is(err, ErrConflict) {
			r, err := p.store.GetRequest(ctx, id)
			return r, false, err
		}
		return nil, false, err
	}
	p.event(ctx, id, "request_archived", who, map[string]any{"reason": "cancelled"})
	ar, err := p.store.GetArchivedRequest(ctx, id)
	return ar, err == nil, err
}
