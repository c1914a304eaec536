package store

import "time"

// Cancellation records who cancelled a request, when and why.
type Cancellation struct {
	Actor  string    `json:"actor,omitempty"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at,omitzero"`
}
