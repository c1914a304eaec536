package store

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/runs"
)

func mustRequest(t *testing.T, doc string) *Request {
	t.Helper()
	var r Request
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestItemCanonical_IdentityIgnoresEncodingNotContent: two items are
// identical exactly when their content is, however the backend spelled
// the JSON or the time.
func TestItemCanonical_IdentityIgnoresEncodingNotContent(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 6, 1, 10, 0, 0, 123456789, time.UTC)
	paris := time.FixedZone("CEST", 2*3600)
	tests := []struct {
		name string
		a, b Item
		same bool
	}{
		{"request: key order and spacing", Item{Kind: KindRequest, Request: mustRequest(t, `{"id":"r1","version":2,"templateId":{"a":1,"b":[1,2]}}`)},
			Item{Kind: KindRequest, Request: mustRequest(t, `{ "templateId": {"b": [1, 2], "a": 1}, "version": 2, "id": "r1" }`)}, true},
		{"request: unknown field differs", Item{Kind: KindRequest, Request: mustRequest(t, `{"id":"r1","templateId":"a"}`)},
			Item{Kind: KindRequest, Request: mustRequest(t, `{"id":"r1","templateId":"b"}`)}, false},
		{"request: version differs", Item{Kind: KindRequest, Request: mustRequest(t, `{"id":"r1","version":1}`)},
			Item{Kind: KindRequest, Request: mustRequest(t, `{"id":"r1","version":2}`)}, false},
		{"request: number spelled differently is different", Item{Kind: KindRequest, Request: mustRequest(t, `{"id":"r1","x":1.0}`)},
			Item{Kind: KindRequest, Request: mustRequest(t, `{"id":"r1","x":1}`)}, false},
		{"delivery: time zone and nanoseconds below a microsecond", Item{Kind: KindDelivery, Delivery: &Delivery{ID: "d", ClaimedAt: at}},
			Item{Kind: KindDelivery, Delivery: &Delivery{ID: "d", ClaimedAt: at.Truncate(time.Microsecond).In(paris)}}, true},
		{"delivery: a microsecond apart", Item{Kind: KindDelivery, Delivery: &Delivery{ID: "d", ClaimedAt: at}},
			Item{Kind: KindDelivery, Delivery: &Delivery{ID: "d", ClaimedAt: at.Add(time.Microsecond)}}, false},
		{"cost: bytes, not JSON", Item{Kind: KindCost, Cost: &Cost{RequestID: "r1", Estimate: []byte(`{"a": 1}`)}},
			Item{Kind: KindCost, Cost: &Cost{RequestID: "r1", Estimate: []byte(`{"a":1}`)}}, false},
		{"run index: other request", Item{Kind: KindRunIndex, Run: &RunIndexEntry{Kind: runs.Plan, RunID: 1, RequestID: "a"}},
			Item{Kind: KindRunIndex, Run: &RunIndexEntry{Kind: runs.Plan, RunID: 1, RequestID: "b"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, err := tc.a.Canonical()
			if err != nil {
				t.Fatal(err)
			}
			b, err := tc.b.Canonical()
			if err != nil {
				t.Fatal(err)
			}
			if (string(a) == string(b)) != tc.same {
				t.Errorf("same = %v, want %v\n a: %s\n b: %s", string(a) == string(b), tc.same, a, b)
			}
			if tc.a.Key() != tc.b.Key() {
				t.Errorf("keys %q and %q differ", tc.a.Key(), tc.b.Key())
			}
		})
	}
}

func TestItemCheck_MalformedIsInvalid(t *testing.T) {
	t.Parallel()
	for _, it := range []Item{
		{},
		{Kind: KindArchivedRequest},
		{Kind: KindRequest, Request: &Request{ID: "a/b"}},
		{Kind: KindEvent, Event: &Event{ID: "e", RequestID: "r", Event: "x"}},
		{Kind: KindPRIndex, PR: &PRIndexEntry{PR: PRRef{Owner: "o", Number: 1}, RequestID: "r"}},
		{Kind: KindCost, Cost: &Cost{RequestID: "r"}},
	} {
		if err := it.Check(); !errors.Is(err, ErrInvalid) {
			t.Errorf("Check(%+v) = %v; want ErrInvalid", it, err)
		}
		if _, err := it.Canonical(); !errors.Is(err, ErrInvalid) {
			t.Errorf("Canonical(%+v) = %v; want ErrInvalid", it, err)
		}
	}
	if err := (Item{Kind: KindRequest, Request: &Request{ID: "id.1"}}).Check(); err != nil {
		t.Errorf("a request with only an id: %v; old documents may lack the rest", err)
	}
}
