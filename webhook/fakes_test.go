package webhook_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tfpilot/tfpilot/webhook"
)

var errClaimed = errors.New("test: already claimed")

func isClaimed(err error) bool { return errors.Is(err, errClaimed) }

// deliveries is an in-memory [webhook.Deliveries] with the store
// contract's semantics: one claim per id, release drops it.
type deliveries struct {
	mu       sync.Mutex
	claims   map[string]string // id → outcome ("" while in progress)
	done     map[string]bool
	fences   map[string]time.Time // id → the fencing value of its claim
	claimErr error                // returned once by the next claim, when set
	claimed  atomic.Int64
	released atomic.Int64
}

func newDeliveries() *deliveries {
	return &deliveries{claims: map[string]string{}, done: map[string]bool{}}
}

func (d *deliveries) ClaimDelivery(ctx context.Context, id, event string) (time.Time, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.claimErr; err != nil {
		d.claimErr = nil
		return time.Time{}, err
	}
	if _, ok := d.claims[id]; ok {
		return time.Time{}, errClaimed
	}
	d.claims[id] = ""
	n := d.claimed.Add(1)
	if d.fences == nil {
		d.fences = map[string]time.Time{}
	}
	d.fences[id] = time.Unix(n, 0) // a fencing value unique to the claim
	return d.fences[id], nil
}

func (d *deliveries) CompleteDelivery(ctx context.Context, id string, claim time.Time, outcome string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.claims[id]; !ok {
		return errors.New("test: complete of unclaimed delivery")
	}
	if !d.fences[id].Equal(claim) {
		return errors.New("test: complete with another claim's fencing value")
	}
	d.claims[id] = outcome
	d.done[id] = true
	return nil
}

func (d *deliveries) ReleaseDelivery(ctx context.Context, id string, claim time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done[id] {
		return errors.New("test: release of completed delivery")
	}
	if _, ok := d.claims[id]; ok && !d.fences[id].Equal(claim) {
		return errors.New("test: release with another claim's fencing value")
	}
	delete(d.claims, id)
	d.released.Add(1)
	return nil
}

// outcome returns a delivery's recorded outcome and whether it completed.
func (d *deliveries) outcome(id string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.claims[id], d.done[id]
}

func (d *deliveries) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.claims)
}

// sink records every event it is given. fail, when set, is called first
// and its error returned.
type sink struct {
	mu     sync.Mutex
	events []any
	calls  atomic.Int64
	fail   func(ctx context.Context) error
}

func (s *sink) record(ctx context.Context, ev any) (string, error) {
	s.calls.Add(1)
	if s.fail != nil {
		if err := s.fail(ctx); err != nil {
			return "", err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, ev)
	return "recorded", nil
}

func (s *sink) HandleWorkflowRun(ctx context.Context, ev webhook.WorkflowRunEvent) (string, error) {
	return s.record(ctx, ev)
}

func (s *sink) HandlePullRequest(ctx context.Context, ev webhook.PullRequestEvent) (string, error) {
	return s.record(ctx, ev)
}

func (s *sink) HandleReview(ctx context.Context, ev webhook.ReviewEvent) (string, error) {
	return s.record(ctx, ev)
}

func (s *sink) recorded() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]any(nil), s.events...)
}

// classifyTestYML classifies the fixtures' ".github/workflows/test.yml"
// as a plan workflow, and nothing else.
func classifyTestYML(path, name string) webhook.Kind {
	if path == ".github/workflows/test.yml" {
		return webhook.KindPlan
	}
	return ""
}

const secret = "It's a Secret to Everybody"

func newHandler(t interface {
	Helper()
	Fatal(...any)
}, d *deliveries, s *sink, mod func(*webhook.Options)) *webhook.Handler {
	t.Helper()
	opts := webhook.Options{
		Secrets:     []string{secret},
		Deliveries:  d,
		IsDuplicate: isClaimed,
		Sink:        s,
		Classify:    classifyTestYML,
	}
	if mod != nil {
		mod(&opts)
	}
	h, err := webhook.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
