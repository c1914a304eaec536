package lifecycle

import "time"

// Default polling intervals, as in the original TfPilot.
const (
	DefaultPollActive      = 10 * time.Second
	DefaultPollIdle        = 30 * time.Second
	DefaultPollHidden      = 120 * time.Second
	DefaultPollRateLimited = 60 * time.Second
)

// PollPolicy holds the intervals a client waits between syncs of one
// request. A zero field uses its default.
type PollPolicy struct {
	Active      time.Duration // a workflow is running (default 10 s)
	Idle        time.Duration // waiting for a person (default 30 s)
	Hidden      time.Duration // the viewer is not looking (default 120 s)
	RateLimited time.Duration // GitHub asked us to back off (default 60 s)
}

// PollView says how the request is being watched.
type PollView struct {
	// Hidden is true when the viewer's tab or window is not visible.
	Hidden bool
	// RateLimited is true while GitHub rate limits are in force.
	RateLimited bool
}

// PollInterval returns how long to wait before syncing a request in
// status s again, with the default [PollPolicy].
func PollInterval(s Status, v PollView) time.Duration { return PollPolicy{}.Interval(s, v) }

// Interval returns how long to wait before syncing a request in status s
// again: 0 (stop polling) for a terminal status, else the rate-limited,
// hidden, active or idle interval, in that order of precedence.
func (p PollPolicy) Interval(s Status, v PollView) time.Duration {
	switch {
	case IsTerminal(s):
		return 0
	case v.RateLimited:
		return or(p.RateLimited, DefaultPollRateLimited)
	case v.Hidden:
		return or(p.Hidden, DefaultPollHidden)
	case IsActive(s):
		return or(p.Active, DefaultPollActive)
	}
	return or(p.Idle, DefaultPollIdle)
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
