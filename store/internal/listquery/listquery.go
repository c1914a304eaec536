package listquery

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

// Cursor is the position after which the next page starts: the last
// request of the previous page.
type Cursor struct {
	ReceivedAt time.Time `json:"t"`
	ID         string    `json:"id"`
}

// Encode returns c as an opaque cursor string.
func Encode(c Cursor) string {
	b, _ := json.Marshal(c) // a time and a string always encode
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode parses a cursor made by [Encode].
func Decode(s string) (*Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("cursor %q: %w", s, store.ErrInvalid)
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" {
		return nil, fmt.Errorf("cursor %q: %w", s, store.ErrInvalid)
	}
	return &c, nil
}

// Check checks q's page size and status filters and returns the page
// size, defaulted and clamped. It does not look at the cursor, whose form
// is the store's.
func Check(q store.ListQuery) (int, error) {
	limit := q.Limit
	switch {
	case limit < 0:
		return 0, fmt.Errorf("limit %d: %w", limit, store.ErrInvalid)
	case limit == 0:
		limit = store.DefaultPageSize
	case limit > store.MaxPageSize:
		limit = store.MaxPageSize
	}
	for _, st := range q.Statuses {
		if !st.Valid() {
			return 0, fmt.Errorf("status filter %q: %w", st, store.ErrInvalid)
		}
	}
	return limit, nil
}

// Parse checks q (see [Check]) and returns its page size and decoded
// [Cursor] (nil for the first page).
func Parse(q store.ListQuery) (int, *Cursor, error) {
	limit, err := Check(q)
	if err != nil {
		return 0, nil, err
	}
	if q.Cursor == "" {
		return limit, nil, nil
	}
	c, err := Decode(q.Cursor)
	if err != nil {
		return 0, nil, err
	}
	return limit, c, nil
}
