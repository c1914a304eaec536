package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/internal/listquery"
)

// Options configures a [Store]. A nil *Options means the defaults.
type Options struct {
	// Now is the store's clock: it stamps creations, claims and events,
	// and decides idempotency expiry. (The status kept for list filters,
	// [lifecycle.IndexStatus], needs no clock.) Default: time.Now.
	Now func() time.Time
}

// Store is an in-memory [store.Store]. The zero value is not usable;
// call [New]. A Store is safe for concurrent use.
type Store struct {
	now func() time.Time

	mu         sync.Mutex
	requests   map[string]*stored
	archived   map[string]*store.Request
	events     map[string][]storedEvent
	eventSeq   int64
	runIndex   map[runKey]string
	prIndex    map[store.PRRef]string
	deliveries map[string]store.Delivery
	idem       map[idemKey]store.IdempotencyRecord
	backoffs   map[string]store.RateLimitBackoff
	costs      map[string]store.Cost
	leases     map[string]store.Lease // lease.go; made on first use
	insights   insightsIndex          // insights.go
}

// stored is a live request with what was derived at its last write: its
// clock-free [lifecycle.IndexStatus], which status filters match.
type stored struct {
	req    *store.Request
	doc    []byte // canonical JSON encoding with Version zeroed
	status lifecycle.Status
	facts  store.InsightFacts // what it adds to insights (insights.go)
}

// storedEvent keeps Data as JSON so that no caller map is shared.
type storedEvent struct {
	ev   store.Event
	data []byte
}

type runKey struct {
	kind  runs.Kind
	runID int64
}

type idemKey struct{ operation, key string }

var _ store.Store = (*Store)(nil)

// New returns an empty Store configured by opts (nil for the defaults).
func New(opts *Options) *Store {
	s := &Store{
		now:        time.Now,
		requests:   make(map[string]*stored),
		archived:   make(map[string]*store.Request),
		events:     make(map[string][]storedEvent),
		runIndex:   make(map[runKey]string),
		prIndex:    make(map[store.PRRef]string),
		deliveries: make(map[string]store.Delivery),
		idem:       make(map[idemKey]store.IdempotencyRecord),
		backoffs:   make(map[string]store.RateLimitBackoff),
		costs:      make(map[string]store.Cost),
	}
	if opts != nil && opts.Now != nil {
		s.now = opts.Now
	}
	return s
}

// GetRequest implements [store.RequestStore].
func (s *Store) GetRequest(ctx context.Context, id string) (*store.Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: get request %q: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.requests[id]
	if !ok {
		return nil, fmt.Errorf("memstore: get request %q: %w", id, store.ErrNotFound)
	}
	return e.req.Clone(), nil
}

// CreateRequest implements [store.RequestStore]: [store.PrepareCreate]
// and an insert under the lock.
func (s *Store) CreateRequest(ctx context.Context, r *store.Request) (*store.Request, error) {
	w, err := store.PrepareCreate(r, s.now())
	if err != nil {
		return nil, fmt.Errorf("memstore: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: create request %q: %w", r.ID, err)
	}
	doc, err := w.Canonical()
	if err != nil {
		return nil, fmt.Errorf("memstore: %w", err)
	}
	c := w.Request
	s.mu.Lock()
	defer s.mu.Unlock()
	_, live := s.requests[c.ID]
	_, old := s.archived[c.ID]
	if live || old {
		return nil, fmt.Errorf("memstore: create request %q: %w", r.ID, store.ErrAlreadyExists)
	}
	s.putLocked(c.ID, &stored{req: c, doc: doc, status: w.Facts.Status})
	return c.Clone(), nil
}

// UpdateRequest implements [store.RequestStore]: [store.PrepareUpdate],
// then, under the lock, [store.Write.Against] the stored document and
// the swap. A non-zero ReceivedAt must equal the stored one to the
// nanosecond (time.Equal); the stored value, zone included, is what is
// kept.
func (s *Store) UpdateRequest(ctx context.Context, r *store.Request) (*store.Request, error) {
	w, err := store.PrepareUpdate(r)
	if err != nil {
		return nil, fmt.Errorf("memstore: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: update request %q: %w", r.ID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.requests[r.ID]
	if !ok {
		return nil, fmt.Errorf("memstore: update request %q: %w", r.ID, store.ErrNotFound)
	}
	unchanged, err := w.Against(e.req, e.doc, time.Nanosecond)
	switch {
	case err != nil:
		return nil, fmt.Errorf("memstore: %w", err)
	case unchanged:
		return e.req.Clone(), nil
	}
	doc, err := w.Canonical() // computed by Against
	if err != nil {
		return nil, fmt.Errorf("memstore: %w", err)
	}
	c := w.Request
	s.putLocked(c.ID, &stored{req: c, doc: doc, status: w.Facts.Status})
	return c.Clone(), nil
}

// ArchiveRequest implements [store.RequestStore].
func (s *Store) ArchiveRequest(ctx context.Context, id string, version int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: archive request %q: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.requests[id]
	switch {
	case !ok:
		return fmt.Errorf("memstore: archive request %q: %w", id, store.ErrNotFound)
	case e.req.Version != version:
		return fmt.Errorf("memstore: archive request %q at version %d (stored %d): %w", id, version, e.req.Version, store.ErrConflict)
	}
	s.dropLocked(id)
	s.archived[id] = e.req
	return nil
}

// GetArchivedRequest implements [store.RequestStore].
func (s *Store) GetArchivedRequest(ctx context.Context, id string) (*store.Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: get archived request %q: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.archived[id]
	if !ok {
		return nil, fmt.Errorf("memstore: get archived request %q: %w", id, store.ErrNotFound)
	}
	return r.Clone(), nil
}

// ListRequests implements [store.RequestStore]. It sorts every matching
// request, which is fine for the sizes an in-memory store holds.
func (s *Store) ListRequests(ctx context.Context, q store.ListQuery) (store.ListPage, error) {
	if err := ctx.Err(); err != nil {
		return store.ListPage{}, fmt.Errorf("memstore: list requests: %w", err)
	}
	limit, after, err := listquery.Parse(q)
	if err != nil {
		return store.ListPage{}, fmt.Errorf("memstore: list requests: %w", err)
	}
	s.mu.Lock()
	var match []*store.Request
	for _, e := range s.requests {
		r := e.req
		if q.Project != "" && r.Project != q.Project ||
			q.Environment != "" && r.Environment != q.Environment ||
			len(q.Statuses) > 0 && !slices.Contains(q.Statuses, e.status) {
			continue
		}
		if after != nil && !older(r, after.ReceivedAt, after.ID) {
			continue
		}
		match = append(match, r)
	}
	slices.SortFunc(match, func(a, b *store.Request) int {
		if c := b.ReceivedAt.Compare(a.ReceivedAt); c != 0 {
			return c
		}
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
	var page store.ListPage
	more := len(match) > limit
	if more {
		match = match[:limit]
	}
	page.Requests = make([]*store.Request, len(match))
	for i, r := range match {
		page.Requests[i] = r.Clone()
	}
	s.mu.Unlock()
	if more {
		last := match[len(match)-1]
		page.NextCursor = listquery.Encode(listquery.Cursor{ReceivedAt: last.ReceivedAt, ID: last.ID})
	}
	return page, nil
}

// older reports whether r sorts after (receivedAt, id) in newest-first
// order.
func older(r *store.Request, receivedAt time.Time, id string) bool {
	if c := r.ReceivedAt.Compare(receivedAt); c != 0 {
		return c < 0
	}
	return r.ID < id
}
