package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// randomRequest builds a request whose facts reach every index status:
// runs of every kind with attempts in every state, open, merged and
// absent pull requests, approvals of the head, of another commit and of
// none, and receivedAt times with nanoseconds and zones. One in four
// starts from the original TfPilot's document, so unknown fields and
// the legacy forms ride along.
func randomRequest(t *testing.T, rng *rand.Rand, seed []byte) *store.Request {
	t.Helper()
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	r := &store.Request{ID: fmt.Sprintf("req-%d", rng.IntN(1000)), Project: "payments", Environment: "dev", Module: "s3-bucket"}
	if rng.IntN(4) == 0 {
		var err error
		if r, err = store.DecodeRequest(seed); err != nil {
			t.Fatal(err)
		}
	}
	r.Version = rng.Int64N(10)
	zones := []*time.Location{time.UTC, time.FixedZone("CEST", 2*60*60), time.FixedZone("NST", -(3*60*60 + 30*60))}
	at := func() time.Time {
		if rng.IntN(5) == 0 {
			return time.Time{}
		}
		return time.Unix(1_700_000_000+rng.Int64N(1_000_000), rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))])
	}
	r.ReceivedAt, r.UpdatedAt = at(), at()
	r.Config = map[string]any{"size": float64(rng.IntN(100)), "name": pick("a", "b", ""), "tags": map[string]any{"team": pick("core", "web")}}
	head := pick("", "sha1", "sha2")
	switch rng.IntN(3) {
	case 0:
		r.PR = nil
	case 1:
		r.PR = &store.PullRequest{Number: 1 + rng.IntN(9), Open: true, HeadSHA: head}
	default:
		r.PR = &store.PullRequest{Number: 1 + rng.IntN(9), Merged: true, HeadSHA: head}
		r.MergedSHA = pick("", "m1")
	}
	r.CommitSHA = pick("", "sha1")
	if rng.IntN(2) == 0 {
		r.Approval = &store.Approval{Approved: rng.IntN(3) > 0, HeadSHA: pick("", "sha1", "sha2"), Approvers: []string{"bob"}}
	} else {
		r.Approval = nil
	}
	var st runs.State
	for _, k := range runs.Kinds() {
		var op runs.Op
		for i := range rng.IntN(3) {
			a := runs.Attempt{Attempt: i + 1, RunID: rng.Int64N(3), HeadSHA: head, DispatchedAt: at()}
			switch rng.IntN(4) {
			case 0:
				a.Status = runs.StatusQueued
			case 1:
				a.Status = runs.StatusInProgress
			default:
				a.Status, a.Conclusion, a.CompletedAt = runs.StatusCompleted, pick(runs.ConclusionSuccess, runs.ConclusionFailure, runs.ConclusionCancelled), at()
			}
			op.Attempts = append(op.Attempts, a)
			op.CurrentAttempt = a.Attempt
		}
		switch k {
		case runs.Plan:
			st.Plan = op
		case runs.Apply:
			st.Apply = op
		case runs.Destroy:
			st.Destroy = op
		}
	}
	r.Runs = st
	return r
}

func readSeed(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/seed-request.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func canonical(t *testing.T, r *store.Request) []byte {
	t.Helper()
	b, err := r.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPrepare_RandomRequestsDeriveOnceAndRoundTrip is the property of
// the portable layer over generated requests: the prepared document is
// a copy at the next version (the caller's is untouched), its facts are
// [store.InsightFactsOf] and its status [lifecycle.IndexStatus] of its
// facts, and its canonical encoding decodes to the same document and
// status.
func TestPrepare_RandomRequestsDeriveOnceAndRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(21, 42))
	seed := readSeed(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.UTC)
	seen := map[lifecycle.Status]bool{}
	for i := range 200 {
		r := randomRequest(t, rng, seed)
		before := canonical(t, r)
		version, received, updated := r.Version, r.ReceivedAt, r.UpdatedAt

		create, err := store.PrepareCreate(r, now)
		if err != nil {
			t.Fatalf("request %d: PrepareCreate: %v", i, err)
		}
		update, err := store.PrepareUpdate(r)
		if err != nil {
			t.Fatalf("request %d: PrepareUpdate: %v", i, err)
		}
		if !bytes.Equal(canonical(t, r), before) || r.Version != version {
			t.Fatalf("request %d: preparing changed the caller's request", i)
		}
		c := create.Request
		switch {
		case c.Version != 1 || create.Base != 0:
			t.Fatalf("request %d: create at version %d base %d, want 1 and 0", i, c.Version, create.Base)
		case received.IsZero() && !c.ReceivedAt.Equal(now),
			!received.IsZero() && !c.ReceivedAt.Equal(received),
			updated.IsZero() && !c.UpdatedAt.Equal(now),
			!updated.IsZero() && !c.UpdatedAt.Equal(updated):
			t.Fatalf("request %d: create stamped receivedAt %v updatedAt %v from %v %v at %v", i, c.ReceivedAt, c.UpdatedAt, received, updated, now)
		}
		if u := update.Request; u.Version != version+1 || update.Base != version || !u.ReceivedAt.Equal(received) || !u.UpdatedAt.Equal(updated) {
			t.Fatalf("request %d: update at version %d base %d receivedAt %v updatedAt %v; want %d, %d and the caller's %v %v",
				i, u.Version, update.Base, u.ReceivedAt, u.UpdatedAt, version+1, version, received, updated)
		}
		for _, w := range []*store.Write{create, update} {
			if w.Request == r {
				t.Fatalf("request %d: the prepared request is the caller's", i)
			}
			want := lifecycle.IndexStatus(r.Facts())
			if w.Facts.Status != want || !reflect.DeepEqual(w.Facts, store.InsightFactsOf(r)) {
				t.Fatalf("request %d: prepared facts %+v, want %+v with status %s", i, w.Facts, store.InsightFactsOf(r), want)
			}
			seen[want] = true
			doc, err := w.Canonical()
			if err != nil {
				t.Fatalf("request %d: Canonical: %v", i, err)
			}
			back, err := store.DecodeRequest(doc)
			if err != nil {
				t.Fatalf("request %d: canonical document does not decode: %v\n%s", i, err, doc)
			}
			if again := canonical(t, back); !bytes.Equal(again, doc) {
				t.Fatalf("request %d: canonical document does not round-trip:\n%s\n%s", i, doc, again)
			}
			if st := lifecycle.IndexStatus(back.Facts()); st != w.Facts.Status {
				t.Fatalf("request %d: decoded document's status %s, prepared %s", i, st, w.Facts.Status)
			}
		}
		w, _ := store.PrepareUpdate(r)
		w.Request.Config["size"] = -1.0
		if r.Config["size"] == -1.0 {
			t.Fatalf("request %d: the prepared copy shares the caller's config", i)
		}
	}
	if len(seen) < 6 {
		t.Errorf("generated requests reached only the statuses %v", seen)
	}
}

// change is one edit an update makes to the stored document, and
// whether it changes the document (the oracle for no-op detection).
type change struct {
	name    string
	changes bool
	apply   func(r *store.Request)
}

var changes = []change{
	{"none", false, func(*store.Request) {}},
	{"version only", false, func(r *store.Request) { r.Version += 3 }},
	{"zero receivedAt", false, func(r *store.Request) { r.ReceivedAt = time.Time{} }},
	{"receivedAt in another zone", false, func(r *store.Request) { r.ReceivedAt = r.ReceivedAt.In(time.FixedZone("X", 7*60*60)) }},
	{"config value removed and set again", false, func(r *store.Request) {
		if v, ok := r.Config["size"]; ok {
			delete(r.Config, "size")
			r.Config["size"] = v
		}
	}},
	{"config key added", true, func(r *store.Request) { r.Config["added"] = true }},
	{"branch", true, func(r *store.Request) { r.BranchName += "-next" }},
	{"updatedAt", true, func(r *store.Request) { r.UpdatedAt = r.UpdatedAt.Add(time.Nanosecond) }},
	{"new plan attempt", true, func(r *store.Request) {
		r.Runs.Plan.Attempts = append(r.Runs.Plan.Attempts, runs.Attempt{Attempt: 9, Status: runs.StatusQueued})
	}},
	{"pr closed", true, func(r *store.Request) { r.PR = &store.PullRequest{Number: 77} }},
}

// TestWriteAgainst_NoOpIffCanonicalBytesEqual: over generated stored
// documents and every kind of edit, [store.Write.Against] reports a
// no-op exactly when the canonical encodings (Version aside, ReceivedAt
// as stored) are equal, and exactly for the edits that change nothing;
// the write then carries the stored ReceivedAt, zone included.
func TestWriteAgainst_NoOpIffCanonicalBytesEqual(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 21))
	seed := readSeed(t)
	for i := range 200 {
		cur := randomRequest(t, rng, seed)
		if cur.ReceivedAt.IsZero() {
			cur.ReceivedAt = time.Unix(1_700_000_000, 5).In(time.FixedZone("CEST", 2*60*60))
		}
		ch := changes[rng.IntN(len(changes))]
		next := cur.Clone()
		ch.apply(next)
		next.Version = cur.Version
		w, err := store.PrepareUpdate(next)
		if err != nil {
			t.Fatal(err)
		}
		var curDoc []byte
		if rng.IntN(2) == 0 {
			curDoc = canonical(t, cur) // as memstore keeps it
		}
		unchanged, err := w.Against(cur, curDoc, time.Nanosecond)
		if err != nil {
			t.Fatalf("request %d, %s: Against: %v", i, ch.name, err)
		}
		rebased := next.Clone()
		rebased.ReceivedAt = cur.ReceivedAt
		equal := bytes.Equal(canonical(t, rebased), canonical(t, cur))
		if unchanged != equal || unchanged == ch.changes {
			t.Fatalf("request %d, %s: Against says unchanged=%v; canonical bytes equal=%v, the edit changes the document=%v",
				i, ch.name, unchanged, equal, ch.changes)
		}
		if got := w.Request.ReceivedAt; got != cur.ReceivedAt {
			t.Fatalf("request %d, %s: write carries receivedAt %v, want the stored %v as stored", i, ch.name, got, cur.ReceivedAt)
		}
		if doc, _ := w.Canonical(); !bytes.Equal(doc, canonical(t, w.Request)) {
			t.Fatalf("request %d, %s: Canonical is stale after Against", i, ch.name)
		}
	}
}

// TestWriteAgainst_ConflictBeforeInvalidReceivedAt: a stale version is
// ErrConflict even when ReceivedAt moved too (the contract reports
// conflicts first), and a moved ReceivedAt at the right version is
// ErrInvalid; both name the request.
func TestWriteAgainst_ConflictBeforeInvalidReceivedAt(t *testing.T) {
	t.Parallel()
	cur := &store.Request{ID: "r1", Version: 3, ReceivedAt: time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)}
	for _, c := range []struct {
		name    string
		version int64
		moved   time.Duration
		want    error
	}{
		{"stale version, receivedAt moved", 2, time.Second, store.ErrConflict},
		{"stale version", 4, 0, store.ErrConflict},
		{"receivedAt moved", 3, time.Second, store.ErrInvalid},
	} {
		next := cur.Clone()
		next.Version = c.version
		next.ReceivedAt = cur.ReceivedAt.Add(c.moved)
		next.BranchName = "b"
		w, err := store.PrepareUpdate(next)
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.Against(cur, nil, time.Microsecond)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), `"r1"`) {
			t.Errorf("%s: Against = %v, want %v naming r1", c.name, err, c.want)
		}
	}
}

// TestSameReceivedAt_AtEachPrecision pins what a backend's precision
// means: both values rounded to it, then compared as instants.
func TestSameReceivedAt_AtEachPrecision(t *testing.T) {
	t.Parallel()
	base := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	stored := base.Add(123456789)
	edge := time.Date(2025, 6, 1, 10, 0, 0, 999999999, time.UTC)
	cest := time.FixedZone("CEST", 2*60*60)
	for _, c := range []struct {
		name         string
		stored, sent time.Time
		ns, µs, ms   bool
	}{
		{"not sent", stored, time.Time{}, true, true, true},
		{"the same", stored, stored, true, true, true},
		{"the same instant in another zone", stored, stored.In(cest), true, true, true},
		{"a nanosecond later, same microsecond", stored, stored.Add(time.Nanosecond), false, true, true},
		{"rounded to microseconds, as PostgreSQL returns it", stored, stored.Round(time.Microsecond), false, true, true},
		{"a microsecond later", stored, stored.Add(time.Microsecond), false, false, true},
		{"rounded to milliseconds", stored, stored.Round(time.Millisecond), false, false, true},
		{"a millisecond later", stored, stored.Add(time.Millisecond), false, false, false},
		{"nanoseconds that round up to the next second", edge, time.Date(2025, 6, 1, 10, 0, 1, 0, time.UTC), false, true, true},
		{"a second later", stored, stored.Add(time.Second), false, false, false},
		{"half a microsecond, rounded down to even", base.Add(123456500), base.Add(123456000), false, true, true},
		{"half a microsecond, not rounded up past even", base.Add(123456500), base.Add(123457000), false, false, true},
		{"half a microsecond, rounded up to even", base.Add(123457500), base.Add(123458000), false, true, true},
		{"half a millisecond, rounded up to even", base.Add(1500 * time.Microsecond), base.Add(2 * time.Millisecond), false, false, true},
	} {
		for _, p := range []struct {
			precision time.Duration
			want      bool
		}{{time.Nanosecond, c.ns}, {0, c.ns}, {time.Microsecond, c.µs}, {time.Millisecond, c.ms}} {
			if got := store.SameReceivedAt(c.sent, c.stored, p.precision); got != p.want {
				t.Errorf("%s at %v: SameReceivedAt = %v, want %v", c.name, p.precision, got, p.want)
			}
		}
	}
}

// halfEven rounds t to p, a halfway value to the even multiple, in
// integer nanoseconds since 1970 (apart from the implementation).
func halfEven(t time.Time, p time.Duration) time.Time {
	n, d := t.UnixNano(), int64(p)
	q, r := n/d, n%d
	if 2*r > d || 2*r == d && q%2 == 1 {
		q++
	}
	return time.Unix(0, q*d)
}

// TestSameReceivedAt_AsReadAcceptedOneUnitAwayRefused is the property
// the rule exists for, at every precision a backend may have: the value
// it returns (the stored one rounded to its precision) is accepted, and
// the value one unit of precision away is refused.
func TestSameReceivedAt_AsReadAcceptedOneUnitAwayRefused(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 5))
	for range 5000 {
		stored := time.Unix(rng.Int64N(math.MaxInt32), rng.Int64N(1e9))
		if rng.IntN(3) == 0 {
			stored = stored.Truncate(time.Microsecond).Add(500 * time.Nanosecond) // a halfway value
		}
		p := []time.Duration{time.Nanosecond, time.Microsecond, time.Millisecond, time.Second}[rng.IntN(4)]
		read := halfEven(stored, p)
		for _, d := range []time.Duration{p, -p} {
			if !store.SameReceivedAt(read, stored, p) || store.SameReceivedAt(read.Add(d), stored, p) {
				t.Fatalf("stored %v at %v: as read %v accepted=%v, %v away accepted=%v",
					stored.Format(time.RFC3339Nano), p, read.Format(time.RFC3339Nano), store.SameReceivedAt(read, stored, p), d, store.SameReceivedAt(read.Add(d), stored, p))
			}
		}
	}
}

// TestPrepare_InvalidInputIsErrInvalidNamingTheRequest: a nil request,
// an id outside the safe set and a document that cannot be encoded are
// ErrInvalid, for creates and updates alike.
func TestPrepare_InvalidInputIsErrInvalidNamingTheRequest(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, prep := range []struct {
		name string
		do   func(*store.Request) (*store.Write, error)
	}{
		{"PrepareCreate", func(r *store.Request) (*store.Write, error) { return store.PrepareCreate(r, now) }},
		{"PrepareUpdate", store.PrepareUpdate},
	} {
		if _, err := prep.do(nil); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s(nil) = %v, want ErrInvalid", prep.name, err)
		}
		_, err := prep.do(&store.Request{ID: "../etc"})
		var v *store.ValidationError
		if !errors.As(err, &v) || !strings.Contains(err.Error(), `"../etc"`) {
			t.Errorf("%s(path id) = %v, want a ValidationError naming the id", prep.name, err)
		}
		w, err := prep.do(&store.Request{ID: "r1", Config: map[string]any{"x": math.NaN()}})
		if err != nil {
			t.Fatalf("%s: %v", prep.name, err)
		}
		if _, err := w.Canonical(); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), `"r1"`) {
			t.Errorf("%s: Canonical of a NaN config = %v, want ErrInvalid naming r1", prep.name, err)
		}
	}
}

// BenchmarkPrepareUpdate is what the portable layer adds to a backend
// whose statement applies the stored-document rules (pgstore): the id
// check, the copy and the facts of the original system's document.
func BenchmarkPrepareUpdate(b *testing.B) {
	b.ReportAllocs()
	seed, err := os.ReadFile("testdata/seed-request.json")
	if err != nil {
		b.Fatal(err)
	}
	r, err := store.DecodeRequest(seed)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := store.PrepareUpdate(r); err != nil {
			b.Fatal(err)
		}
	}
}
