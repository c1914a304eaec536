package githubtest

import (
	"context"
	"sync"
	"time"
)

// Clock tells the fake what time it is. [ManualClock] satisfies it, and so
// does the githubx clock interface, so one clock can drive both the client
// and the fake.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// ManualClock is a [Clock] that only moves when told to. Its Sleep method
// advances the clock instead of blocking, so a client that "waits until the
// rate limit resets" returns at once in a test while the fake sees the time
// pass. It is safe for concurrent use.
type ManualClock struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration
	naps  int
}

// NewManualClock returns a [ManualClock] set to start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start}
}

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleep advances the clock by d and returns at once; it returns ctx.Err()
// without advancing if ctx is already done.
func (c *ManualClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
		c.slept += d
	}
	c.naps++
	return nil
}

// Slept reports how many Sleep calls were made and their total duration.
func (c *ManualClock) Slept() (calls int, total time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.naps, c.slept
}
