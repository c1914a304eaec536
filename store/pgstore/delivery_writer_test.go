package pgstore_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// lenientDoc is a stored document with what JSONB would not keep
// exactly: a number in exponent form, U+0000 and a lone surrogate.
const lenientDoc = `{"id":"%s","project":"p","environment":"dev","module":"m","receivedAt":"2026-01-02T03:04:05Z",` +
	`"portal":{"big":1e+21,"note":"nul \u0000 lone \ud800"}}`

func stage(r *store.Request, name string, at time.Time) {
	store.StageEvent(r, store.Event{Event: name, Timestamp: at, Actor: "github", Source: "test",
		Data: map[string]any{"note": "x \u0000 y", "n": json.Number("1e+21")}})
}

// TestCommitRequest_StoresWhatUpdateAndFlushStore checks the extension
// against the plain path on the same input: the same document (raw
// text kept), the same events, and an empty outbox.
func TestCommitRequest_StoresWhatUpdateAndFlushStore(t *testing.T) {
	s := openStore(t, testenv.PostgresDSN(t), nil)
	ctx := t.Context()
	at := time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)
	var docs [2][]byte
	var events [2][]store.Event
	for i, id := range []string{"plain", "commit"} {
		var r store.Request
		if err := json.Unmarshal([]byte(fmt.Sprintf(lenientDoc, id)), &r); err != nil {
			t.Fatal(err)
		}
		cur, err := s.CreateRequest(ctx, &r)
		if err != nil {
			t.Fatal(err)
		}
		next := cur.Clone()
		next.Runs = runs.Dispatch(next.Runs, runs.Plan, runs.DispatchMeta{}, at)
		next.UpdatedAt = at
		stage(next, "plan_dispatched", at)
		if i == 0 {
			stored, err := s.UpdateRequest(ctx, next)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := store.FlushOutbox(ctx, s, stored); err != nil {
				t.Fatal(err)
			}
		} else {
			stored, completed, err := s.CommitRequest(ctx, next, nil)
			if err != nil || completed || stored.Version != 2 || len(stored.Outbox) != 0 {
				t.Fatalf("commit: version %v, outbox %v, completed %v, err %v", stored.Version, stored.Outbox, completed, err)
			}
		}
		got, err := s.GetRequest(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got.ID, got.Version = "", 0 // the plain path wrote twice
		if docs[i], err = json.Marshal(got); err != nil {
			t.Fatal(err)
		}
		if events[i], err = s.ListEvents(ctx, id); err != nil {
			t.Fatal(err)
		}
		for j := range events[i] {
			events[i][j].RequestID = ""
		}
	}
	if string(docs[0]) != string(docs[1]) {
		t.Errorf("documents differ:\nplain  %s\ncommit %s", docs[0], docs[1])
	}
	e0, _ := json.Marshal(events[0])
	e1, _ := json.Marshal(events[1])
	if string(e0) != string(e1) || len(events[1]) != 1 {
		t.Errorf("events differ:\nplain  %s\ncommit %s", e0, e1)
	}
}

// TestCommitRequest_EventsOnlyWithTheWrite: a write that loses the
// compare-and-swap records none of its events and completes nothing.
func TestCommitRequest_EventsOnlyWithTheWrite(t *testing.T) {
	s := openStore(t, testenv.PostgresDSN(t), nil)
	ctx := t.Context()
	cur, err := s.CreateRequest(ctx, &store.Request{ID: "r1", Project: "p", Environment: "dev", Module: "m"})
	if err != nil {
		t.Fatal(err)
	}
	claim, err := s.ClaimDelivery(ctx, "d1", "workflow_run")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateRequest(ctx, withConfig(cur, "other")); err != nil { // a concurrent writer wins
		t.Fatal(err)
	}
	stale := withConfig(cur, "mine")
	stage(stale, "loser", time.Now())
	_, completed, err := s.CommitRequest(ctx, stale, &store.DeliveryDone{ID: "d1", Claim: claim, Outcome: "x"})
	if !errors.Is(err, store.ErrConflict) || completed {
		t.Fatalf("stale commit: completed %v, err %v; want ErrConflict", completed, err)
	}
	if evs, _ := s.ListEvents(ctx, "r1"); len(evs) != 0 {
		t.Errorf("events after a lost write: %v", evs)
	}
	if d, _ := s.GetDelivery(ctx, "d1"); !d.CompletedAt.IsZero() {
		t.Errorf("delivery completed by a lost write: %+v", d)
	}
	// Replayed: the same staged event (same id) recorded twice counts once.
	fresh, err := s.GetRequest(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	next := withConfig(fresh, "mine")
	stage(next, "winner", time.Now())
	e := next.Outbox[0]
	if _, err := s.AppendEvent(ctx, e); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CommitRequest(ctx, next, nil); err != nil {
		t.Fatal(err)
	}
	if evs, _ := s.ListEvents(ctx, "r1"); len(evs) != 1 || evs[0].ID != e.ID {
		t.Errorf("events: %v; want the one event once", evs)
	}
}

// TestCommitRequest_CompletionFencedOnClaim: the write completes the
// delivery only under the claim it names; a replaced claim is left to
// its holder and does not stop the (idempotent) write.
func TestCommitRequest_CompletionFencedOnClaim(t *testing.T) {
	s := openStore(t, testenv.PostgresDSN(t), nil)
	ctx := t.Context()
	cur, err := s.CreateRequest(ctx, &store.Request{ID: "r1", Project: "p", Environment: "dev", Module: "m"})
	if err != nil {
		t.Fatal(err)
	}
	claim, err := s.ClaimDelivery(ctx, "d1", "workflow_run")
	if err != nil {
		t.Fatal(err)
	}
	stored, completed, err := s.CommitRequest(ctx, withConfig(cur, "a"), &store.DeliveryDone{ID: "d1", Claim: claim.Add(-time.Second), Outcome: "stale"})
	if err != nil || completed || stored.Version != 2 {
		t.Fatalf("commit under a replaced claim: version %d, completed %v, err %v; want the write, no completion", stored.Version, completed, err)
	}
	if d, _ := s.GetDelivery(ctx, "d1"); !d.CompletedAt.IsZero() {
		t.Fatalf("delivery completed under another claim: %+v", d)
	}
	_, completed, err = s.CommitRequest(ctx, withConfig(stored, "b"), &store.DeliveryDone{ID: "d1", Claim: claim, Outcome: "done"})
	if err != nil || !completed {
		t.Fatalf("commit under the claim: completed %v, err %v", completed, err)
	}
	d, err := s.GetDelivery(ctx, "d1")
	if err != nil || d.CompletedAt.IsZero() || d.Outcome != "done" {
		t.Fatalf("delivery: %+v, %v; want completed with outcome done", d, err)
	}
	if _, err := s.ClaimDelivery(ctx, "d1", "workflow_run"); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("claim of a completed delivery: %v, want ErrAlreadyExists", err)
	}
}

// TestLookupRequest_MatchesLookupAndGet: the joined lookups return what
// LookupRun/LookupPR and GetRequest return, ErrNotFound for no entry,
// and the id without a request for an entry naming none.
func TestLookupRequest_MatchesLookupAndGet(t *testing.T) {
	s := openStore(t, testenv.PostgresDSN(t), nil)
	ctx := t.Context()
	var r store.Request
	if err := json.Unmarshal([]byte(fmt.Sprintf(lenientDoc, "r1")), &r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRequest(ctx, &r); err != nil {
		t.Fatal(err)
	}
	pr := store.PRRef{Owner: "o", Repo: "r", Number: 7}
	for _, err := range []error{s.IndexRun(ctx, runs.Plan, 11, "r1"), s.IndexRun(ctx, runs.Plan, 12, "gone"), s.IndexPR(ctx, pr, "r1")} {
		if err != nil {
			t.Fatal(err)
		}
	}
	want, err := s.GetRequest(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, _ := json.Marshal(want)
	for name, look := range map[string]func() (string, *store.Request, error){
		"run": func() (string, *store.Request, error) { return s.LookupRunRequest(ctx, runs.Plan, 11) },
		"pr":  func() (string, *store.Request, error) { return s.LookupPRRequest(ctx, pr) },
	} {
		id, got, err := look()
		if err != nil || id != "r1" || got == nil {
			t.Fatalf("%s: %q %v %v", name, id, got, err)
		}
		if gotJSON, _ := json.Marshal(got); string(gotJSON) != string(wantJSON) || got.Version != want.Version {
			t.Errorf("%s: read\n%s\nwant\n%s", name, gotJSON, wantJSON)
		}
	}
	if id, got, err := s.LookupRunRequest(ctx, runs.Plan, 12); err != nil || id != "gone" || got != nil {
		t.Errorf("entry naming no request: %q %v %v; want the id, no request", id, got, err)
	}
	if _, _, err := s.LookupRunRequest(ctx, runs.Apply, 11); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("no entry: %v, want ErrNotFound", err)
	}
	if _, _, err := s.LookupPRRequest(ctx, store.PRRef{Owner: "o", Repo: "r", Number: 8}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("no PR entry: %v, want ErrNotFound", err)
	}
}

func withConfig(r *store.Request, v string) *store.Request {
	c := r.Clone()
	c.Config = map[string]any{"name": v}
	return c
}
