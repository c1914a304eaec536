package tfpilot

import (
	"context"
	"log/slog"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

// afterVersionID names an event appended directly (not staged) while
// the request is at version v: it sorts after every event staged by the
// writes up to v, and before those of the next write.
func afterVersionID(ts time.Time, v int64) string {
	return store.AfterVersionEventID(ts, v, newToken(8))
}

// flush flushes r's outbox and logs a failure: the events stay staged on
// the document and the next write or Sync flushes them.
func flush(ctx context.Context, s interface {
	RequestStore
	EventStore
}, log *slog.Logger, r *Request) *Request {
	if r == nil || len(r.Outbox) == 0 {
		return r
	}
	ctx, cancel := background(ctx)
	defer cancel()
	out, err := FlushOutbox(ctx, s, r)
	if err != nil {
		log.WarnContext(ctx, "tfpilot: lifecycle events staged, not yet flushed; the next write or Sync flushes them", "request", r.ID, "err", err)
	}
	return out
}

// stage stages lifecycle event name by who on r (see [StageEvent]), at
// the engine's clock. Use it inside the function given to mutateHeld,
// patch or Mutate, when that function makes the change the event
// describes; the write's caller flushes it.
func (p *Pilot) stage(r *Request, name string, who Principal, data map[string]any) {
	StageEvent(r, Event{Event: name, Timestamp: p.now(), Actor: who.Login, Source: "tfpilot", Data: data})
}
