package listquery

import (
	"errors"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/store"
)

func TestParse(t *testing.T) {
	t.Parallel()
	c := Cursor{ReceivedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), ID: "r1"}
	tests := []struct {
		q         store.ListQuery
		limit     int
		cursor    *Cursor
		wantError bool
	}{
		{store.ListQuery{}, store.DefaultPageSize, nil, false},
		{store.ListQuery{Limit: 7}, 7, nil, false},
		{store.ListQuery{Limit: store.MaxPageSize + 1}, store.MaxPageSize, nil, false},
		{store.ListQuery{Limit: -1}, 0, nil, true},
		{store.ListQuery{Statuses: []lifecycle.Status{"nope"}}, 0, nil, true},
		{store.ListQuery{Cursor: Encode(c)}, store.DefaultPageSize, &c, false},
		{store.ListQuery{Cursor: "%%"}, 0, nil, true},
		{store.ListQuery{Cursor: Encode(Cursor{})}, 0, nil, true},
	}
	for _, tt := range tests {
		limit, cur, err := Parse(tt.q)
		if tt.wantError {
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("Parse(%+v) err = %v, want ErrInvalid", tt.q, err)
			}
			continue
		}
		if err != nil || limit != tt.limit || (cur == nil) != (tt.cursor == nil) || cur != nil && (!cur.ReceivedAt.Equal(tt.cursor.ReceivedAt) || cur.ID != tt.cursor.ID) {
			t.Errorf("Parse(%+v) = %d, %+v, %v", tt.q, limit, cur, err)
		}
	}
}
