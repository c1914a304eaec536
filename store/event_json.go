package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"reflect"
)

// eventJSON has Event's fields without its methods.
type eventJSON Event

var typeOfEvent = reflect.TypeFor[eventJSON]()

// UnmarshalJSON decodes a lifecycle event. Like a request document, an
// event that other programs wrote keeps what [Event] does not model
// (a legacy ts, a portal's extra fields, at any depth) and values of the
// wrong shape as written; [Event.MarshalJSON] writes them back.
func (e *Event) UnmarshalJSON(b []byte) error {
	var doc eventJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if dec.Decode(&doc) == nil {
		if _, err := dec.Token(); err == io.EOF {
			*e = Event(doc)
			return nil
		}
	}
	doc = eventJSON{}
	raw, err := decodeLossless(b, typeOfEvent, nil, &doc)
	if err != nil {
		return fmt.Errorf("store: decode event: %w", err)
	}
	*e = Event(doc)
	e.raw = raw
	return nil
}

// MarshalJSON encodes the event with what it was decoded with and does
// not model.
func (e Event) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(eventJSON(e))
	if err != nil || e.raw == nil {
		return b, err
	}
	return e.raw.encode(b)
}

// UnknownFields returns the top-level fields of the stored event that
// [Event] does not model, as raw JSON. The map is a copy.
func (e *Event) UnknownFields() map[string]json.RawMessage {
	if e.raw == nil {
		return nil
	}
	return maps.Clone(e.raw.unknownTop(typeOfEvent))
}
