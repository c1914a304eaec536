package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// RunExport runs the conformance tests of the optional extensions
// [store.Exporter] and [store.Importer] against stores made by the
// same harness as [Run]. Every store the harness makes must implement
// both; a backend that offers them adds one line beside Run:
//
//	func TestExport(t *testing.T) {
//		storetest.RunExport(t, func(t *testing.T) storetest.Harness { return harness{} })
//	}
//
// A subtest that needs a second, empty store (the target of a copy)
// calls newHarness again and asks the new harness for it.
//
// The central property is the round trip: everything a store holds,
// exported and imported into an empty store, exports again as the same
// items (by [store.Item.Canonical]), and importing it a second time
// writes nothing.
func RunExport(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	for _, tc := range exportTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			e := &exportEnv{env: env{T: t, ctx: t.Context(), s: newHarness(t).NewStore(t, clk.Now), clock: clk}}
			e.newStore = func() store.Store { return newHarness(t).NewStore(t, clk.Now) }
			tc.fn(e)
		})
	}
}

// exportEnv is what an export test works with: env's store, filled by
// the test, and a way to make empty ones.
type exportEnv struct {
	env
	newStore func() store.Store
}

var exportTests = []struct {
	name string
	fn   func(e *exportEnv)
}{
	{"Export/RoundTripKeepsEveryItem", testExportRoundTrip},
	{"Import/SecondImportWritesNothing", testImportTwice},
	{"Import/KeepsVersionTimesAndUnknownFields", testImportKeeps},
	{"Import/DeliveryExtraFieldsAndExactEventTextSurvive", testImportExactDeliveryAndEvent},
	{"Import/DifferentItemIsAlreadyExists", testImportDifferent},
	{"Import/MalformedItemIsInvalid", testImportInvalid},
	{"Export/FnErrorStopsTheWalk", testExportStops},
	{"Export/FnMayCallTheStore", testExportReentrant},
	{"Export/UnknownKindIsInvalid", testExportUnknownKind},
	{"Export/WalksPastOnePage", testExportManyPages},
}

func extensions(t testing.TB, s store.Store) (store.Exporter, store.Importer) {
	t.Helper()
	exp, ok1 := s.(store.Exporter)
	imp, ok2 := s.(store.Importer)
	if !ok1 || !ok2 {
		t.Fatalf("store %T implements Exporter %v, Importer %v; RunExport needs both", s, ok1, ok2)
	}
	return exp, imp
}

// fill stores one or more items of every kind in e.s through the Store
// interface and returns how many of each it stored.
func (e *exportEnv) fill() map[store.ItemKind]int {
	e.Helper()
	var seed store.Request
	if err := json.Unmarshal(seedRequest, &seed); err != nil {
		e.Fatalf("decode seed request: %v", err)
	}
	seeded := e.create(&seed)
	if len(seeded.UnknownFields()) == 0 {
		e.Fatalf("seed request lost its unknown fields on create")
	}
	other := withStatus(newRequest("r2"), "failed", e.clock.Now())
	e.create(other)
	old := e.create(newRequest("r3-old"))
	if err := e.s.ArchiveRequest(e.ctx, old.ID, old.Version); err != nil {
		e.Fatalf("ArchiveRequest: %v", err)
	}
	t0 := e.clock.Now()
	for i, ev := range []store.Event{
		{ID: "e1", RequestID: seeded.ID, Event: "request_created", Timestamp: t0, Actor: "alice", Source: "api"},
		{ID: "e2", RequestID: seeded.ID, Event: "plan_dispatched", Timestamp: t0.Add(time.Second), Data: map[string]any{"attempt": float64(2), "nested": map[string]any{"ok": true}}},
		{ID: "e1", RequestID: "r2", Event: "request_created", Timestamp: t0},
		{ID: "e9", RequestID: old.ID, Event: "request_archived", Timestamp: t0.Add(2 * time.Second)},
	} {
		if _, err := e.s.AppendEvent(e.ctx, ev); err != nil {
			e.Fatalf("AppendEvent %d: %v", i, err)
		}
	}
	for _, r := range []struct {
		kind runs.Kind
		id   int64
		req  string
	}{{runs.Plan, 111, seeded.ID}, {runs.Plan, 222, seeded.ID}, {runs.Plan, 100, "r2"}, {runs.Apply, 100, old.ID}} {
		if err := e.s.IndexRun(e.ctx, r.kind, r.id, r.req); err != nil {
			e.Fatalf("IndexRun: %v", err)
		}
	}
	if err := e.s.IndexPR(e.ctx, store.PRRef{Owner: "acme", Repo: "infra", Number: 118}, seeded.ID); err != nil {
		e.Fatalf("IndexPR: %v", err)
	}
	if err := e.s.IndexPR(e.ctx, store.PRRef{Owner: "acme", Repo: "infra-live", Number: 7}, "r2"); err != nil {
		e.Fatalf("IndexPR: %v", err)
	}
	for _, id := range []string{"d-done", "d-open"} {
		if _, err := e.s.ClaimDelivery(e.ctx, id, "workflow_run"); err != nil {
			e.Fatalf("ClaimDelivery: %v", err)
		}
	}
	e.clock.Advance(time.Second)
	if err := e.s.CompleteDelivery(e.ctx, "d-done", e.claimOf("d-done"), "patched plan attempt 2"); err != nil {
		e.Fatalf("CompleteDelivery: %v", err)
	}
	for _, rec := range []store.IdempotencyRecord{
		{Operation: "create", Key: "k1", Fingerprint: "sha256:aa", RequestID: seeded.ID, Response: json.RawMessage(`{"id":"req_7f3a9c21"}`), ExpiresAt: e.clock.Now().Add(10 * time.Minute)},
		{Operation: "apply", Key: "k2", RequestID: "r2", ExpiresAt: e.clock.Now().Add(time.Minute)},
	} {
		if err := e.s.PutIdempotency(e.ctx, rec); err != nil {
			e.Fatalf("PutIdempotency: %v", err)
		}
	}
	for _, c := range []store.Cost{
		{RequestID: seeded.ID, Estimate: []byte(`{"totalMonthlyCost": "12.50"}`), Diff: []byte("{\"diffTotalMonthlyCost\":\"1.00\"}\n")},
		{RequestID: "r2", Estimate: []byte(`{"totalMonthlyCost":"0"}`)},
	} {
		if err := e.s.PutCost(e.ctx, c); err != nil {
			e.Fatalf("PutCost: %v", err)
		}
	}
	return map[store.ItemKind]int{
		store.KindRequest: 2, store.KindArchivedRequest: 1, store.KindEvent: 4, store.KindRunIndex: 4,
		store.KindPRIndex: 2, store.KindDelivery: 2, store.KindIdempotency: 2, store.KindCost: 2,
	}
}

// exportAll returns the canonical forms of every item of kind in s,
// sorted.
func exportAll(t testing.TB, e *env, s store.Store, kind store.ItemKind) []string {
	t.Helper()
	exp, _ := extensions(t, s)
	var out []string
	err := exp.Export(e.ctx, kind, func(it store.Item) error {
		if it.Kind != kind {
			return fmt.Errorf("exported item of kind %q while exporting %q", it.Kind, kind)
		}
		b, err := it.Canonical()
		if err != nil {
			return err
		}
		out = append(out, string(b))
		return nil
	})
	if err != nil {
		t.Fatalf("Export(%s): %v", kind, err)
	}
	slices.Sort(out)
	return out
}

// copyAll imports every item of src into dst and returns how many were
// written.
func copyAll(t testing.TB, e *env, src, dst store.Store) int {
	t.Helper()
	exp, _ := extensions(t, src)
	_, imp := extensions(t, dst)
	written := 0
	for _, kind := range store.ItemKinds() {
		err := exp.Export(e.ctx, kind, func(it store.Item) error {
			ok, err := imp.Import(e.ctx, it)
			if err != nil {
				return fmt.Errorf("Import(%s %s): %w", it.Kind, it.Key(), err)
			}
			if ok {
				written++
			}
			return nil
		})
		if err != nil {
			t.Fatalf("copy %s: %v", kind, err)
		}
	}
	return written
}

func testExportRoundTrip(e *exportEnv) {
	want := e.fill()
	dst := e.newStore()
	total := 0
	for _, n := range want {
		total += n
	}
	if got := copyAll(e, &e.env, e.s, dst); got != total {
		e.Errorf("import wrote %d items, want %d", got, total)
	}
	for _, kind := range store.ItemKinds() {
		src, got := exportAll(e, &e.env, e.s, kind), exportAll(e, &e.env, dst, kind)
		if len(src) != want[kind] {
			e.Errorf("source exports %d %s items, want %d", len(src), kind, want[kind])
		}
		if !slices.Equal(src, got) {
			e.Errorf("%s items differ after the round trip\nsource: %q\ntarget: %q", kind, src, got)
		}
	}
	// The copy works through the plain Store interface too.
	got, err := dst.GetRequest(e.ctx, "req_7f3a9c21")
	if err != nil {
		e.Fatalf("GetRequest on the target: %v", err)
	}
	e.sameDocument("imported request", got, e.get("req_7f3a9c21"))
	if _, err := dst.GetArchivedRequest(e.ctx, "r3-old"); err != nil {
		e.Errorf("GetArchivedRequest on the target: %v", err)
	}
	if id, err := dst.LookupRun(e.ctx, runs.Plan, 222); err != nil || id != "req_7f3a9c21" {
		e.Errorf("LookupRun on the target = %q, %v", id, err)
	}
	d, err := dst.GetDelivery(e.ctx, "d-done")
	if err != nil || d.Outcome != "patched plan attempt 2" || d.CompletedAt.IsZero() {
		e.Errorf("GetDelivery on the target = %+v, %v", d, err)
	}
	c, err := dst.GetCost(e.ctx, "req_7f3a9c21")
	if err != nil || !bytes.Equal(c.Estimate, []byte(`{"totalMonthlyCost": "12.50"}`)) {
		e.Errorf("GetCost on the target = %s, %v; want the bytes as stored", c.Estimate, err)
	}
}

func testImportTwice(e *exportEnv) {
	e.fill()
	dst := e.newStore()
	copyAll(e, &e.env, e.s, dst)
	if n := copyAll(e, &e.env, e.s, dst); n != 0 {
		e.Errorf("second import wrote %d items, want 0", n)
	}
	// Importing a store into itself is the same no-op.
	if n := copyAll(e, &e.env, e.s, e.s); n != 0 {
		e.Errorf("importing a store into itself wrote %d items, want 0", n)
	}
}

func testImportKeeps(e *exportEnv) {
	var r store.Request
	if err := json.Unmarshal(seedRequest, &r); err != nil {
		e.Fatalf("decode seed request: %v", err)
	}
	_, imp := extensions(e, e.s)
	if ok, err := imp.Import(e.ctx, store.Item{Kind: store.KindRequest, Request: &r}); err != nil || !ok {
		e.Fatalf("Import = %v, %v; want true, nil", ok, err)
	}
	got := e.get(r.ID)
	if got.Version != 7 || !got.ReceivedAt.Equal(r.ReceivedAt) || !got.UpdatedAt.Equal(r.UpdatedAt) {
		e.Errorf("imported version %d receivedAt %v updatedAt %v; want 7, %v, %v", got.Version, got.ReceivedAt, got.UpdatedAt, r.ReceivedAt, r.UpdatedAt)
	}
	for _, f := range []string{"templateId", "planRun", "assistantState", "prNumber"} {
		if _, ok := got.UnknownFields()[f]; !ok {
			e.Errorf("imported request lost unknown field %q", f)
		}
	}
	e.sameDocument("imported request", got, &r)
	// The imported version is the one the next compare-and-swap checks.
	got.BranchName = "renamed"
	up, err := e.s.UpdateRequest(e.ctx, got)
	if err != nil || up.Version != 8 {
		e.Errorf("UpdateRequest at the imported version = %v, %v; want version 8", up, err)
	}

	claimed := e.clock.Now().Add(-time.Hour)
	d := store.Delivery{ID: "d1", Event: "pull_request", ClaimedAt: claimed, CompletedAt: claimed.Add(time.Second), Outcome: "ok"}
	if _, err := imp.Import(e.ctx, store.Item{Kind: store.KindDelivery, Delivery: &d}); err != nil {
		e.Fatalf("Import delivery: %v", err)
	}
	gd, err := e.s.GetDelivery(e.ctx, "d1")
	if err != nil || !gd.ClaimedAt.Equal(d.ClaimedAt) || !gd.CompletedAt.Equal(d.CompletedAt) || gd.Outcome != "ok" {
		e.Errorf("imported delivery = %+v, %v; want %+v", gd, err, d)
	}
	_, err = e.s.ClaimDelivery(e.ctx, "d1", "pull_request")
	e.wantErr("ClaimDelivery of an imported delivery", err, store.ErrAlreadyExists, "d1")

	ev := store.Event{ID: "old-1", RequestID: r.ID, Event: "request_created", Timestamp: claimed}
	if _, err := imp.Import(e.ctx, store.Item{Kind: store.KindEvent, Event: &ev}); err != nil {
		e.Fatalf("Import event: %v", err)
	}
	evs := e.listEvents(r.ID)
	if len(evs) != 1 || evs[0].ID != "old-1" || !evs[0].Timestamp.Equal(claimed) {
		e.Errorf("ListEvents after import = %+v", evs)
	}
}

func testImportDifferent(e *exportEnv) {
	e.fill()
	_, imp := extensions(e, e.s)
	r := e.get("r2")
	r.Module = "changed"
	live := newRequest("r3-old") // archived in e.s
	ev := store.Event{ID: "e1", RequestID: "r2", Event: "something_else", Timestamp: e.clock.Now()}
	run := store.RunIndexEntry{Kind: runs.Plan, RunID: 111, RequestID: "r2"}
	pr := store.PRIndexEntry{PR: store.PRRef{Owner: "acme", Repo: "infra", Number: 118}, RequestID: "r2"}
	d := store.Delivery{ID: "d-open", Event: "push", ClaimedAt: e.clock.Now()}
	rec := store.IdempotencyRecord{Operation: "create", Key: "k1", RequestID: "r2", CreatedAt: e.clock.Now(), ExpiresAt: e.clock.Now().Add(time.Hour)}
	c := store.Cost{RequestID: "r2", Estimate: []byte(`{"totalMonthlyCost":"1"}`)}
	for _, it := range []store.Item{
		{Kind: store.KindRequest, Request: r},
		{Kind: store.KindRequest, Request: live},
		{Kind: store.KindArchivedRequest, Request: e.get("r2")},
		{Kind: store.KindEvent, Event: &ev},
		{Kind: store.KindRunIndex, Run: &run},
		{Kind: store.KindPRIndex, PR: &pr},
		{Kind: store.KindDelivery, Delivery: &d},
		{Kind: store.KindIdempotency, Idempotency: &rec},
		{Kind: store.KindCost, Cost: &c},
	} {
		before := exportAll(e, &e.env, e.s, it.Kind)
		ok, err := imp.Import(e.ctx, it)
		if ok {
			e.Errorf("Import of a different %s %s reported a write", it.Kind, it.Key())
		}
		e.wantErr(fmt.Sprintf("Import of a different %s", it.Kind), err, store.ErrAlreadyExists, it.Key())
		if after := exportAll(e, &e.env, e.s, it.Kind); !slices.Equal(before, after) {
			e.Errorf("refused Import of %s %s changed the store", it.Kind, it.Key())
		}
	}
}

func testImportInvalid(e *exportEnv) {
	_, imp := extensions(e, e.s)
	bad := newRequest("../etc")
	for _, it := range []store.Item{
		{Kind: "nonsense"},
		{Kind: store.KindRequest},
		{Kind: store.KindRequest, Request: bad},
		{Kind: store.KindEvent, Event: &store.Event{RequestID: "r1", Event: "x", Timestamp: e.clock.Now()}},
		{Kind: store.KindRunIndex, Run: &store.RunIndexEntry{Kind: "cleanup", RunID: 1, RequestID: "r1"}},
		{Kind: store.KindPRIndex, PR: &store.PRIndexEntry{PR: store.PRRef{Owner: "acme", Repo: "infra"}, RequestID: "r1"}},
		{Kind: store.KindDelivery, Delivery: &store.Delivery{}},
		{Kind: store.KindDelivery, Delivery: &store.Delivery{ID: "d1", Event: "push"}},
		{Kind: store.KindIdempotency, Idempotency: &store.IdempotencyRecord{Operation: "create", Key: "k", CreatedAt: e.clock.Now()}},
		{Kind: store.KindIdempotency, Idempotency: &store.IdempotencyRecord{Operation: "create", Key: "k", ExpiresAt: e.clock.Now()}},
		{Kind: store.KindCost, Cost: &store.Cost{RequestID: "r1"}},
	} {
		ok, err := imp.Import(e.ctx, it)
		if ok || !errors.Is(err, store.ErrInvalid) {
			e.Errorf("Import(%s %q) = %v, %v; want false and an error wrapping ErrInvalid", it.Kind, it.Key(), ok, err)
		}
	}
	for _, kind := range store.ItemKinds() {
		if got := exportAll(e, &e.env, e.s, kind); len(got) != 0 {
			e.Errorf("refused imports left %d %s items", len(got), kind)
		}
	}
}

func testExportStops(e *exportEnv) {
	e.fill()
	exp, _ := extensions(e, e.s)
	stop := errors.New("stop here")
	calls := 0
	err := exp.Export(e.ctx, store.KindEvent, func(store.Item) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		e.Errorf("Export with a failing fn = %v after %d calls; want fn's error as is after 1 call", err, calls)
	}
}

func testExportReentrant(e *exportEnv) {
	e.fill()
	exp, _ := extensions(e, e.s)
	n := 0
	err := exp.Export(e.ctx, store.KindRequest, func(it store.Item) error {
		n++
		_, err := e.s.GetRequest(e.ctx, it.Request.ID)
		return err
	})
	if err != nil || n != 2 {
		e.Errorf("Export calling GetRequest from fn = %v after %d items; want nil after 2", err, n)
	}
}

func testExportUnknownKind(e *exportEnv) {
	exp, _ := extensions(e, e.s)
	err := exp.Export(e.ctx, "nonsense", func(store.Item) error { return nil })
	e.wantErr("Export of an unknown kind", err, store.ErrInvalid, "nonsense")
}

// manyEntries is more than one page of any backend's export (S3 lists
// 1000 keys a call).
const manyEntries = 1234

func testExportManyPages(e *exportEnv) {
	errs := race(16, func(w int) error {
		for i := w; i < manyEntries; i += 16 {
			if err := e.s.IndexRun(e.ctx, runs.Apply, int64(i+1), fmt.Sprintf("r%d", i%7)); err != nil {
				return err
			}
		}
		return nil
	})
	for _, err := range errs {
		if err != nil {
			e.Fatalf("IndexRun: %v", err)
		}
	}
	got := exportAll(e, &e.env, e.s, store.KindRunIndex)
	if len(got) != manyEntries || len(slices.Compact(got)) != manyEntries {
		e.Errorf("Export of %d run index entries gave %d items, %d distinct", manyEntries, len(got), len(slices.Compact(got)))
	}
}

// legacyDelivery is a delivery document as the original system and a
// portal left it: fields store.Delivery does not model, at depth, a
// number JSONB would rewrite, U+0000 and a lone surrogate.
const legacyDelivery = `{"deliveryId":"d-extra","event":"pull_request","state":"completed",` +
	`"claimedAt":"2024-03-01T12:00:00Z","completedAt":"2024-03-01T12:00:01Z","outcome":"ok",` +
	`"hookId":1e+21,"headers":{"X-GitHub-Hook-Installation-Target-Type":"repository"},"note":"nul \u0000 lone \ud800"}`

// legacyEvent is an event whose strings JSONB cannot hold as written.
const legacyEvent = `{"id":"old-nul","requestId":"req-nul","event":"request_created","timestamp":"2024-03-01T12:00:00Z",` +
	`"data":{"note":"nul \u0000 lone \ud800"},"portal":"x \u0000 \udfff"}`

// testImportExactDeliveryAndEvent: a delivery's fields that
// store.Delivery does not model survive an import, GetDelivery and
// an export, and count in its canonical form; an event's strings come
// back byte for byte, U+0000 and lone surrogates included; importing
// either again finds it identical.
func testImportExactDeliveryAndEvent(e *exportEnv) {
	exp, imp := extensions(e, e.s)
	var d store.Delivery
	if err := json.Unmarshal([]byte(legacyDelivery), &d); err != nil {
		e.Fatalf("decode delivery: %v", err)
	}
	var ev store.Event
	if err := json.Unmarshal([]byte(legacyEvent), &ev); err != nil {
		e.Fatalf("decode event: %v", err)
	}
	wantD, _ := store.Item{Kind: store.KindDelivery, Delivery: &d}.Canonical()
	plain := store.Delivery{ID: d.ID, Event: d.Event, ClaimedAt: d.ClaimedAt, CompletedAt: d.CompletedAt, Outcome: d.Outcome}
	if c, _ := (store.Item{Kind: store.KindDelivery, Delivery: &plain}).Canonical(); bytes.Equal(c, wantD) {
		e.Errorf("a delivery's canonical form ignores its unknown fields: %s", c)
	}
	wantEv, err := json.Marshal(ev)
	if err != nil {
		e.Fatal(err)
	}
	for _, it := range []store.Item{{Kind: store.KindDelivery, Delivery: &d}, {Kind: store.KindEvent, Event: &ev}} {
		if ok, err := imp.Import(e.ctx, it); err != nil || !ok {
			e.Fatalf("Import %s = %v, %v; want true, nil", it.Kind, ok, err)
		}
		if ok, err := imp.Import(e.ctx, it); err != nil || ok {
			e.Errorf("second Import %s = %v, %v; want false, nil (identical)", it.Kind, ok, err)
		}
	}
	gd, err := e.s.GetDelivery(e.ctx, "d-extra")
	if err != nil {
		e.Fatal(err)
	}
	u := gd.UnknownFields()
	if string(u["hookId"]) != "1e+21" || string(u["note"]) != `"nul \u0000 lone \ud800"` || u["headers"] == nil {
		e.Errorf("GetDelivery after import: unknown fields %s; want those of %s", u, legacyDelivery)
	}
	var exported []byte
	err = exp.Export(e.ctx, store.KindDelivery, func(it store.Item) error {
		if it.Delivery.ID == "d-extra" {
			exported, err = it.Canonical()
		}
		return err
	})
	if err != nil || !bytes.Equal(exported, wantD) {
		e.Errorf("exported delivery = %s (%v); want %s", exported, err, wantD)
	}
	for _, got := range e.listEvents("req-nul") {
		b, err := json.Marshal(got)
		if err != nil || !bytes.Equal(b, wantEv) {
			e.Errorf("event read back as %s (%v); want %s", b, err, wantEv)
		}
	}
	var exportedEv []byte
	err = exp.Export(e.ctx, store.KindEvent, func(it store.Item) error {
		if it.Event.ID == "old-nul" {
			exportedEv, err = json.Marshal(it.Event)
		}
		return err
	})
	if err != nil || !bytes.Equal(exportedEv, wantEv) {
		e.Errorf("exported event = %s (%v); want %s", exportedEv, err, wantEv)
	}
}
