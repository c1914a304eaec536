package pgstore

import (
	"encoding/json"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

// eventDoc returns the event document to decode: the exact text (raw)
// when the row keeps it, else the JSONB document.
func eventDoc(doc []byte, raw *string) []byte {
	if raw != nil {
		return []byte(*raw)
	}
	return doc
}

// deliveryRaw returns the document to keep in tfpilot_deliveries.raw for
// d: its JSON when it holds fields [store.Delivery] does not model
// (a legacy bucket's), else nil (NULL).
func deliveryRaw(d store.Delivery) (*string, error) {
	if len(d.UnknownFields()) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

// deliveryOf builds a delivery from its columns, which are
// authoritative, and the document the row keeps (raw), whose fields a
// Delivery does not model it carries along. A raw that does not decode
// is ignored: the columns alone are the delivery.
func deliveryOf(id, event string, claimed, completed time.Time, outcome string, raw *string) store.Delivery {
	var d store.Delivery
	if raw == nil || json.Unmarshal([]byte(*raw), &d) != nil {
		d = store.Delivery{}
	}
	d.ID, d.Event, d.ClaimedAt, d.CompletedAt, d.Outcome = id, event, claimed, completed, outcome
	return d
}
