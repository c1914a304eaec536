package tfpilot

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
)

// View is a request as a client sees it: the document, its derived
// status, and how long to wait before polling it again.
type View struct {
	Request *Request
	Status  lifecycle.Status
	// NextPoll is the polling interval for this status (0: stop polling).
	NextPoll time.Duration
	// Archived is true for a request moved to history after its destroy.
	Archived bool
	// LockExpired is true when the request carries a lock past its expiry:
	// its holder died (or could not release it) before finishing. It
	// blocks nothing; the next operation takes the lock over, and Sync
	// clears it.
	LockExpired bool
}

func (p *Pilot) view(ctx context.Context, r *Request, archived bool) View {
	now := p.now()
	return p.viewAt(r, archived, now, p.rateLimitedAt(ctx, now))
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

// ViewOf returns the View of r as Get would.
func (p *Pilot) ViewOf(ctx context.Context, r *Request) View { return p.view(ctx, r, false) }

// ViewsOf returns the Views of live requests rs (a List page) as Get
// would, reading the shared rate-limit backoff once for all of them.
func (p *Pilot) ViewsOf(ctx context.Context, rs []*Request) []View {
	now := p.now()
	rl := p.rateLimitedAt(ctx, now)
	out := make([]View, len(rs))
	for i, r := range rs {
		out[i] = p.viewAt(r, false, now, rl)
	}
	return out
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
		return p.store.ListRequests(ctx, q)
	}
	return p.listDerived(ctx, q)
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
			return ListPage{Requests: out, NextCursor: page.NextCursor}, nil
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
