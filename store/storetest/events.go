package storetest

import (
	"reflect"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

var eventTests = []test{
	{"Events/ListedInTimeOrderTiesByID", testEventsOrder},
	{"Events/StoreAssignsUniqueIDAndTimestamp", testEventsAssigned},
	{"Events/ExistingIDIsAlreadyExists", testEventsDuplicate},
	{"Events/NoneIsEmptyNotError", testEventsNone},
}

func (e *env) appendEvent(ev store.Event) store.Event {
	e.Helper()
	got, err := e.s.AppendEvent(e.ctx, ev)
	if err != nil {
		e.Fatalf("AppendEvent(%+v): %v", ev, err)
	}
	return got
}

func (e *env) listEvents(requestID string) []store.Event {
	e.Helper()
	got, err := e.s.ListEvents(e.ctx, requestID)
	if err != nil {
		e.Fatalf("ListEvents(%q): %v", requestID, err)
	}
	return got
}

func testEventsOrder(e *env) {
	t0 := e.clock.Now()
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	in := []store.Event{
		{ID: "e3", RequestID: "r1", Event: "applied", Timestamp: at(3), Actor: "bob", Source: "webhook",
			Data: map[string]any{"runId": float64(7), "nested": map[string]any{"ok": true}}},
		{ID: "b", RequestID: "r1", Event: "planned", Timestamp: at(1)},
		{ID: "e0", RequestID: "r1", Event: "created", Timestamp: at(0)},
		{ID: "c", RequestID: "r1", Event: "approved", Timestamp: at(1)},
		{ID: "a", RequestID: "r1", Event: "plan_started", Timestamp: at(1)},
		{ID: "x", RequestID: "r2", Event: "created", Timestamp: at(2)},
	}
	for _, ev := range in {
		if got := e.appendEvent(ev); !reflect.DeepEqual(generic(e, got), generic(e, ev)) {
			e.Errorf("AppendEvent returned %+v, want %+v", got, ev)
		}
	}
	got := e.listEvents("r1")
	want := []store.Event{in[2], in[4], in[1], in[3], in[0]}
	if len(got) != len(want) {
		e.Fatalf("ListEvents(r1) = %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Timestamp.Equal(want[i].Timestamp) || !reflect.DeepEqual(generic(e, got[i]), generic(e, want[i])) {
			e.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func testEventsAssigned(e *env) {
	a := e.appendEvent(store.Event{RequestID: "r1", Event: "created"})
	b := e.appendEvent(store.Event{RequestID: "r1", Event: "created"})
	if a.ID == "" || b.ID == "" || a.ID == b.ID {
		e.Errorf("assigned ids %q and %q, want two distinct non-empty ids", a.ID, b.ID)
	}
	if now := e.clock.Now(); !a.Timestamp.Equal(now) || !b.Timestamp.Equal(now) {
		e.Errorf("zero timestamps became %v and %v, want the store's clock %v", a.Timestamp, b.Timestamp, now)
	}
	if got := e.listEvents("r1"); len(got) != 2 {
		e.Errorf("ListEvents = %d events, want 2", len(got))
	}
}

func testEventsDuplicate(e *env) {
	first := store.Event{ID: "e1", RequestID: "r1", Event: "created", Timestamp: e.clock.Now()}
	e.appendEvent(first)
	dup := first
	dup.Event = "something else"
	_, err := e.s.AppendEvent(e.ctx, dup)
	e.wantErr("AppendEvent with an id the request has", err, store.ErrAlreadyExists, "e1")
	other := first
	other.RequestID = "r2"
	e.appendEvent(other) // ids are per request
	got := e.listEvents("r1")
	if len(got) != 1 || got[0].Event != "created" {
		e.Errorf("ListEvents(r1) after a refused duplicate = %+v, want the first event only", got)
	}
}

func testEventsNone(e *env) {
	if got := e.listEvents("nothing"); len(got) != 0 {
		e.Errorf("ListEvents of a request without events = %+v, want empty", got)
	}
}
