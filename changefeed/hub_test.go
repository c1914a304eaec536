package changefeed_test

import (
	"context"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/changefeed"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/memstore"
)

func signalled(s *changefeed.Subscription) bool {
	select {
	case <-s.C:
		return true
	default:
		return false
	}
}

func TestHub_CoalescesAndRoutesByRequest(t *testing.T) {
	t.Parallel()
	h := changefeed.New()
	a, b, all := h.Subscribe("a"), h.Subscribe("b"), h.Subscribe("")
	defer a.Close()
	defer b.Close()
	defer all.Close()
	for range 5 {
		h.Publish("a") // never blocks, however many
	}
	if !signalled(a) || signalled(a) {
		t.Error("five publications should leave exactly one pending signal for a")
	}
	if signalled(b) {
		t.Error("b was signalled for a's change")
	}
	if !signalled(all) {
		t.Error("the all-requests subscription missed a's change")
	}
	a.Close()
	h.Publish("a")
	if signalled(a) {
		t.Error("a closed subscription was signalled")
	}
	h.Close()
	h.Close() // twice is fine
	select {
	case <-h.Done():
	default:
		t.Error("Done is open after Close")
	}
}

func TestNotify_PublishesOnlyWritesThatHappened(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := changefeed.New()
	s := changefeed.Notify(memstore.New(nil), h)
	sub := h.Subscribe("r1")
	defer sub.Close()

	r, err := s.CreateRequest(ctx, &store.Request{ID: "r1", Project: "p", Environment: "dev", Module: "m"})
	if err != nil || !signalled(sub) {
		t.Fatalf("create: %v, signalled=false", err)
	}
	if _, err := s.UpdateRequest(ctx, r); err != nil || signalled(sub) {
		t.Errorf("an unchanged update wrote nothing and must not signal (err %v)", err)
	}
	r.Module = "m2"
	r2, err := s.UpdateRequest(ctx, r)
	if err != nil || !signalled(sub) {
		t.Fatalf("update: %v, want a signal", err)
	}
	if _, err := s.UpdateRequest(ctx, r); err == nil || signalled(sub) {
		t.Errorf("a conflicting update (err %v) must not signal", err)
	}
	if _, err := s.AppendEvent(ctx, store.Event{RequestID: "r1", Event: "x", Timestamp: time.Now()}); err != nil || !signalled(sub) {
		t.Errorf("append event: %v, want a signal", err)
	}
	if err := s.ArchiveRequest(ctx, "r1", r2.Version); err != nil || !signalled(sub) {
		t.Errorf("archive: %v, want a signal", err)
	}
}
