package tfpilot

import (
	"context"
	"sync"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
)

// Applies in one environment do not race Terraform's state.
//
// Every request of a target (one repository and environment folder, so
// one Terraform root module and one state) is applied by the same apply
// workflow on the base branch. Two serialisers keep two of them from
// running terraform at once:
//
//   - tfpilot's gate (targetGate): Apply and Destroy are refused with
//     [ErrPrecondition] while another request of the same target has an
//     apply or destroy attempt in flight, naming it; the caller retries
//     after it finished. Within one process the check and the dispatch
//     are serialised per target, so it is exact; two processes that
//     check at the same instant can both pass it;
//   - the workflows' concurrency group per target (the workflow
//     templates set `concurrency: group: tfpilot-<env path>`,
//     cancel-in-progress false), which GitHub enforces: "there can be at
//     most one running and one pending job in a concurrency group at any
//     time" (https://docs.github.com/en/actions/using-jobs/using-concurrency).
//     The gate matters because of the rest of that sentence: a pending
//     run is cancelled when a newer one queues, so without the gate a
//     third concurrent apply would cancel the second.
//
// Terraform's own state lock (a backend with locking) is the last line:
// a run that loses it fails instead of corrupting state.

// targetLocks serialises, within one process, the gate and the dispatch
// of applies and destroys per target. The zero value is ready.
type targetLocks struct{ m sync.Map } // target name → *sync.Mutex

func (t *targetLocks) lock(target string) func() {
	mu, _ := t.m.LoadOrStore(target, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	return mu.(*sync.Mutex).Unlock
}

// gatedOnTarget checks, before an Apply or Destroy of request id, that
// no other request of its target has an apply or destroy in flight, and
// takes this process's lock of the target: the caller releases it once
// its dispatch is recorded.
func (p *Pilot) gatedOnTarget(ctx context.Context, c Caller, op Action, id string) (func(), error) {
	r, err := p.store.GetRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := p.cfg.Authorizer.Authorize(ctx, c.Principal, op, r); err != nil {
		return nil, err
	}
	unlock := p.targets.lock(targetName(r))
	if err := p.targetGate(ctx, op, r); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// targetGate refuses op on r while another request of its target has an
// apply or destroy in flight. It writes nothing.
func (p *Pilot) targetGate(ctx context.Context, op Action, r *Request) error {
	q := ListQuery{Statuses: []lifecycle.Status{lifecycle.Applying, lifecycle.Destroying}, Limit: MaxPageSize}
	for {
		page, err := p.store.ListRequests(ctx, q)
		if err != nil {
			return err
		}
		for _, o := range page.Requests {
			if o.ID == r.ID || !sameTarget(o, r) {
				continue
			}
			for _, k := range []runs.Kind{runs.Apply, runs.Destroy} {
				if a, ok := runs.Current(o.Runs, k); ok && runs.Active(a) {
					return gate(op, "request %s is running %s attempt %d in %s; one apply at a time per environment", o.ID, k, a.Attempt, targetName(r))
				}
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		q.Cursor = page.NextCursor
	}
}

func sameTarget(a, b *Request) bool {
	return a.TargetOwner == b.TargetOwner && a.TargetRepo == b.TargetRepo && a.TargetEnvPath == b.TargetEnvPath
}

func targetName(r *Request) string {
	return r.TargetOwner + "/" + r.TargetRepo + "/" + r.TargetEnvPath
}
