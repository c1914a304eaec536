package store_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tfpilot/tfpilot/store"
)

// FuzzDelivery_JSONKeepsEveryField: a delivery document that decodes
// encodes with every top-level field it held, unknown ones as written,
// and decoding that encoding changes nothing.
func FuzzDelivery_JSONKeepsEveryField(f *testing.F) {
	for _, s := range []string{
		`{"deliveryId":"d","event":"push","state":"completed","claimedAt":"2024-03-01T12:00:00Z","completedAt":"2024-03-01T12:00:01Z","outcome":"ok"}`,
		`{"deliveryId":"d","recordedAt":"2025-06-01T10:07:00.000Z","hookId":1e+21,"headers":{"a":[1,2.50]},"note":"\u0000 \ud800"}`,
		`{"deliveryId":"d","claimedAt":1709294400000,"completedAt":"","outcome":5}`,
		"\xEF\xBB\xBF{\"deliveryId\":\"d\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d store.Delivery
		if json.Unmarshal(b, &d) != nil {
			return
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("Marshal of decoded %q: %v", b, err)
		}
		for k, v := range d.UnknownFields() {
			var got map[string]json.RawMessage
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("encoding %s: %v", out, err)
			}
			if !bytes.Equal(got[k], v) {
				t.Errorf("unknown field %q = %s in %s; want %s", k, got[k], out, v)
			}
		}
		var again store.Delivery
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("decode own encoding %s: %v", out, err)
		}
		out2, err := json.Marshal(again)
		if err != nil || !bytes.Equal(out, out2) || again.ID != d.ID || again.Outcome != d.Outcome ||
			!again.ClaimedAt.Equal(d.ClaimedAt) || !again.CompletedAt.Equal(d.CompletedAt) {
			t.Errorf("re-decoding %s gave %+v, %s (%v); want %+v", out, again, out2, err, d)
		}
	})
}
