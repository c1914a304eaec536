package lock_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot/lock"
)

func Example() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l, _ := lock.Acquire(nil, "alice", "apply", 0, now)
	fmt.Println(l.Holder, l.ExpiresAt.Sub(now))

	_, err := lock.Acquire(l, "bob", "destroy", 0, now.Add(time.Minute))
	var conflict *lock.ConflictError
	if errors.As(err, &conflict) {
		fmt.Println("blocked by", conflict.Holder, conflict.Operation)
	}

	// After the TTL the lock is no lock: bob acquires it.
	l, _ = lock.Acquire(l, "bob", "destroy", 0, now.Add(3*time.Minute))
	fmt.Println(l.Holder, l.Operation)
	// Output:
	// alice 2m0s
	// blocked by alice apply
	// bob destroy
}
