package changefeed_test

import (
	"context"
	"fmt"

	"github.com/tfpilot/tfpilot/changefeed"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// A watcher subscribes to one request; writes through the notifying
// store signal it, and several writes before it looks arrive as one
// signal.
func ExampleNotify() {
	ctx := context.Background()
	hub := changefeed.New()
	s := changefeed.Notify(memstore.New(nil), hub)
	sub := hub.Subscribe("r1")
	defer sub.Close()

	r, _ := s.CreateRequest(ctx, &store.Request{ID: "r1", Project: "payments", Environment: "dev", Module: "s3_bucket"})
	s.AppendEvent(ctx, store.Event{RequestID: r.ID, Event: "request_created"})
	select {
	case <-sub.C:
		fmt.Println("r1 changed: read it again")
	default:
		fmt.Println("no change")
	}
	select {
	case <-sub.C:
		fmt.Println("a second signal")
	default:
		fmt.Println("two writes, one signal")
	}
	// Output:
	// r1 changed: read it again
	// two writes, one signal
}
