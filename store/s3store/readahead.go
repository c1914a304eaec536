package s3store

import (
	"context"
	"sync"

	"github.com/tfpilot/tfpilot/store"
)

// exportRead is one listed object of an export: read is filled in by a
// reader, which then closes done.
type exportRead struct {
	key  string
	item store.Item
	fate store.ObjectFate
	err  error
	done chan struct{}
}

// readAhead lists every key under prefix and reads each with read,
// s.concurrency at a time, without waiting for a listing page to be
// read whole before the next is listed and read. It returns the reads
// in key order, at most exportWindow of them listed ahead of the
// caller; the caller waits on each one's done. When reads is closed,
// listErr says whether the listing failed. stop ends the walk (ctx is
// cancelled for the readers still running) and waits for its
// goroutines; the caller must call it.
func (s *Store) readAhead(ctx context.Context, prefix string, read func(context.Context, *exportRead)) (reads <-chan *exportRead, listErr func() error, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	order := make(chan *exportRead, exportWindow)
	work := make(chan *exportRead)
	var err error
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(order)
		defer close(work)
		after := ""
		for {
			page, more, lerr := s.listOnce(ctx, prefix, after, exportPageSize)
			if lerr != nil {
				err = lerr
				return
			}
			for _, o := range page {
				r := &exportRead{key: o.key, done: make(chan struct{})}
				select {
				case order <- r:
				case <-ctx.Done():
					return
				}
				select {
				case work <- r:
				case <-ctx.Done():
					return
				}
			}
			if !more {
				return
			}
			after = page[len(page)-1].key
		}
	})
	for range s.concurrency {
		wg.Go(func() {
			for r := range work {
				read(ctx, r)
				close(r.done)
			}
		})
	}
	// err is written before order is closed, and read after the
	// caller saw it closed.
	return order, func() error { return err }, func() { cancel(); wg.Wait() }
}
