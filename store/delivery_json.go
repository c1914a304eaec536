package store

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"time"
)

// deliveryJSON is the JSON document of a delivery: the body of the
// original system's webhooks/github/deliveries/<id>.json. State is
// derived from CompletedAt on encode.
type deliveryJSON struct {
	DeliveryID  string    `json:"deliveryId"`
	Event       string    `json:"event,omitempty"`
	State       string    `json:"state,omitempty"`
	ClaimedAt   time.Time `json:"claimedAt,omitzero"`
	CompletedAt time.Time `json:"completedAt,omitzero"`
	Outcome     string    `json:"outcome,omitempty"`
}

var typeOfDelivery = reflect.TypeFor[deliveryJSON]()

// Delivery states in a delivery document.
const (
	deliveryClaimed   = "claimed"
	deliveryCompleted = "completed"
)

// UnmarshalJSON decodes a delivery document
// ({"deliveryId","event","state","claimedAt","completedAt","outcome"}).
// Like a request or an event, a delivery other programs wrote keeps what
// [Delivery] does not model (legacy time fields, a portal's extra
// fields) and values of the wrong shape as written;
// [Delivery.MarshalJSON] writes them back.
func (d *Delivery) UnmarshalJSON(b []byte) error {
	var doc deliveryJSON
	raw, err := decodeLossless(b, typeOfDelivery, nil, &doc)
	if err != nil {
		return fmt.Errorf("store: decode delivery: %w", err)
	}
	*d = Delivery{ID: doc.DeliveryID, Event: doc.Event, ClaimedAt: doc.ClaimedAt, CompletedAt: doc.CompletedAt, Outcome: doc.Outcome}
	if len(raw.unknownTop(typeOfDelivery)) > 0 || len(raw.issues) > 0 {
		d.raw = raw
	}
	return nil
}

// MarshalJSON encodes the delivery document, with what it was decoded
// with and does not model.
func (d Delivery) MarshalJSON() ([]byte, error) {
	doc := deliveryJSON{DeliveryID: d.ID, Event: d.Event, State: deliveryClaimed, ClaimedAt: d.ClaimedAt, CompletedAt: d.CompletedAt, Outcome: d.Outcome}
	if !d.CompletedAt.IsZero() {
		doc.State = deliveryCompleted
	}
	b, err := json.Marshal(doc)
	if err != nil || d.raw == nil {
		return b, err
	}
	return d.raw.encode(b)
}

// UnknownFields returns the top-level fields of the stored delivery
// document that [Delivery] does not model, as raw JSON. The map is a
// copy.
func (d *Delivery) UnknownFields() map[string]json.RawMessage {
	if d.raw == nil {
		return nil
	}
	return maps.Clone(d.raw.unknownTop(typeOfDelivery))
}
