package tfpilot

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
)

// View is a request as callers see it, and the one answer of every
// [Pilot] method about a request: the mutations (Create, UpdateConfig,
// Plan, Approve, Merge, Apply, Destroy, Cancel, Sync, StartDriftCheck)
// and the queries (Get, and List and DriftEligible, whose [ListPage]
// holds Views) alike. Status, NextPoll, Archived and LockExpired are
// derived at the moment the method returns, so an answer never needs a
// second read: Cancel's answer, and that of a Sync that archived a
// destroyed request, say Archived. An answer replayed for an idempotency
// key is the first answer's document with these derived anew.
//
// View embeds the stored document, *[Request], so its fields read as
// v.ID or v.PR (and v.Request.ID, as before, still works): a caller of a
// mutation keeps the field accesses it had when mutations answered
// *Request, and needs v.Request only where a *Request is wanted. The
// fields of View itself win over the document's methods of the same
// name (v.Status is the derived status, not [Request.Status]), and View
// has its own JSON encoding (see [View.MarshalJSON]) rather than the
// document's. The zero View, which a method answers with its error,
// has a nil Request.
type View struct {
	*Request
	Status lifecycle.Status
	// NextPoll is the polling interval for this status (0: stop polling).
	NextPoll time.Duration
	// Archived is true for a request moved to history: destroyed and
	// cleaned up, or cancelled.
	Archived bool
	// LockExpired is true when the request carries a lock past its expiry:
	// its holder died (or could not release it) before finishing. It
	// blocks nothing; the next operation takes the lock over, and Sync
	// clears it.
	LockExpired bool
}

// viewJSON is View's JSON encoding: each field under its name, the
// document under "Request", as encoding/json wrote View before it
// embedded the document.
type viewJSON struct {
	Request     *Request
	Status      lifecycle.Status
	NextPoll    time.Duration
	Archived    bool
	LockExpired bool
}

// MarshalJSON encodes v as an object with fields Request (the document),
// Status, NextPoll, Archived and LockExpired. (Without it, the embedded
// document's encoding would stand for the whole View and drop the
// derived fields.)
func (v View) MarshalJSON() ([]byte, error) {
	return json.Marshal(viewJSON{Request: v.Request, Status: v.Status, NextPoll: v.NextPoll, Archived: v.Archived, LockExpired: v.LockExpired})
}

// UnmarshalJSON decodes what [View.MarshalJSON] encodes.
func (v *View) UnmarshalJSON(b []byte) error {
	var j viewJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*v = View{Request: j.Request, Status: j.Status, NextPoll: j.NextPoll, Archived: j.Archived, LockExpired: j.LockExpired}
	return nil
}

// ListPage is one page of [Pilot.List] (and [Pilot.DriftEligible]):
// the requests as [View]s. It is the engine's page, not the store's:
// a store answers a [store.ListPage] of bare documents.
type ListPage struct {
	Requests []View
	// NextCursor continues the walk; empty on the last page.
	NextCursor string
}

// view returns the View of r at the Pilot's clock; archived says r was
// read from (or just moved to) history.
func (p *Pilot) view(ctx context.Context, r *Request, archived bool) View {
	now := p.now()
	return p.viewAt(r, archived, now, p.rateLimitedAt(ctx, now))
}

// answer is a mutation's answer: the View of r, or err.
func (p *Pilot) answer(ctx context.Context, r *Request, archived bool, err error) (View, error) {
	if err != nil {
		return View{}, err
	}
	return p.view(ctx, r, archived), nil
}

// rateLimitedAt reports whether the shared GitHub backoff is in force.
func (p *Pilot) rateLimitedAt(ctx context.Context, now time.Time) bool {
	b, err := p.store.GetRateLimitBackoff(ctx, "global")
	return err == nil && now.Before(b.Until)
}

func (p *Pilot) viewAt(r *Request, archived bool, now time.Time, rl bool) View {
	st := p.cfg.Rules.Derive(r.Facts(), now)
	v := View{Request: r, Status: st, NextPoll: p.cfg.Poll.Interval(st, lifecycle.PollView{RateLimited: rl}), Archived: archived,
		LockExpired: r.Lock != nil && r.Lock.Expired(now)}
	if archived {
		v.NextPoll = 0 // nothing happens to an archived (destroyed or cancelled) request
	}
	return v
}

// archivedNow reports whether request id is in history: not live, and
// archived. It is for answers replayed from an idempotency record, which
// hold the document but not where it is now.
func (p *Pilot) archivedNow(ctx context.Context, id string) bool {
	if _, err := p.store.GetRequest(ctx, id); !errors.Is(err, ErrNotFound) {
		return false
	}
	_, err := p.store.GetArchivedRequest(ctx, id)
	return err == nil
}

// Get returns request id (live or archived) with its derived status and
// next poll interval.
func (p *Pilot) Get(ctx context.Context, who Principal, id string) (View, error) {
	r, err := p.store.GetRequest(ctx, id)
	archived := false
	if errors.Is(err, ErrNotFound) {
		if ar, aerr := p.store.GetArchivedRequest(ctx, id); aerr == nil {
			r, err, archived = ar, nil, true
		}
	}
	if err != nil {
		return View{}, err
	}
	if err := p.cfg.Authorizer.Authorize(ctx, who, ActionRead, r); err != nil {
		return View{}, err
	}
	return p.view(ctx, r, archived), nil
}

// List returns a page of live requests, newest first. A status filter
// keeps the requests whose status, derived as Get derives it (with
// Config.Rules at the Pilot's clock), is one of q.Statuses. Stores keep
// only the clock-free [lifecycle.IndexStatus], so List asks the store
// for the statuses that may derive into the wanted ones
// ([lifecycle.IndexStatuses]: a destroy in flight is destroying or, once
// stale, failed) and re-derives each request at read time, reading on
// until the page is full or the requests run out. A page is short only
// when it is the last; a full page's NextCursor may lead to an empty
// last page.
func (p *Pilot) List(ctx context.Context, who Principal, q ListQuery) (ListPage, error) {
	if err := p.cfg.Authorizer.Authorize(ctx, who, ActionRead, nil); err != nil {
		return ListPage{}, err
	}
	if len(q.Statuses) == 0 {
		page, err := p.store.ListRequests(ctx, q)
		if err != nil {
			return ListPage{}, err
		}
		return ListPage{Requests: p.views(ctx, page.Requests, p.now()), NextCursor: page.NextCursor}, nil
	}
	return p.listDerived(ctx, q)
}

// views returns the Views of live requests rs at now, reading the shared
// rate-limit backoff once for all of them.
func (p *Pilot) views(ctx context.Context, rs []*Request, now time.Time) []View {
	rl := p.rateLimitedAt(ctx, now)
	out := make([]View, len(rs))
	for i, r := range rs {
		out[i] = p.viewAt(r, false, now, rl)
	}
	return out
}

// listDerived implements List with a status filter. Each store call asks
// for no more requests than the page still needs, so every request the
// store returns is either on the page or filtered out, and the store's
// cursor continues exactly after the page.
func (p *Pilot) listDerived(ctx context.Context, q ListQuery) (ListPage, error) {
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = DefaultPageSize
	case limit > MaxPageSize:
		limit = MaxPageSize
	}
	want := q.Statuses
	sq := q
	sq.Statuses = lifecycle.IndexStatuses(want)
	now := p.now()
	out := []*Request{}
	for {
		sq.Limit = limit - len(out)
		page, err := p.store.ListRequests(ctx, sq)
		if err != nil {
			return ListPage{}, err
		}
		for _, r := range page.Requests {
			if slices.Contains(want, p.cfg.Rules.Derive(r.Facts(), now)) {
				out = append(out, r)
			}
		}
		if page.NextCursor == "" || len(out) >= limit {
			return ListPage{Requests: p.views(ctx, out, now), NextCursor: page.NextCursor}, nil
		}
		sq.Cursor = page.NextCursor
	}
}

// Events returns a request's lifecycle events in time order.
func (p *Pilot) Events(ctx context.Context, who Principal, id string) ([]Event, error) {
	if _, err := p.Get(ctx, who, id); err != nil {
		return nil, err
	}
	return p.store.ListEvents(ctx, id)
}

// Cost returns the infracost documents a workflow uploaded for a request.
func (p *Pilot) Cost(ctx context.Context, who Principal, id string) (Cost, error) {
	if _, err := p.Get(ctx, who, id); err != nil {
		return Cost{}, err
	}
	return p.store.GetCost(ctx, id)
}

// DriftEligible returns a page of applied requests, the ones a drift
// check should look at, filtered by q's project and environment.
func (p *Pilot) DriftEligible(ctx context.Context, who Principal, q ListQuery) (ListPage, error) {
	q.Statuses = []lifecycle.Status{lifecycle.Applied}
	return p.List(ctx, who, q)
}

// Insights computes operational metrics over every live request (see
// [ComputeInsights]).
func (p *Pilot) Insights(ctx context.Context, who Principal) (Insights, error) {
	if err := p.cfg.Authorizer.Authorize(ctx, who, ActionRead, nil); err != nil {
		return Insights{}, err
	}
	return ComputeInsightsWith(ctx, p.store, p.cfg.Rules, p.now())
}
