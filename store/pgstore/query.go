package pgstore

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot"
)

// cursor is the position after which the next page starts: the last
// request of the previous page.
type cursor struct {
	ReceivedAt time.Time `json:"t"`
	ID         string    `json:"id"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c) // a time and a string always encode
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("cursor %q: %w", s, tfpilot.ErrInvalid)
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" {
		return nil, fmt.Errorf("cursor %q: %w", s, tfpilot.ErrInvalid)
	}
	return &c, nil
}

// parseQuery checks q and returns its page size and decoded cursor (nil
// for the first page).
func parseQuery(q tfpilot.ListQuery) (int, *cursor, error) {
	limit := q.Limit
	switch {
	case limit < 0:
		return 0, nil, fmt.Errorf("limit %d: %w", limit, tfpilot.ErrInvalid)
	case limit == 0:
		limit = tfpilot.DefaultPageSize
	case limit > tfpilot.MaxPageSize:
		limit = tfpilot.MaxPageSize
	}
	for _, st := range q.Statuses {
		if !st.Valid() {
			return 0, nil, fmt.Errorf("status filter %q: %w", st, tfpilot.ErrInvalid)
		}
	}
	if q.Cursor == "" {
		return limit, nil, nil
	}
	c, err := decodeCursor(q.Cursor)
	if err != nil {
		return 0, nil, err
	}
	return limit, c, nil
}
