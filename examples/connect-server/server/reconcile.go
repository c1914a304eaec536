package server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/lifecycle"
)

// Reconciler syncs, at an interval, every request waiting on GitHub: a
// safety net for lost webhook deliveries, and what moves requests along
// when no webhook endpoint is configured. Sync's own conditional reads
// and cooldowns keep the GitHub cost of an idle request near zero.
type Reconciler struct {
	// Pilot is the engine. Required.
	Pilot *tfpilot.Pilot
	// Interval between passes. Default 30 s.
	Interval time.Duration
	// Statuses are the statuses (as of each request's last write) whose
	// requests are synced. Default: request_created, planning, applying,
	// destroying and destroyed (so a destroyed request is cleaned up and
	// archived).
	Statuses []lifecycle.Status
	// Principal the syncs run as; it needs the viewer role. Default
	// "tfpilot-reconciler" with the viewer role.
	Principal tfpilot.Principal
	// Logger. Default: discard.
	Logger *slog.Logger
}

// DefaultReconcileStatuses are the statuses [Reconciler] syncs by default.
var DefaultReconcileStatuses = []lifecycle.Status{lifecycle.RequestCreated, lifecycle.Planning,
	lifecycle.Applying, lifecycle.Destroying, lifecycle.Destroyed}

// Run makes a pass every Interval until ctx is done, and returns nil
// then.
func (r *Reconciler) Run(ctx context.Context) error {
	if r.Pilot == nil {
		return errors.New("server: Reconciler.Pilot is required")
	}
	interval := r.Interval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			r.Pass(ctx)
		}
	}
}

// Pass syncs every request in one of the statuses once, and returns how
// many it synced without error.
func (r *Reconciler) Pass(ctx context.Context) int {
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	who := r.Principal
	if who.Login == "" {
		who = tfpilot.Principal{Login: "tfpilot-reconciler", Roles: []tfpilot.Role{tfpilot.RoleViewer}}
	}
	statuses := r.Statuses
	if len(statuses) == 0 {
		statuses = DefaultReconcileStatuses
	}
	q := tfpilot.ListQuery{Statuses: statuses, Limit: tfpilot.MaxPageSize}
	synced := 0
	for {
		page, err := r.Pilot.List(ctx, who, q)
		if err != nil {
			if ctx.Err() == nil {
				log.WarnContext(ctx, "reconcile: list requests", "err", err)
			}
			return synced
		}
		for _, req := range page.Requests {
			if ctx.Err() != nil {
				return synced
			}
			if _, err := r.Pilot.Sync(ctx, tfpilot.Caller{Principal: who}, req.ID); err != nil {
				log.WarnContext(ctx, "reconcile: sync", "request", req.ID, "err", err)
				continue
			}
			synced++
		}
		if page.NextCursor == "" {
			return synced
		}
		q.Cursor = page.NextCursor
	}
}
