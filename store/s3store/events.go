package s3store

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

// AppendEvent implements [store.EventStore]. The event is written to
// logs/<requestId>/<timestamp>_<eventId>.json, where the original
// TfPilot's readers (which list logs/<requestId>/ and read every object)
// find it. Uniqueness of the event id is claimed first with
// If-None-Match: * on tfpilot/event-ids/<requestId>/<eventId>.json, whose
// body is the event; when the claim exists but its log object does not
// (a crash between the two writes), a repeat writes the log object from
// the claim and reports [store.ErrAlreadyExists], so that retrying an
// append is safe.
func (s *Store) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	if e.RequestID == "" || e.Event == "" || !safeID(e.RequestID) {
		return store.Event{}, fmt.Errorf("s3store: append event %q to request %q: empty or unusable request id, or empty event name: %w", e.ID, e.RequestID, store.ErrInvalid)
	}
	if e.Timestamp.IsZero() {
		e.Timestamp = s.now()
	}
	if e.ID == "" {
		e.ID = s.newEventID(e.Timestamp)
	}
	body, err := json.Marshal(e)
	if err != nil {
		return store.Event{}, fmt.Errorf("s3store: append event to request %q: encode: %w: %w", e.RequestID, store.ErrInvalid, err)
	}
	idKey := s.eventIDKey(e.RequestID, e.ID)
	_, err = s.put(ctx, idKey, body, cond{ifNoneMatch: true})
	switch {
	case isPrecondition(err):
		if err := s.finishEvent(ctx, idKey); err != nil {
			return store.Event{}, fmt.Errorf("s3store: append event %q to request %q: %w", e.ID, e.RequestID, err)
		}
		return store.Event{}, fmt.Errorf("s3store: append event %q to request %q: %w", e.ID, e.RequestID, store.ErrAlreadyExists)
	case err != nil:
		return store.Event{}, fmt.Errorf("s3store: append event %q to request %q: %w", e.ID, e.RequestID, err)
	}
	if _, err := s.put(ctx, s.eventKey(e.RequestID, e.Timestamp, e.ID), body, cond{}); err != nil {
		return store.Event{}, fmt.Errorf("s3store: append event %q to request %q: %w", e.ID, e.RequestID, err)
	}
	var out store.Event
	if err := json.Unmarshal(body, &out); err != nil {
		return store.Event{}, fmt.Errorf("s3store: append event %q to request %q: %w", e.ID, e.RequestID, err)
	}
	return out, nil
}

// finishEvent writes the log object of the event claimed at idKey if
// it is missing.
func (s *Store) finishEvent(ctx context.Context, idKey string) error {
	obj, err := s.get(ctx, idKey)
	if err != nil {
		return err
	}
	var e store.Event
	if err := json.Unmarshal(obj.body, &e); err != nil {
		return fmt.Errorf("decode %s: %w", idKey, err)
	}
	key := s.eventKey(e.RequestID, e.Timestamp, e.ID)
	ok, err := s.exists(ctx, key)
	if err != nil || ok {
		return err
	}
	_, err = s.put(ctx, key, obj.body, cond{})
	return err
}

// newEventID returns an id that sorts by t, then by the order of calls
// within this process, with random bits so that two processes do not
// collide.
func (s *Store) newEventID(t time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return fmt.Sprintf("%s-%010d-%s", t.UTC().Format("20060102T150405.000000000Z"), s.eventSeq.Add(1), hex.EncodeToString(b[:]))
}

// legacyEvent reads an event liberally: the original wrote
// {requestId, event, actor, source, data} with a timestamp whose field
// name and form (RFC 3339 or Unix milliseconds) varied, and no id.
type legacyEvent struct {
	ID        string          `json:"id"`
	RequestID string          `json:"requestId"`
	Event     string          `json:"event"`
	Actor     string          `json:"actor"`
	Source    string          `json:"source"`
	Data      map[string]any  `json:"data"`
	Timestamp json.RawMessage `json:"timestamp"`
	TS        json.RawMessage `json:"ts"`
	At        json.RawMessage `json:"at"`
	CreatedAt json.RawMessage `json:"createdAt"`
}

// ListEvents implements [store.EventStore]: it lists
// logs/<requestId>/ and reads every object (with bounded parallelism).
// An event without an id gets its key's name; one without a timestamp
// gets the time its key names, else the object's LastModified.
func (s *Store) ListEvents(ctx context.Context, requestID string) ([]store.Event, error) {
	if !safeID(requestID) {
		return []store.Event{}, nil
	}
	dir := s.eventDir(requestID)
	objs, err := s.listAll(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("s3store: list events of request %q: %w", requestID, err)
	}
	events := make([]store.Event, len(objs))
	err = s.parallel(ctx, len(objs), func(ctx context.Context, i int) error {
		obj, err := s.get(ctx, objs[i].key)
		switch {
		case isMissing(err):
			return nil
		case err != nil:
			return err
		}
		// As an export reads it: losslessly, so an event's fields
		// Event does not model and its exact strings come back.
		name := strings.TrimSuffix(strings.TrimPrefix(objs[i].key, dir), ".json")
		e, err := decodeEvent(requestID, name, obj)
		if err != nil {
			return fmt.Errorf("decode %s: %w", objs[i].key, err)
		}
		events[i] = e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("s3store: list events of request %q: %w", requestID, err)
	}
	events = slices.DeleteFunc(events, func(e store.Event) bool { return e.Event == "" && e.ID == "" })
	slices.SortStableFunc(events, func(a, b store.Event) int {
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return events, nil
}

// legacyTime returns the first of candidates that holds a time: an
// RFC 3339 string, Unix milliseconds, or a key name that starts with a
// time; else fallback.
func legacyTime(fallback time.Time, candidates ...json.RawMessage) time.Time {
	for _, c := range candidates {
		if len(c) == 0 || string(c) == "null" {
			continue
		}
		var ms int64
		if err := json.Unmarshal(c, &ms); err == nil {
			return time.UnixMilli(ms).UTC()
		}
		var str string
		if err := json.Unmarshal(c, &str); err != nil {
			continue
		}
		str, _, _ = strings.Cut(str, "_")
		if t, err := time.Parse(time.RFC3339Nano, str); err == nil {
			return t
		}
		if t, ok := parseDashedTime(str); ok {
			return t
		}
	}
	return fallback
}
