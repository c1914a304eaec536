package store_test

import (
	"fmt"
	"sync"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

// docs is the smallest backend's request table: a map under a mutex.
// Its update does only the atomic step; the layer applies the rules.
type docs struct {
	mu sync.Mutex
	m  map[string]*store.Request
}

func (d *docs) update(r *store.Request) (*store.Request, error) {
	w, err := store.PrepareUpdate(r) // id checked, copied at the next version, facts derived
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, ok := d.m[r.ID]
	if !ok {
		return nil, fmt.Errorf("update request %q: %w", r.ID, store.ErrNotFound)
	}
	unchanged, err := w.Against(cur, nil, time.Nanosecond) // version, ReceivedAt, no-op
	switch {
	case err != nil:
		return nil, err
	case unchanged:
		return cur.Clone(), nil
	}
	d.m[r.ID] = w.Request // the swap, atomic under the lock
	return w.Request.Clone(), nil
}

// A backend prepares a write with the portable layer and does only the
// atomic step itself.
func ExampleWrite_Against() {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	w, err := store.PrepareCreate(&store.Request{ID: "r1", Project: "payments"}, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	d := &docs{m: map[string]*store.Request{"r1": w.Request}}
	fmt.Println("created at version", w.Request.Version, "status", w.Facts.Status)

	next := w.Request.Clone()
	next.ReceivedAt = time.Time{} // not sent: the stored one is kept
	same, _ := d.update(next)
	fmt.Println("identical update keeps version", same.Version)

	next.BranchName = "tfpilot/r1"
	changed, _ := d.update(next)
	fmt.Println("update writes version", changed.Version, "received", changed.ReceivedAt.Format(time.RFC3339))

	_, err = d.update(next) // next is at version 1, now stale
	fmt.Println(err)
	// Output:
	// created at version 1 status request_created
	// identical update keeps version 1
	// update writes version 2 received 2026-01-02T03:04:05Z
	// update request "r1" at version 1 (stored 2): version conflict
}
