package s3store_test

import (
	"context"
	"testing"
	"time"
)

// TestCompleteDelivery_KeepsTheOriginalObjectsExtraFields: completing a
// claim another program wrote, with fields store.Delivery does not
// model, rewrites the object with them still in it.
func TestCompleteDelivery_KeepsTheOriginalObjectsExtraFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	claimed := e.clock.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	e.putRaw(t, "webhooks/github/deliveries/d-x.json", `{"deliveryId":"d-x","event":"push","state":"claimed","claimedAt":"`+
		claimed.Format(time.RFC3339Nano)+`","hookId":42,"headers":{"X-GitHub-Hook-ID":"42"}}`)
	if err := e.CompleteDelivery(ctx, "d-x", claimed, "ok"); err != nil {
		t.Fatal(err)
	}
	got := e.getRaw(t, "webhooks/github/deliveries/d-x.json")
	if got["state"] != "completed" || got["outcome"] != "ok" || got["hookId"] != float64(42) ||
		lookup(got, "headers", "X-GitHub-Hook-ID") != "42" {
		t.Errorf("completed delivery object = %v; want state completed, outcome ok and its hookId and headers kept", got)
	}
	d, err := e.GetDelivery(ctx, "d-x")
	if err != nil || d.CompletedAt.IsZero() || !d.ClaimedAt.Equal(claimed) {
		t.Errorf("GetDelivery = %+v, %v", d, err)
	}
}
