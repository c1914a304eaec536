package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// The outbox makes lifecycle events atomic with the state they describe,
// on every backend, without a transaction spanning two stores.
//
//  1. An event is decided inside the compare-and-swap closure that makes
//     the change (see [Mutate]): the closure compares the document it was
//     given (the fresh read of this try) with what it makes of it, and
//     stages the event on the document with [StageEvent]. A try that loses
//     the race is discarded with everything it staged, so the event is
//     decided from the state the write produced, exactly once.
//  2. The staged event rides in the document's outbox field, so it is
//     written in the same compare-and-swap as the change: a crash after
//     the write cannot lose it.
//  3. Right after the write, [FlushOutbox] appends each staged event to
//     the [EventStore] under a deterministic id (the document version that
//     staged it and its place in the outbox), then removes the flushed
//     entries from the document with another compare-and-swap. An id that
//     is already stored ([ErrAlreadyExists]) was flushed by someone else
//     (or by a try that crashed before removing it): the event is recorded
//     once whoever flushes it, however often.
//  4. An outbox left non-empty by a crash or a failed append is flushed by
//     the next write through the engine or the webhook sink, and by Sync.

// outboxIDLayout formats the timestamp part of an outbox event id so ids
// sort like the ids the stores assign.
const outboxIDLayout = "20060102T150405.000000000Z"

// StageEvent adds e to r's outbox, to be written with r in the same
// compare-and-swap and flushed to the [EventStore] after it. Call it only
// inside a [Mutate] function, on the document that function was given,
// and only when the change the event describes is made by that call: the
// function may run again on a fresher document, and what it staged on a
// losing try is discarded with the try. e.RequestID is set to r.ID, and
// e.ID to a deterministic id unique to this write (the version the write
// produces and the event's place in the outbox), so the event store
// refuses a second copy. Set e.Timestamp from the caller's clock: it
// leads the id, so events sharing a timestamp list in write order.
func StageEvent(r *Request, e Event) {
	e.RequestID = r.ID
	e.ID = outboxEventID(e.Timestamp, r.Version+1, len(r.Outbox))
	r.Outbox = append(r.Outbox, e)
}

// outboxEventID names the n-th event staged by the write that produces
// version v. The store refuses a second copy of it ([ErrAlreadyExists]).
func outboxEventID(ts time.Time, v int64, n int) string {
	return fmt.Sprintf("%s-v%010d-%02d", ts.UTC().Format(outboxIDLayout), v, n)
}

// outboxStore is what flushing an outbox needs.
type outboxStore interface {
	RequestStore
	EventStore
}

// FlushOutbox appends the events staged in r's outbox to s and removes
// them from the stored document. It returns the document after the
// removal (r itself when there was nothing to flush or the removal
// failed) and the first error; events not flushed stay staged for the
// next write or Sync. It is safe to call concurrently and repeatedly: an
// event already appended is [ErrAlreadyExists] and counts as flushed.
func FlushOutbox(ctx context.Context, s outboxStore, r *Request) (*Request, error) {
	if r == nil || len(r.Outbox) == 0 {
		return r, nil
	}
	done := make(map[string]bool, len(r.Outbox))
	var ferr error
	for _, e := range r.Outbox {
		if _, err := s.AppendEvent(ctx, e); err != nil && !errors.Is(err, ErrAlreadyExists) {
			// Keep the order: later events wait for this one.
			ferr = fmt.Errorf("store: flush event %s %q of %q: %w", e.ID, e.Event, r.ID, err)
			break
		}
		done[e.ID] = true
	}
	if len(done) == 0 {
		return r, ferr
	}
	out, err := Mutate(ctx, s, r.ID, func(d *Request) error {
		d.Outbox = slices.DeleteFunc(d.Outbox, func(e Event) bool { return done[e.ID] })
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return r, ferr // archived meanwhile: its events were appended
		}
		return r, errors.Join(ferr, fmt.Errorf("store: clear flushed events of %q: %w", r.ID, err))
	}
	return out, ferr
}

// AfterVersionEventID names an event appended directly to the
// [EventStore] (not staged with [StageEvent]) while the request is at
// version v: it sorts after every event staged by the writes up to v,
// and before those of the next write. token makes it unique among such
// events (a few random characters).
func AfterVersionEventID(ts time.Time, v int64, token string) string {
	return fmt.Sprintf("%s-v%010d-x%s", ts.UTC().Format(outboxIDLayout), v, token)
}
