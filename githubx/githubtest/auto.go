package githubtest

import "time"

// Auto configures the automatic Actions simulator: every run waits
// QueueDelay in queued, RunDelay in in_progress, then completes. Delays are
// measured on the fake's clock; with a [ManualClock], advance the clock and
// call [Fake.Tick].
type Auto struct {
	// QueueDelay is the time a run stays queued. Default 1 s.
	QueueDelay time.Duration
	// RunDelay is the time a run stays in_progress. Default 3 s.
	RunDelay time.Duration
	// Conclusions maps a workflow file (e.g. "apply.yml") to the conclusion
	// its runs reach. Missing files use the workflow's Conclusion.
	Conclusions map[string]string
	// Poll is how often (real time) the simulator looks for due runs.
	// Default 50 ms.
	Poll time.Duration
}

func (f *Fake) startAuto() {
	a := f.opts.Auto
	if a.QueueDelay <= 0 {
		a.QueueDelay = time.Second
	}
	if a.RunDelay <= 0 {
		a.RunDelay = 3 * time.Second
	}
	if a.Poll <= 0 {
		a.Poll = 50 * time.Millisecond
	}
	f.stopAuto = make(chan struct{})
	f.autoDone = make(chan struct{})
	go func(stop <-chan struct{}) {
		defer close(f.autoDone)
		t := time.NewTicker(a.Poll)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				f.Tick()
			}
		}
	}(f.stopAuto)
}

// Tick makes the automatic simulator move every run that is due now. It
// does nothing when Options.Auto is nil.
func (f *Fake) Tick() {
	a := f.opts.Auto
	if a == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clock.Now()
	for _, rp := range f.repos {
		for _, id := range sortedRunIDs(rp) {
			r := rp.runs[id]
			if r.status == "queued" && !now.Before(r.created.Add(a.QueueDelay)) {
				f.startRunLocked(rp, r)
			}
			if r.status == "in_progress" && !now.Before(r.started.Add(a.RunDelay)) {
				c := r.planned
				if c == "" {
					c = a.Conclusions[r.wf.File]
				}
				f.completeRunLocked(rp, r, c)
			}
		}
	}
}

func sortedRunIDs(rp *repo) []int64 {
	ids := make([]int64, 0, len(rp.runs))
	for id := range rp.runs {
		ids = append(ids, id)
	}
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	return ids
}
