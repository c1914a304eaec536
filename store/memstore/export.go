package memstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/store"
)

var (
	_ store.Exporter = (*Store)(nil)
	_ store.Importer = (*Store)(nil)
)

// Export implements [store.Exporter]. Items come in key order: request
// ids, then (request id, event time, event id), (kind, run id),
// (owner, repo, number), delivery id, (operation, key), request id. The
// keys are listed under the store's lock, then each item is copied out
// under the lock on its own, so fn runs with the lock free.
func (s *Store) Export(ctx context.Context, kind store.ItemKind, fn func(store.Item) error) error {
	if !kind.Valid() {
		return fmt.Errorf("memstore: export %q: %w", kind, store.ErrInvalid)
	}
	keys := s.exportKeys(kind)
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("memstore: export %s: %w", kind, err)
		}
		it, ok := s.exportItem(kind, k)
		if !ok {
			continue // removed since the keys were listed
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	return nil
}

// exportKey locates one item: id is a request, delivery or cost id (or
// an event's request id); sub is an event id; the others name index
// entries and idempotency records.
type exportKey struct {
	id, sub string
	run     runKey
	pr      store.PRRef
	idem    idemKey
}

// exportKeys lists the keys of kind's items in export order.
func (s *Store) exportKeys(kind store.ItemKind) []exportKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []exportKey
	switch kind {
	case store.KindRequest:
		for id := range s.requests {
			keys = append(keys, exportKey{id: id})
		}
	case store.KindArchivedRequest:
		for id := range s.archived {
			keys = append(keys, exportKey{id: id})
		}
	case store.KindEvent:
		// Events are already in time order within a request.
		for _, id := range sortedKeys(s.events) {
			for _, e := range s.events[id] {
				keys = append(keys, exportKey{id: id, sub: e.ev.ID})
			}
		}
		return keys
	case store.KindRunIndex:
		for k := range s.runIndex {
			keys = append(keys, exportKey{run: k})
		}
		slices.SortFunc(keys, func(a, b exportKey) int {
			return cmp.Or(strings.Compare(string(a.run.kind), string(b.run.kind)), cmp.Compare(a.run.runID, b.run.runID))
		})
		return keys
	case store.KindPRIndex:
		for k := range s.prIndex {
			keys = append(keys, exportKey{pr: k})
		}
		slices.SortFunc(keys, func(a, b exportKey) int {
			return cmp.Or(strings.Compare(a.pr.Owner, b.pr.Owner), strings.Compare(a.pr.Repo, b.pr.Repo), cmp.Compare(a.pr.Number, b.pr.Number))
		})
		return keys
	case store.KindDelivery:
		for id := range s.deliveries {
			keys = append(keys, exportKey{id: id})
		}
	case store.KindIdempotency:
		for k := range s.idem {
			keys = append(keys, exportKey{idem: k})
		}
		slices.SortFunc(keys, func(a, b exportKey) int {
			return cmp.Or(strings.Compare(a.idem.operation, b.idem.operation), strings.Compare(a.idem.key, b.idem.key))
		})
		return keys
	case store.KindCost:
		for id := range s.costs {
			keys = append(keys, exportKey{id: id})
		}
	}
	slices.SortFunc(keys, func(a, b exportKey) int { return strings.Compare(a.id, b.id) })
	return keys
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// exportItem copies out the item at k, or reports false when it is gone.
func (s *Store) exportItem(kind store.ItemKind, k exportKey) (store.Item, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := store.Item{Kind: kind}
	switch kind {
	case store.KindRequest:
		e, ok := s.requests[k.id]
		if !ok {
			return it, false
		}
		it.Request = e.req.Clone()
	case store.KindArchivedRequest:
		r, ok := s.archived[k.id]
		if !ok {
			return it, false
		}
		it.Request = r.Clone()
	case store.KindEvent:
		i := slices.IndexFunc(s.events[k.id], func(x storedEvent) bool { return x.ev.ID == k.sub })
		if i < 0 {
			return it, false
		}
		x := s.events[k.id][i]
		e := withData(x.ev, x.data)
		it.Event = &e
	case store.KindRunIndex:
		id, ok := s.runIndex[k.run]
		if !ok {
			return it, false
		}
		it.Run = &store.RunIndexEntry{Kind: k.run.kind, RunID: k.run.runID, RequestID: id}
	case store.KindPRIndex:
		id, ok := s.prIndex[k.pr]
		if !ok {
			return it, false
		}
		it.PR = &store.PRIndexEntry{PR: k.pr, RequestID: id}
	case store.KindDelivery:
		d, ok := s.deliveries[k.id]
		if !ok {
			return it, false
		}
		it.Delivery = &d
	case store.KindIdempotency:
		rec, ok := s.idem[k.idem]
		if !ok {
			return it, false
		}
		rec.Response = bytes.Clone(rec.Response)
		it.Idempotency = &rec
	case store.KindCost:
		c, ok := s.costs[k.id]
		if !ok {
			return it, false
		}
		c.Estimate, c.Diff = bytes.Clone(c.Estimate), bytes.Clone(c.Diff)
		it.Cost = &c
	}
	return it, true
}

// Import implements [store.Importer].
func (s *Store) Import(ctx context.Context, it store.Item) (bool, error) {
	if err := it.Check(); err != nil {
		return false, fmt.Errorf("memstore: import: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("memstore: import %s %s: %w", it.Kind, it.Key(), err)
	}
	// Encode outside the lock what the write will need.
	var doc []byte
	var data []byte
	var err error
	switch it.Kind {
	case store.KindRequest:
		if doc, err = it.Request.CanonicalJSON(); err != nil {
			return false, fmt.Errorf("memstore: import %s %s: encode: %w", it.Kind, it.Key(), err)
		}
	case store.KindEvent:
		if it.Event.Data != nil {
			if data, err = json.Marshal(it.Event.Data); err != nil {
				return false, fmt.Errorf("memstore: import %s %s: encode data: %w: %w", it.Kind, it.Key(), store.ErrInvalid, err)
			}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.lookupLocked(it)
	if ok {
		// Only an import that finds its key taken compares forms.
		want, err := it.Canonical()
		if err != nil {
			return false, fmt.Errorf("memstore: import: %w", err)
		}
		got, err := cur.Canonical()
		if err != nil {
			return false, fmt.Errorf("memstore: import %s %s: stored item: %w", it.Kind, it.Key(), err)
		}
		if cur.Kind == it.Kind && bytes.Equal(got, want) {
			return false, nil
		}
		return false, fmt.Errorf("memstore: import %s %s: a different %s is stored: %w", it.Kind, it.Key(), cur.Kind, store.ErrAlreadyExists)
	}
	switch it.Kind {
	case store.KindRequest:
		r := it.Request.Clone()
		s.putLocked(r.ID, &stored{req: r, doc: doc, status: lifecycle.IndexStatus(r.Facts())})
	case store.KindArchivedRequest:
		s.archived[it.Request.ID] = it.Request.Clone()
	case store.KindEvent:
		e := *it.Event
		e.Data = nil
		list := append(s.events[e.RequestID], storedEvent{ev: e, data: data})
		slices.SortStableFunc(list, func(a, b storedEvent) int {
			return cmp.Or(a.ev.Timestamp.Compare(b.ev.Timestamp), cmp.Compare(a.ev.ID, b.ev.ID))
		})
		s.events[e.RequestID] = list
	case store.KindRunIndex:
		s.runIndex[runKey{it.Run.Kind, it.Run.RunID}] = it.Run.RequestID
	case store.KindPRIndex:
		s.prIndex[it.PR.PR] = it.PR.RequestID
	case store.KindDelivery:
		s.deliveries[it.Delivery.ID] = *it.Delivery
	case store.KindIdempotency:
		rec := *it.Idempotency
		rec.Response = bytes.Clone(rec.Response)
		s.idem[idemKey{rec.Operation, rec.Key}] = rec
	case store.KindCost:
		c := *it.Cost
		c.Estimate, c.Diff = bytes.Clone(c.Estimate), bytes.Clone(c.Diff)
		s.costs[c.RequestID] = c
	}
	return true, nil
}

// lookupLocked returns the stored item with it's key, if any. For a
// request it also finds the same id on the other side of the archive,
// so that a live request is never imported beside an archived one.
// s.mu must be held.
func (s *Store) lookupLocked(it store.Item) (store.Item, bool) {
	switch it.Kind {
	case store.KindRequest, store.KindArchivedRequest:
		if e, ok := s.requests[it.Request.ID]; ok {
			return store.Item{Kind: store.KindRequest, Request: e.req}, true
		}
		if r, ok := s.archived[it.Request.ID]; ok {
			return store.Item{Kind: store.KindArchivedRequest, Request: r}, true
		}
	case store.KindEvent:
		for _, x := range s.events[it.Event.RequestID] {
			if x.ev.ID == it.Event.ID {
				e := withData(x.ev, x.data)
				return store.Item{Kind: it.Kind, Event: &e}, true
			}
		}
	case store.KindRunIndex:
		if id, ok := s.runIndex[runKey{it.Run.Kind, it.Run.RunID}]; ok {
			return store.Item{Kind: it.Kind, Run: &store.RunIndexEntry{Kind: it.Run.Kind, RunID: it.Run.RunID, RequestID: id}}, true
		}
	case store.KindPRIndex:
		if id, ok := s.prIndex[it.PR.PR]; ok {
			return store.Item{Kind: it.Kind, PR: &store.PRIndexEntry{PR: it.PR.PR, RequestID: id}}, true
		}
	case store.KindDelivery:
		if d, ok := s.deliveries[it.Delivery.ID]; ok {
			return store.Item{Kind: it.Kind, Delivery: &d}, true
		}
	case store.KindIdempotency:
		if rec, ok := s.idem[idemKey{it.Idempotency.Operation, it.Idempotency.Key}]; ok {
			return store.Item{Kind: it.Kind, Idempotency: &rec}, true
		}
	case store.KindCost:
		if c, ok := s.costs[it.Cost.RequestID]; ok {
			return store.Item{Kind: it.Kind, Cost: &c}, true
		}
	}
	return store.Item{}, false
}
