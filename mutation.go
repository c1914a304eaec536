package tfpilot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot/lock"
)

// fingerprint identifies an operation's input for idempotency: the same
// key with a different fingerprint is refused.
func fingerprint(parts ...any) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, p := range parts {
		_ = enc.Encode(p) // map keys are sorted, so the encoding is stable
	}
	return hex.EncodeToString(h.Sum(nil))
}

// replay returns the stored answer for (operation, key) when the call was
// made before with the same fingerprint, ErrIdempotencyKeyReused when it
// was made with another, and (nil, nil) when it is new.
func (p *Pilot) replay(ctx context.Context, operation, key, fp string) (*Request, error) {
	if key == "" {
		return nil, nil
	}
	rec, err := p.store.GetIdempotency(ctx, operation, key)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case rec.Fingerprint != fp:
		return nil, fmt.Errorf("%w: key %q of %s", ErrIdempotencyKeyReused, key, operation)
	}
	var r Request
	if err := json.Unmarshal(rec.Response, &r); err != nil {
		return nil, fmt.Errorf("tfpilot: decode stored answer of %s key %q: %w", operation, key, err)
	}
	return &r, nil
}

// scoped is operation within the caller's idempotency key space: keys are
// per principal, so one caller's key never replays or blocks another's.
func scoped(operation string, who Principal) string { return operation + "@" + who.Login }

// remember stores the answer to (operation, key) for the idempotency
// window. Failing to remember is logged, not returned: the operation
// itself succeeded, and a repeat is still guarded by locks and gates.
func (p *Pilot) remember(ctx context.Context, operation, key, fp string, r *Request) {
	if key == "" {
		return
	}
	body, err := json.Marshal(r)
	if err == nil {
		now := p.now()
		err = p.store.PutIdempotency(ctx, IdempotencyRecord{
			Operation: operation, Key: key, Fingerprint: fp, RequestID: r.ID,
			Response: body, CreatedAt: now, ExpiresAt: now.Add(p.cfg.IdempotencyWindow),
		})
	}
	if err != nil && !errors.Is(err, ErrAlreadyExists) {
		p.log.WarnContext(ctx, "tfpilot: idempotency record not stored", "operation", operation, "request", r.ID, "err", err)
	}
}

// holder names the lock holder of one operation call: unique per call,
// so two concurrent calls by the same user do not share a lock.
func holder(who Principal, op Action) string {
	return fmt.Sprintf("%s/%s/%s", who.Login, op, newToken(10))
}

// acquire takes request id's lock for op as h, after check accepts the
// current document (gates are checked on the same read the lock is
// taken on). A lock held by someone else is ErrLocked.
func (p *Pilot) acquire(ctx context.Context, id string, op Action, h string, check func(*Request) error) (*Request, error) {
	return Mutate(ctx, p.store, id, func(r *Request) error {
		if r.Cancelled != nil && op != ActionCancel && op != ActionSync {
			return gate(op, "the request was cancelled") // cancel.go: Cancel or Sync finish it
		}
		if check != nil {
			if err := check(r); err != nil {
				return err
			}
		}
		l, err := lock.Acquire(r.Lock, h, string(op), p.cfg.LockTTL, p.now())
		if err != nil {
			return fmt.Errorf("%w: %w", ErrLocked, err)
		}
		r.Lock = l
		return nil
	})
}

// Release retries: a failed release (the store unreachable for a moment)
// is retried with exponential backoff from releaseFirstWait, doubling up
// to releaseMaxWait, at most releaseTries times and within the 10 s of
// [background], so a one-second database blip does not leave the request
// locked for the full LockTTL.
const (
	releaseTries     = 8
	releaseFirstWait = 50 * time.Millisecond
	releaseMaxWait   = 2 * time.Second
)

// release drops h's lock on request id. It runs even when the operation's
// context was cancelled, retrying a failed write with bounded backoff; a
// release that still fails leaves the lock to expire (it then shows as
// expired, see [View.LockExpired], and blocks nothing).
func (p *Pilot) release(ctx context.Context, id, h string) {
	ctx, cancel := background(ctx)
	defer cancel()
	wait := releaseFirstWait
	for try := 1; ; try++ {
		r, err := Mutate(ctx, p.store, id, func(r *Request) error {
			l, err := lock.Release(r.Lock, h, p.now())
			if err != nil {
				return err
			}
			r.Lock = l
			return nil
		})
		switch {
		case err == nil:
			flush(ctx, p.store, p.log, r)
			return
		case errors.Is(err, ErrNotFound), errors.Is(err, lock.ErrConflict):
			return // gone (archived), or the lock expired and someone else holds it now
		case try >= releaseTries || sleep(ctx, wait) != nil:
			p.log.WarnContext(ctx, "tfpilot: lock not released; it expires on its own", "request", id, "tries", try, "err", err)
			return
		}
		wait = min(2*wait, releaseMaxWait)
	}
}

// sleep waits d or until ctx is done. It is for retry backoff, which
// waits real time whatever the configured clock says.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// mutateHeld applies fn to request id while h holds its lock, renewing
// the lock. If h lost the lock (it expired and someone else took it),
// it fails with ErrLocked and writes nothing. Events fn stages with
// [Pilot.stage] are written with the change and flushed after it.
func (p *Pilot) mutateHeld(ctx context.Context, id, h string, fn func(*Request) error) (*Request, error) {
	r, err := Mutate(ctx, p.store, id, func(r *Request) error {
		l, err := lock.Renew(r.Lock, h, p.cfg.LockTTL, p.now())
		if err != nil {
			return fmt.Errorf("%w: lost the lock: %w", ErrLocked, err)
		}
		r.Lock = l
		if err := fn(r); err != nil {
			return err
		}
		r.UpdatedAt = p.now()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return flush(ctx, p.store, p.log, r), nil
}

// patch applies fn to request id with [Mutate] and stamps UpdatedAt only
// when fn changed the document, so a patch that changes nothing still
// writes nothing. It is for facts learned from GitHub, which need no lock.
// Events fn stages with [Pilot.stage] are written with the change and
// flushed after it.
func (p *Pilot) patch(ctx context.Context, id string, fn func(*Request)) (*Request, error) {
	r, err := Mutate(ctx, p.store, id, func(r *Request) error {
		before, err := r.CanonicalJSON()
		if err != nil {
			return err
		}
		fn(r)
		after, err := r.CanonicalJSON()
		if err != nil {
			return err
		}
		if !bytes.Equal(before, after) {
			now := p.now()
			r.UpdatedAt = now
			// An expired lock is no lock: a write that happens anyway
			// drops the one a dead holder left.
			if r.Lock != nil && r.Lock.Expired(now) {
				r.Lock = nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return flush(ctx, p.store, p.log, r), nil
}

// event appends a lifecycle event at once, outside any write. A failed
// append is logged and the event is lost: use it only for events that
// describe no change of the document. An event that describes a change
// is staged with [Pilot.stage] inside the write that makes the change
// (see outbox.go), which records it exactly once and survives a crash.
//
// The event's id places it after the events staged by the writes up to
// the request's current version, so that events sharing a timestamp list
// in the order they happened (see afterVersionID).
func (p *Pilot) event(ctx context.Context, requestID, name string, who Principal, data map[string]any) {
	e := Event{RequestID: requestID, Event: name, Timestamp: p.now(), Actor: who.Login, Source: "tfpilot", Data: data}
	if r, err := p.store.GetRequest(ctx, requestID); err == nil {
		e.ID = afterVersionID(e.Timestamp, r.Version)
	}
	_, err := p.store.AppendEvent(ctx, e)
	if err != nil {
		p.log.WarnContext(ctx, "tfpilot: lifecycle event not stored", "request", requestID, "event", name, "err", err)
	}
}

// operation runs a locked mutation: authorize → idempotency replay →
// lock (with gates checked on the locked read) → work → release →
// remember the answer. work receives the locked document and the lock
// holder and returns the final document.
func (p *Pilot) operation(ctx context.Context, c Caller, op Action, id string, input any,
	gates func(*Request) error, work func(ctx context.Context, r *Request, h string) (*Request, error)) (View, error) {
	return p.archivingOperation(ctx, c, op, id, input, gates, func(ctx context.Context, r *Request, h string) (*Request, bool, error) {
		r, err := work(ctx, r, h)
		return r, false, err
	})
}

// archivingOperation is operation for work that may archive the request
// (Cancel): work also says whether the document it returns is the
// archived one, and the answer then says [View.Archived].
func (p *Pilot) archivingOperation(ctx context.Context, c Caller, op Action, id string, input any,
	gates func(*Request) error, work func(ctx context.Context, r *Request, h string) (*Request, bool, error)) (View, error) {
	r, err := p.store.GetRequest(ctx, id)
	if err != nil {
		return View{}, err
	}
	if err := p.cfg.Authorizer.Authorize(ctx, c.Principal, op, r); err != nil {
		return View{}, err
	}
	operation := scoped(string(op)+":"+id, c.Principal)
	fp := fingerprint(op, id, c.Principal.Login, input)
	if prev, err := p.replay(ctx, operation, c.IdempotencyKey, fp); err != nil || prev != nil {
		// The request was live just now: a replay answers it as live.
		return p.answer(ctx, prev, false, err)
	}
	h := holder(c.Principal, op)
	locked, err := p.acquire(ctx, id, op, h, gates)
	if err != nil {
		return View{}, err
	}
	out, archived, err := work(ctx, locked, h)
	p.release(ctx, id, h)
	if err != nil {
		return View{}, p.githubErr(ctx, err)
	}
	// Answer with the document after release (an archived one holds no
	// lock to release).
	if !archived {
		if fresh, gerr := p.store.GetRequest(ctx, id); gerr == nil {
			out = fresh
		}
	}
	p.remember(ctx, operation, c.IdempotencyKey, fp, out)
	return p.view(ctx, out, archived), nil
}
