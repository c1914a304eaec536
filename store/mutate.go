package store

import (
	"context"
	"errors"
	"fmt"
)

// MaxMutateAttempts bounds how often [Mutate] retries a write that lost a
// compare-and-swap race.
const MaxMutateAttempts = 16

// Mutate reads request id, applies fn to a copy, and writes it back with
// a compare-and-swap, retrying from a fresh read when a concurrent write
// wins (up to [MaxMutateAttempts]). fn must be free of side effects other
// than on its argument, because it may run more than once. An error from
// fn stops the loop and is returned as is; fn changing the request's ID
// is [ErrInvalid] and writes nothing, and so is fn changing ReceivedAt
// (see [RequestStore.UpdateRequest]). A change that leaves the
// document identical writes nothing (see [RequestStore.UpdateRequest]).
func Mutate(ctx context.Context, s RequestStore, id string, fn func(r *Request) error) (*Request, error) {
	return MutateWith(ctx, s, id, nil, fn, s.UpdateRequest)
}

// MutateWith is [Mutate] with the first read and the write given: the
// first try works on pre when it is not nil (a document just read
// together with something else), and each write goes through write
// instead of UpdateRequest (an extension's write that does more in the
// same statement, such as [DeliveryWriter.CommitRequest]). write gets
// the changed copy with the version it was read at, and must answer as
// UpdateRequest does ([ErrConflict] when another write won).
func MutateWith(ctx context.Context, s RequestStore, id string, pre *Request, fn func(r *Request) error,
	write func(ctx context.Context, next *Request) (*Request, error)) (*Request, error) {
	for attempt := 1; ; attempt++ {
		cur := pre
		pre = nil
		if cur == nil {
			var err error
			if cur, err = s.GetRequest(ctx, id); err != nil {
				return nil, err
			}
		}
		next := cur.Clone()
		if err := fn(next); err != nil {
			return nil, err
		}
		if next.ID != id {
			// Writing next would compare-and-swap another request.
			return nil, fmt.Errorf("store: update request %q: fn changed the id to %q: %w", id, next.ID, ErrInvalid)
		}
		next.Version = cur.Version
		stored, err := write(ctx, next)
		switch {
		case err == nil:
			return stored, nil
		case !errors.Is(err, ErrConflict):
			return nil, err
		case attempt >= MaxMutateAttempts:
			return nil, fmt.Errorf("store: update request %q: gave up after %d conflicting writes: %w", id, attempt, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}
