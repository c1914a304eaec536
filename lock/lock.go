package lock

import (
	"errors"
	"fmt"
	"time"
)

// DefaultTTL is the lock lifetime used when a TTL of zero is given.
const DefaultTTL = 2 * time.Minute

// Lock is a request's TTL lock, in TfPilot's JSON encoding.
type Lock struct {
	Holder     string    `json:"holder"`
	Operation  string    `json:"operation"`
	AcquiredAt time.Time `json:"acquiredAt,omitzero"`
	ExpiresAt  time.Time `json:"expiresAt,omitzero"`
}

// Errors returned by this package. Check them with errors.Is.
var (
	// ErrConflict: another holder owns an active lock. The error is a
	// [*ConflictError].
	ErrConflict = errors.New("lock: held by another holder")
	// ErrNotHeld: the caller tried to renew a lock it does not hold
	// (absent, expired or someone else's).
	ErrNotHeld = errors.New("lock: not held")
	// ErrInvalid: an empty holder or operation.
	ErrInvalid = errors.New("lock: invalid argument")
)

// ConflictError reports the active lock that blocked an operation.
type ConflictError struct {
	Holder    string
	Operation string
	ExpiresAt time.Time
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("lock: held by %q for %q until %s", e.Holder, e.Operation, e.ExpiresAt.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, [ErrConflict]) true for a *ConflictError.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Active reports whether l is held at now: present and now < ExpiresAt.
func (l *Lock) Active(now time.Time) bool {
	return l != nil && now.Before(l.ExpiresAt)
}

// Expired reports whether l no longer holds at now. A nil lock counts as
// expired.
func (l *Lock) Expired(now time.Time) bool { return !l.Active(now) }

// Acquire returns the lock holder should hold for operation at now. If
// cur is absent or expired, it returns a new lock expiring after ttl (zero
// means [DefaultTTL]). If holder already holds cur, it returns a copy of
// cur unchanged. Otherwise it returns a [*ConflictError].
func Acquire(cur *Lock, holder, operation string, ttl time.Duration, now time.Time) (*Lock, error) {
	if holder == "" || operation == "" {
		return nil, fmt.Errorf("%w: holder and operation must not be empty", ErrInvalid)
	}
	if cur.Active(now) {
		if cur.Holder == holder {
			c := *cur
			return &c, nil
		}
		return nil, &ConflictError{Holder: cur.Holder, Operation: cur.Operation, ExpiresAt: cur.ExpiresAt}
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Lock{Holder: holder, Operation: operation, AcquiredAt: now, ExpiresAt: now.Add(ttl)}, nil
}

// Release returns the lock that remains after holder releases cur: nil
// when holder holds it, or when it is absent or expired (an expired lock
// is no lock). Releasing someone else's active lock is a
// [*ConflictError] and leaves it in place.
func Release(cur *Lock, holder string, now time.Time) (*Lock, error) {
	if cur.Active(now) && cur.Holder != holder {
		c := *cur
		return &c, &ConflictError{Holder: cur.Holder, Operation: cur.Operation, ExpiresAt: cur.ExpiresAt}
	}
	return nil, nil
}

// Renew returns cur with its expiry moved to now+ttl (zero means
// [DefaultTTL]), for an operation that outlives its first TTL. Only the
// holder of an active lock may renew it: renewing an absent or expired
// lock is [ErrNotHeld], because another process may have acted after it
// expired; the caller must re-read the document and Acquire again.
func Renew(cur *Lock, holder string, ttl time.Duration, now time.Time) (*Lock, error) {
	if !cur.Active(now) {
		return nil, fmt.Errorf("%w: lock for %q is absent or expired", ErrNotHeld, holder)
	}
	if cur.Holder != holder {
		return nil, fmt.Errorf("%w: %w", ErrNotHeld, &ConflictError{Holder: cur.Holder, Operation: cur.Operation, ExpiresAt: cur.ExpiresAt})
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	c := *cur
	c.ExpiresAt = now.Add(ttl)
	return &c, nil
}
