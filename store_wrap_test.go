package tfpilot_test

import (
	"context"
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/changefeed"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// TestKeepExtensions_DecoratorsKeepTheFastPaths protects issue 19's
// gains in the reference server, whose engine gets its store through a
// change feed (changefeed.Notify) and tracing (TraceStore): through
// them the engine must still find the store's InsightsStore (flat
// Insights) and DeliveryWriter (a webhook delivery in three round
// trips), and a CommitRequest must still reach the change feed.
func TestKeepExtensions_DecoratorsKeepTheFastPaths(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	decorate := func(s tfpilot.Store, h *changefeed.Hub) map[string]tfpilot.Store {
		return map[string]tfpilot.Store{
			"Notify":             changefeed.Notify(s, h),
			"TraceStore":         tfpilot.TraceStore(s, nil),
			"Notify(TraceStore)": changefeed.Notify(tfpilot.TraceStore(s, nil), h),
		}
	}
	t.Run("memstore", func(t *testing.T) {
		t.Parallel()
		for name, s := range decorate(memstore.New(nil), changefeed.New()) {
			if _, ok := s.(tfpilot.InsightsStore); !ok {
				t.Errorf("%s(memstore) hides its InsightsStore", name)
			}
			if _, ok := s.(store.DeliveryWriter); ok {
				t.Errorf("%s(memstore) claims a DeliveryWriter memstore does not have", name)
			}
		}
	})
	t.Run("pgstore", func(t *testing.T) {
		t.Parallel()
		ps := newPGStore(t)
		h := changefeed.New()
		for name, s := range decorate(ps, h) {
			if _, ok := s.(tfpilot.InsightsStore); !ok {
				t.Errorf("%s(pgstore) hides its InsightsStore", name)
			}
			if _, ok := s.(store.DeliveryWriter); !ok {
				t.Errorf("%s(pgstore) hides its DeliveryWriter", name)
			}
		}
		s := changefeed.Notify(ps, h)
		r, err := s.CreateRequest(ctx, &tfpilot.Request{ID: "keep-ext-1", Project: "p", Environment: "dev", Module: "m"})
		if err != nil {
			t.Fatal(err)
		}
		sub := h.Subscribe(r.ID)
		defer sub.Close()
		r.Module = "m2"
		if _, _, err := s.(store.DeliveryWriter).CommitRequest(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
		select {
		case <-sub.C:
		default:
			t.Error("a CommitRequest through Notify did not reach the change feed")
		}
	})
}
