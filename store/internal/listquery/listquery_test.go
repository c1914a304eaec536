package listquery

import (
	"errors"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/lifecycle"
)

func TestParse(t *testing.T) {
	t.Parallel()
	c := Cursor{ReceivedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), ID: "r1"}
	tests := []struct {
		q         tfpilot.ListQuery
		limit     int
		cursor    *Cursor
		wantError bool
	}{
		{tfpilot.ListQuery{}, tfpilot.DefaultPageSize, nil, false},
		{tfpilot.ListQuery{Limit: 7}, 7, nil, false},
		{tfpilot.ListQuery{Limit: tfpilot.MaxPageSize + 1}, tfpilot.MaxPageSize, nil, false},
		{tfpilot.ListQuery{Limit: -1}, 0, nil, true},
		{tfpilot.ListQuery{Statuses: []lifecycle.Status{"nope"}}, 0, nil, true},
		{tfpilot.ListQuery{Cursor: Encode(c)}, tfpilot.DefaultPageSize, &c, false},
		{tfpilot.ListQuery{Cursor: "%%"}, 0, nil, true},
		{tfpilot.ListQuery{Cursor: Encode(Cursor{})}, 0, nil, true},
	}
	for _, tt := range tests {
		limit, cur, err := Parse(tt.q)
		if tt.wantError {
			if !errors.Is(err, tfpilot.ErrInvalid) {
				t.Errorf("Parse(%+v) err = %v, want ErrInvalid", tt.q, err)
			}
			continue
		}
		if err != nil || limit != tt.limit || (cur == nil) != (tt.cursor == nil) || cur != nil && (!cur.ReceivedAt.Equal(tt.cursor.ReceivedAt) || cur.ID != tt.cursor.ID) {
			t.Errorf("Parse(%+v) = %d, %+v, %v", tt.q, limit, cur, err)
		}
	}
}
