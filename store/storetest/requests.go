package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	_ "embed"

	"github.com/tfpilot/tfpilot/lock"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// seedRequest is a document as the original TfPilot wrote it, with
// fields tfpilot does not model at the top level (templateId, planRun,
// assistantState, prNumber) and inside modelled objects (pr.title,
// approval.requiredApprovals), and the legacy derived status.
//
//go:embed seed-request.json
var seedRequest []byte

var requestTests = []test{
	{"CreateRequest/StoresVersionOneAndStampsZeroTimes", testCreateStampsVersionAndTimes},
	{"CreateRequest/KeepsGivenTimes", testCreateKeepsGivenTimes},
	{"CreateRequest/ExistingIDIsAlreadyExists", testCreateExisting},
	{"CreateRequest/ConcurrentCreatorsExactlyOneWins", testCreateRace},
	{"UpdateRequest/CompareAndSwapOnVersion", testUpdateCAS},
	{"UpdateRequest/ConcurrentWritersLoseNoUpdate", testUpdateRace},
	{"UpdateRequest/IdenticalDocumentWritesNothing", testUpdateIdentical},
	{"UpdateRequest/UnknownFieldsSurvive", testUnknownFieldsSurvive},
	{"UpdateRequest/ChangingReceivedAtIsErrInvalidAndWritesNothing", testUpdateChangingReceivedAt},
	{"UpdateRequest/ZeroReceivedAtKeepsTheStoredOne", testUpdateZeroReceivedAt},
	{"UpdateRequest/ReceivedAtAsReadIsAlwaysAccepted", testUpdateReceivedAtAsRead},
	{"UpdateRequest/ReceivedAtInAnotherZoneIsTheStoredOne", testUpdateReceivedAtInAnotherZone}, // write.go
	{"UpdateRequest/StaleVersionIsConflictBeforeReceivedAtIsInvalid", testUpdateConflictBeforeReceivedAt},
	{"Requests/ReturnedDocumentsAreDeepCopies", testDeepCopies},
	{"ArchiveRequest/MovesToHistory", testArchive},
	{"ArchiveRequest/StaleVersionIsConflict", testArchiveConflict},
}

func testCreateStampsVersionAndTimes(e *env) {
	r := newRequest("r1")
	r.Version = 42
	got := e.create(r)
	now := e.clock.Now()
	if got.Version != 1 || !got.ReceivedAt.Equal(now) || !got.UpdatedAt.Equal(now) {
		e.Fatalf("created version %d receivedAt %v updatedAt %v; want 1, %v, %v", got.Version, got.ReceivedAt, got.UpdatedAt, now, now)
	}
	if r.Version != 42 || !r.ReceivedAt.IsZero() {
		e.Errorf("CreateRequest changed its argument: version %d receivedAt %v", r.Version, r.ReceivedAt)
	}
	e.clock.Advance(time.Second)
	e.sameDocument("GetRequest after CreateRequest", e.get("r1"), got)
}

func testCreateKeepsGivenTimes(e *env) {
	received := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	updated := received.Add(time.Minute)
	r := newRequest("r1")
	r.ReceivedAt, r.UpdatedAt = received, updated
	got := e.create(r)
	if !got.ReceivedAt.Equal(received) || !got.UpdatedAt.Equal(updated) {
		e.Fatalf("created receivedAt %v updatedAt %v; want %v, %v", got.ReceivedAt, got.UpdatedAt, received, updated)
	}
	e.sameDocument("GetRequest", e.get("r1"), got)
}

func testCreateExisting(e *env) {
	first := e.create(newRequest("live"))
	again := newRequest("live")
	again.Module = "other"
	_, err := e.s.CreateRequest(e.ctx, again)
	e.wantErr("CreateRequest of a live id", err, store.ErrAlreadyExists, "live")
	e.sameDocument("request after a refused create", e.get("live"), first)

	old := e.create(newRequest("old"))
	if err := e.s.ArchiveRequest(e.ctx, "old", old.Version); err != nil {
		e.Fatalf("ArchiveRequest: %v", err)
	}
	_, err = e.s.CreateRequest(e.ctx, newRequest("old"))
	e.wantErr("CreateRequest of an archived id", err, store.ErrAlreadyExists, "old")
}

func testCreateRace(e *env) {
	var stored [concurrency]*store.Request
	errs := race(concurrency, func(i int) error {
		r := newRequest("contested")
		r.Config["creator"] = float64(i)
		var err error
		stored[i], err = e.s.CreateRequest(e.ctx, r)
		return err
	})
	won := e.winners(errs, store.ErrAlreadyExists)
	if len(won) != 1 {
		e.Fatalf("%d of %d concurrent creators won, want exactly 1", len(won), concurrency)
	}
	got := e.get("contested")
	if got.Config["creator"] != float64(won[0]) {
		e.Errorf("stored document is creator %v's, but creator %d won", got.Config["creator"], won[0])
	}
	e.sameDocument("stored winner", got, stored[won[0]])
}

func testUpdateCAS(e *env) {
	v1 := e.create(newRequest("r1"))
	e.clock.Advance(time.Second)

	next := v1.Clone()
	next.BranchName = "tfpilot/r1"
	v2, err := e.s.UpdateRequest(e.ctx, next)
	if err != nil {
		e.Fatalf("UpdateRequest at the stored version: %v", err)
	}
	if v2.Version != 2 || v2.BranchName != "tfpilot/r1" {
		e.Fatalf("update returned version %d branch %q, want 2 and tfpilot/r1", v2.Version, v2.BranchName)
	}
	if next.Version != 1 {
		e.Errorf("UpdateRequest changed its argument's version to %d", next.Version)
	}
	e.sameDocument("GetRequest after update", e.get("r1"), v2)

	stale := v1.Clone()
	stale.CommitSHA = "abc"
	_, err = e.s.UpdateRequest(e.ctx, stale)
	e.wantErr("UpdateRequest at a stale version", err, store.ErrConflict, "r1")
	ahead := v2.Clone()
	ahead.Version = 7
	ahead.CommitSHA = "abc"
	_, err = e.s.UpdateRequest(e.ctx, ahead)
	e.wantErr("UpdateRequest at a version never stored", err, store.ErrConflict, "r1")
	e.sameDocument("request after refused updates", e.get("r1"), v2)

	_, err = e.s.UpdateRequest(e.ctx, newRequest("absent"))
	e.wantErr("UpdateRequest of an absent request", err, store.ErrNotFound, "absent")
}

// testUpdateRace has 32 writers read the request once and write back
// one change each: the stored version counts the successful writes, and
// every successful write's change is in the final document.
func testUpdateRace(e *env) {
	e.create(newRequest("r1"))
	errs := race(concurrency, func(i int) error {
		r, err := e.s.GetRequest(e.ctx, "r1")
		if err != nil {
			return err
		}
		r.Config[fmt.Sprintf("writer-%02d", i)] = float64(i)
		_, err = e.s.UpdateRequest(e.ctx, r)
		return err
	})
	won := e.winners(errs, store.ErrConflict)
	if len(won) == 0 {
		e.Fatal("no writer succeeded")
	}
	got := e.get("r1")
	if want := int64(1 + len(won)); got.Version != want {
		e.Errorf("final version %d after %d successful updates of version 1, want %d", got.Version, len(won), want)
	}
	for _, i := range won {
		if got.Config[fmt.Sprintf("writer-%02d", i)] != float64(i) {
			e.Errorf("writer %d succeeded but its change is lost: config %v", i, got.Config)
		}
	}
	if n := len(got.Config) - 1; n != len(won) {
		e.Errorf("final document holds %d writers' changes, want the %d that succeeded", n, len(won))
	}
}

func testUpdateIdentical(e *env) {
	var seed store.Request
	if err := json.Unmarshal(seedRequest, &seed); err != nil {
		e.Fatal(err)
	}
	for _, r := range []*store.Request{newRequest("plain"), &seed} {
		created := e.create(r)
		e.clock.Advance(time.Minute)
		cur := e.get(r.ID)
		got, err := e.s.UpdateRequest(e.ctx, cur.Clone())
		if err != nil {
			e.Fatalf("identical UpdateRequest(%q): %v", r.ID, err)
		}
		if got.Version != created.Version {
			e.Errorf("identical update of %q bumped version %d to %d", r.ID, created.Version, got.Version)
		}
		e.sameDocument("identical update's result", got, created)
		e.sameDocument("request after identical update", e.get(r.ID), created)

		stale := cur.Clone()
		stale.Version = cur.Version + 1
		_, err = e.s.UpdateRequest(e.ctx, stale)
		e.wantErr("identical UpdateRequest at a wrong version", err, store.ErrConflict, r.ID)
	}
}

func testUnknownFieldsSurvive(e *env) {
	var seed store.Request
	if err := json.Unmarshal(seedRequest, &seed); err != nil {
		e.Fatal(err)
	}
	e.create(&seed)
	cur := e.get(seed.ID)
	cur.BranchName = "tfpilot/renamed"
	cur.PR.HeadSHA = "feedface"
	if _, err := e.s.UpdateRequest(e.ctx, cur); err != nil {
		e.Fatalf("UpdateRequest: %v", err)
	}
	got := generic(e, e.get(seed.ID)).(map[string]any)
	var in map[string]any
	if err := json.Unmarshal(seedRequest, &in); err != nil {
		e.Fatal(err)
	}
	for _, k := range []string{"templateId", "assistantState", "planRun", "prNumber", "prUrl"} {
		if !reflect.DeepEqual(got[k], in[k]) {
			e.Errorf("unknown top-level field %q: got %v, want %v", k, got[k], in[k])
		}
	}
	nested := func(m map[string]any, obj, field string) any {
		o, _ := m[obj].(map[string]any)
		return o[field]
	}
	for _, p := range [][2]string{{"pr", "title"}, {"approval", "requiredApprovals"}} {
		if g, w := nested(got, p[0], p[1]), nested(in, p[0], p[1]); !reflect.DeepEqual(g, w) {
			e.Errorf("unknown nested field %s.%s: got %v, want %v", p[0], p[1], g, w)
		}
	}
	if got["branchName"] != "tfpilot/renamed" || nested(got, "pr", "headSha") != "feedface" {
		e.Errorf("the update itself is lost: branchName %v pr.headSha %v", got["branchName"], nested(got, "pr", "headSha"))
	}
	if _, ok := got["status"]; ok {
		e.Errorf("the legacy derived status was stored back as a fact: %v", got["status"])
	}
}

// richRequest has every kind of nested value a backend could share.
func richRequest(id string, now time.Time) *store.Request {
	r := newRequest(id)
	r.Config = map[string]any{"tags": map[string]any{"team": "core"}, "ips": []any{"10.0.0.1"}}
	r.PR = &store.PullRequest{Number: 5, Open: true}
	r.TargetFiles = []string{"envs/dev/main.tf"}
	r.Runs = runs.Dispatch(r.Runs, runs.Plan, runs.DispatchMeta{Actor: "alice"}, now)
	r.Approval = &store.Approval{Approvers: []string{"bob"}}
	r.Lock = &lock.Lock{Holder: "alice", Operation: "plan"}
	r.Idempotency = map[string]store.IdempotencyMark{"plan": {Key: "k1"}}
	r.Timeline = []json.RawMessage{json.RawMessage(`{"step":"Plan"}`)}
	r.Cost = json.RawMessage(`{"monthly":1}`)
	return r
}

// scribble changes every nested value of r in place.
func scribble(r *store.Request) {
	r.Config["tags"].(map[string]any)["team"] = "mallory"
	r.Config["ips"].([]any)[0] = "0.0.0.0"
	r.PR.Number = 666
	r.TargetFiles[0] = "evil.tf"
	r.Runs.Plan.Attempts[0].Actor = "mallory"
	r.Approval.Approvers[0] = "mallory"
	r.Lock.Holder = "mallory"
	r.Idempotency["plan"] = store.IdempotencyMark{Key: "evil"}
	r.Timeline[0][2] = 'X'
	r.Cost[2] = 'X'
}

func testDeepCopies(e *env) {
	in := richRequest("r1", e.clock.Now())
	created := e.create(in)
	// want is a snapshot, so that a store handing out its own document
	// cannot make it change along.
	want := generic(e, e.get("r1"))
	unchanged := func(what string) {
		e.Helper()
		if got := generic(e, e.get("r1")); !reflect.DeepEqual(got, want) {
			e.Fatalf("stored request changed after changing %s:\n got: %v\nwant: %v", what, got, want)
		}
	}
	scribble(in)
	scribble(created)
	unchanged("CreateRequest's argument and result")

	scribble(e.get("r1"))
	unchanged("GetRequest's result")

	p, err := e.s.ListRequests(e.ctx, store.ListQuery{})
	if err != nil || len(p.Requests) != 1 {
		e.Fatalf("ListRequests: %d requests, %v", len(p.Requests), err)
	}
	scribble(p.Requests[0])
	unchanged("ListRequests' result")

	next := e.get("r1")
	next.BranchName = "b"
	updated, err := e.s.UpdateRequest(e.ctx, next)
	if err != nil {
		e.Fatalf("UpdateRequest: %v", err)
	}
	want = generic(e, e.get("r1"))
	scribble(next)
	scribble(updated)
	unchanged("UpdateRequest's argument and result")

	if err := e.s.ArchiveRequest(e.ctx, "r1", updated.Version); err != nil {
		e.Fatalf("ArchiveRequest: %v", err)
	}
	old, err := e.s.GetArchivedRequest(e.ctx, "r1")
	if err != nil {
		e.Fatalf("GetArchivedRequest: %v", err)
	}
	scribble(old)
	again, err := e.s.GetArchivedRequest(e.ctx, "r1")
	if err != nil {
		e.Fatalf("GetArchivedRequest: %v", err)
	}
	if got := generic(e, again); !reflect.DeepEqual(got, want) {
		e.Errorf("archived request changed after changing GetArchivedRequest's result:\n got: %v\nwant: %v", got, want)
	}
}

func testArchive(e *env) {
	keep := e.create(newRequest("keep"))
	e.clock.Advance(time.Second)
	r := e.create(newRequest("gone"))
	next := r.Clone()
	next.BranchName = "b"
	r, err := e.s.UpdateRequest(e.ctx, next)
	if err != nil {
		e.Fatalf("UpdateRequest: %v", err)
	}
	if err := e.s.ArchiveRequest(e.ctx, "gone", r.Version); err != nil {
		e.Fatalf("ArchiveRequest at the stored version: %v", err)
	}
	_, err = e.s.GetRequest(e.ctx, "gone")
	e.wantErr("GetRequest of an archived request", err, store.ErrNotFound, "gone")
	p, err := e.s.ListRequests(e.ctx, store.ListQuery{})
	if err != nil {
		e.Fatalf("ListRequests: %v", err)
	}
	if got := ids(p.Requests); !reflect.DeepEqual(got, []string{"keep"}) {
		e.Errorf("ListRequests after archive = %v, want [keep]", got)
	}
	old, err := e.s.GetArchivedRequest(e.ctx, "gone")
	if err != nil {
		e.Fatalf("GetArchivedRequest: %v", err)
	}
	e.sameDocument("archived request", old, r)

	_, err = e.s.GetArchivedRequest(e.ctx, "keep")
	e.wantErr("GetArchivedRequest of a live request", err, store.ErrNotFound, "keep")
	err = e.s.ArchiveRequest(e.ctx, "gone", r.Version)
	e.wantErr("ArchiveRequest of an archived request", err, store.ErrNotFound, "gone")
	err = e.s.ArchiveRequest(e.ctx, "absent", 1)
	e.wantErr("ArchiveRequest of an absent request", err, store.ErrNotFound, "absent")
	next = r.Clone()
	next.CommitSHA = "c"
	_, err = e.s.UpdateRequest(e.ctx, next)
	e.wantErr("UpdateRequest of an archived request", err, store.ErrNotFound, "gone")
	e.sameDocument("untouched request", e.get("keep"), keep)
}

func testArchiveConflict(e *env) {
	r := e.create(newRequest("r1"))
	for _, v := range []int64{0, 2} {
		err := e.s.ArchiveRequest(e.ctx, "r1", v)
		e.wantErr(fmt.Sprintf("ArchiveRequest at version %d of version 1", v), err, store.ErrConflict, "r1")
	}
	e.sameDocument("request after refused archives", e.get("r1"), r)
	_, err := e.s.GetArchivedRequest(e.ctx, "r1")
	if !errors.Is(err, store.ErrNotFound) {
		e.Errorf("GetArchivedRequest after refused archives: %v, want ErrNotFound", err)
	}
}
