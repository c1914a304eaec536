package changefeed

import (
	"context"
	"sync"

	"github.com/tfpilot/tfpilot/store"
)

// Hub tells subscribers that a request changed. Publishing never blocks:
// each subscription holds at most one pending signal, so a slow watcher
// sees several changes as one and re-reads the request. A Hub is safe for
// concurrent use; the zero value is not usable, call [New].
type Hub struct {
	mu     sync.Mutex
	subs   map[string]map[*Subscription]struct{} // request id ("" = all) → subscriptions
	done   chan struct{}
	closed bool
}

// New returns an empty hub.
func New() *Hub {
	return &Hub{subs: make(map[string]map[*Subscription]struct{}), done: make(chan struct{})}
}

// Subscription receives a signal on C after each change of its request.
type Subscription struct {
	// C receives a value when the request may have changed.
	C  <-chan struct{}
	c  chan struct{}
	id string
	h  *Hub
}

// Subscribe returns a subscription to changes of request id; an empty id
// subscribes to every request. Call Close when done.
func (h *Hub) Subscribe(id string) *Subscription {
	c := make(chan struct{}, 1)
	s := &Subscription{C: c, c: c, id: id, h: h}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[id] == nil {
		h.subs[id] = make(map[*Subscription]struct{})
	}
	h.subs[id][s] = struct{}{}
	return s
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	delete(s.h.subs[s.id], s)
	if len(s.h.subs[s.id]) == 0 {
		delete(s.h.subs, s.id)
	}
}

// Publish signals the subscribers of request id and those of every
// request.
func (h *Hub) Publish(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, key := range []string{id, ""} {
		for s := range h.subs[key] {
			select {
			case s.c <- struct{}{}:
			default: // a signal is already pending
			}
		}
	}
}

// Done is closed by [Hub.Close]: watchers end their streams then.
func (h *Hub) Done() <-chan struct{} { return h.done }

// Close tells every watcher to stop, for a graceful shutdown. It is safe
// to call more than once.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

// Notify returns store with its request and event writes publishing to
// hub after they succeed: CreateRequest, UpdateRequest, ArchiveRequest and
// AppendEvent. Everything else passes through.
func Notify(base store.Store, hub *Hub) store.Store {
	// The store's InsightsStore and DeliveryWriter stay visible (the
	// engine's fast paths); a CommitRequest publishes like an update.
	return store.KeepExtensions(&notifyingStore{Store: base, hub: hub}, base, func(_ context.Context, stored *store.Request) {
		hub.Publish(stored.ID)
	})
}

type notifyingStore struct {
	store.Store
	hub *Hub
}

func (s *notifyingStore) CreateRequest(ctx context.Context, r *store.Request) (*store.Request, error) {
	out, err := s.Store.CreateRequest(ctx, r)
	if err == nil {
		s.hub.Publish(out.ID)
	}
	return out, err
}

func (s *notifyingStore) UpdateRequest(ctx context.Context, r *store.Request) (*store.Request, error) {
	out, err := s.Store.UpdateRequest(ctx, r)
	if err == nil && out.Version != r.Version {
		s.hub.Publish(out.ID)
	}
	return out, err
}

func (s *notifyingStore) ArchiveRequest(ctx context.Context, id string, version int64) error {
	err := s.Store.ArchiveRequest(ctx, id, version)
	if err == nil {
		s.hub.Publish(id)
	}
	return err
}

func (s *notifyingStore) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	out, err := s.Store.AppendEvent(ctx, e)
	if err == nil {
		s.hub.Publish(out.RequestID)
	}
	return out, err
}
