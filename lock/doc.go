// Package lock implements the TTL lock a request document carries while an
// operation mutates it.
//
// A lock is active iff it is present and now < ExpiresAt; an expired lock
// is no lock at all: [Acquire] succeeds over it and sync clears it. The
// holder re-acquiring its own active lock is a no-op success; anyone else
// gets a [*ConflictError], which matches [ErrConflict] with errors.Is and
// exposes the current holder, operation and expiry with errors.As. Long
// operations extend their lock with [Renew] (the original system's fixed
// TTL with no heartbeat let a slow apply outlive its lock).
//
// The package is pure: functions take the current lock and the time and
// return a new lock; they never mutate their inputs. Persisting the result
// is the caller's job, with a compare-and-swap write of the document so
// that two processes cannot both acquire.
package lock
