package pgstore

import (
	"encoding/json"
	"time"

	"github.com/tfpilot/tfpilot"
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
// d: its JSON when it holds fields [tfpilot.Delivery] does not model
// (a legacy bucket's), else nil (NULL).
func deliveryRaw(d tfpilot.Delivery) (*string, error) {
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
func deliveryOf(id, event string, claimed, completed time.Time, outcome string, raw *string) tfpilot.Delivery {
	var d tfpilot.Delivery
	if raw == nil || json.Unmarshal([]byte(*raw), &d) != nil {
		d = tfpilot.Delivery{}
	}
	d.ID, d.Event, d.ClaimedAt, d.CompletedAt, d.Outcome = id, event, claimed, completed, outcome
	return d
}
