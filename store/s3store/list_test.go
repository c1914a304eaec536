package s3store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/s3store"
)

// walk lists every page of q and returns the ids in order.
func walk(t *testing.T, s store.Store, q store.ListQuery) []string {
	t.Helper()
	var out []string
	for page := 0; ; page++ {
		p, err := s.ListRequests(context.Background(), q)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		limit := q.Limit
		if limit == 0 {
			limit = store.DefaultPageSize
		}
		if len(p.Requests) > limit {
			t.Fatalf("page %d holds %d requests, limit %d", page, len(p.Requests), q.Limit)
		}
		out = append(out, ids(p.Requests)...)
		if p.NextCursor == "" {
			return out
		}
		if len(p.Requests) == 0 {
			t.Fatalf("page %d is empty but has a cursor", page)
		}
		q.Cursor = p.NextCursor
	}
}

func TestList_NewestFirstThenIDDescendingWithFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	base := e.clock.Now()
	// Ties on ReceivedAt, ids that prefix each other, two projects and
	// two environments.
	specs := []struct {
		id, project, env string
		at               time.Duration
	}{
		{"a", "payments", "dev", 0}, {"ab", "payments", "prod", 0}, {"b", "search", "dev", 0},
		{"c", "payments", "dev", time.Second}, {"d", "search", "prod", 2 * time.Second},
		{"e", "payments", "dev", -time.Hour}, {"f", "payments", "dev", 3 * time.Second},
	}
	for _, sp := range specs {
		r := newRequest(sp.id)
		r.Project, r.Environment, r.ReceivedAt = sp.project, sp.env, base.Add(sp.at)
		mustCreate(t, e, r)
	}
	tests := []struct {
		name string
		q    store.ListQuery
		want []string
	}{
		{"all, pages of 2", store.ListQuery{Limit: 2}, []string{"f", "d", "c", "b", "ab", "a", "e"}},
		{"all, one page", store.ListQuery{}, []string{"f", "d", "c", "b", "ab", "a", "e"}},
		{"pages of exactly the count", store.ListQuery{Limit: 7}, []string{"f", "d", "c", "b", "ab", "a", "e"}},
		{"project", store.ListQuery{Project: "payments", Limit: 2}, []string{"f", "c", "ab", "a", "e"}},
		{"environment", store.ListQuery{Environment: "prod", Limit: 1}, []string{"d", "ab"}},
		{"project and environment", store.ListQuery{Project: "payments", Environment: "dev", Limit: 3}, []string{"f", "c", "a", "e"}},
		{"no match", store.ListQuery{Project: "nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := walk(t, e, tt.q); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	p, err := e.ListRequests(ctx, store.ListQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.ListRequests(ctx, store.ListQuery{Limit: 2, Project: "payments", Cursor: p.NextCursor})
	wantErr(t, err, store.ErrInvalid)
	_, err = e.ListRequests(ctx, store.ListQuery{Cursor: "not a cursor"})
	wantErr(t, err, store.ErrInvalid)
	_, err = e.ListRequests(ctx, store.ListQuery{Limit: -1})
	wantErr(t, err, store.ErrInvalid)
}

func TestList_WalkNeitherSkipsNorRepeatsWhileCreatingAndUpdating(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var want []string
	for i := 0; i < 12; i++ {
		id := fmt.Sprintf("old-%02d", i)
		mustCreate(t, e, newRequest(id))
		want = append([]string{id}, want...) // same instant: id descending
	}
	q := store.ListQuery{Limit: 5}
	var got []string
	for i := 0; ; i++ {
		p, err := e.ListRequests(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(p.Requests)...)
		// The page's last request changes status, which moves its
		// index entry to another key at the same position.
		if n := len(p.Requests); n > 0 {
			last := p.Requests[n-1].Clone()
			last.PR = &store.PullRequest{Number: i + 1, Open: true}
			if _, err := e.UpdateRequest(ctx, last); err != nil {
				t.Fatal(err)
			}
		}
		// New requests arrive between pages, newer and at the same
		// instant as the walk's position.
		e.clock.Advance(time.Millisecond)
		mustCreate(t, e, newRequest(fmt.Sprintf("new-%02d", i)))
		r := newRequest(fmt.Sprintf("old-%02d-z", i))
		r.ReceivedAt = time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
		mustCreate(t, e, r)
		if p.NextCursor == "" {
			break
		}
		q.Cursor = p.NextCursor
	}
	var pre []string
	for _, id := range got {
		if len(id) == len("old-00") {
			pre = append(pre, id)
		}
	}
	if !slices.Equal(pre, want) {
		t.Fatalf("pre-existing requests walked as %v, want %v", pre, want)
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("%s listed twice in %v", id, got)
		}
		seen[id] = true
	}
}

func TestList_FollowsProjectChangesAndSkipsStaleEntries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.clock.Set(time.Now()) // Reindex compares entry ages with the server's times
	ctx := context.Background()
	r := mustCreate(t, e, newRequest("req-1"))
	next := r.Clone()
	next.Project = "search"
	if _, err := e.UpdateRequest(ctx, next); err != nil {
		t.Fatal(err)
	}
	if got := walk(t, e, store.ListQuery{Project: "payments"}); len(got) != 0 {
		t.Fatalf("old project still lists %v", got)
	}
	if got := walk(t, e, store.ListQuery{Project: "search"}); !slices.Equal(got, []string{"req-1"}) {
		t.Fatalf("new project lists %v", got)
	}
	if keys := e.keys(t, "tfpilot/list/"); len(keys) != 1 {
		t.Fatalf("index holds %v, want one entry", keys)
	}
	// An entry left by a create that lost its race, and one whose
	// document is gone: neither is listed, Reindex removes them once old.
	other := newRequest("req-1")
	other.ReceivedAt = e.clock.Now().Add(time.Hour)
	if _, err := e.CreateRequest(ctx, other); err == nil {
		t.Fatal("second create of req-1 succeeded")
	}
	gone := mustCreate(t, e, newRequest("req-2"))
	if err := e.ArchiveRequest(ctx, "req-2", gone.Version); err != nil {
		t.Fatal(err)
	}
	e.putRaw(t, "tfpilot/list/"+danglingEntryKey("req-3"), "{}")
	if got := walk(t, e, store.ListQuery{Limit: 1}); !slices.Equal(got, []string{"req-1"}) {
		t.Fatalf("listed %v, want only req-1", got)
	}
	res, err := e.Reindex(ctx)
	if err != nil || res.Removed != 0 || res.Added != 0 {
		t.Fatalf("reindex of young entries: %+v, %v", res, err)
	}
	e.clock.Advance(time.Hour)
	res, err = e.Reindex(ctx)
	if err != nil || res.Removed != 2 || res.Requests != 1 {
		t.Fatalf("reindex: %+v, %v", res, err)
	}
	if keys := e.keys(t, "tfpilot/list/"); len(keys) != 1 {
		t.Fatalf("index holds %v after reindex", keys)
	}
}

// danglingEntryKey is a list-index key (relative to tfpilot/list/) for
// id, empty project and environment, status request_created, received
// at the end of time.
func danglingEntryKey(id string) string {
	return fmt.Sprintf("0000000000000000001_%s~/p.e.srequest_created", mirror(id))
}

// mirror maps an id to its inverted form in the index alphabet (test
// copy of the package's private function, for building a raw key).
func mirror(id string) string {
	const alphabet = "-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
	out := []byte(id)
	for i := range out {
		for j := 0; j < len(alphabet); j++ {
			if alphabet[j] == id[i] {
				out[i] = alphabet[len(alphabet)-1-j]
			}
		}
	}
	return string(out)
}

func TestList_StatusFilterReadsOnlyMatchingDocuments(t *testing.T) {
	t.Parallel()
	b := testenv.NewS3(t)
	counter := &countingClient{}
	client := b.S3Server.Client(func(o *s3.Options) { counter.next, o.HTTPClient = o.HTTPClient, counter })
	clk := newClock()
	s, err := s3store.New(client, b.Bucket, &s3store.Options{Prefix: b.Prefix, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		r := newRequest(fmt.Sprintf("req-%02d", i))
		if i == 7 {
			r.PR = &store.PullRequest{Number: 1, Open: true} // planning
		}
		mustCreate(t, s, r)
	}
	// Moving a request to another status moves its entry.
	cur, err := s.GetRequest(ctx, "req-20")
	if err != nil {
		t.Fatal(err)
	}
	cur.PR = &store.PullRequest{Number: 2, Open: true}
	if _, err := s.UpdateRequest(ctx, cur); err != nil {
		t.Fatal(err)
	}
	counter.calls.Store(0)
	p, err := s.ListRequests(ctx, store.ListQuery{Statuses: []lifecycle.Status{lifecycle.Planning}})
	if err != nil || !slices.Equal(ids(p.Requests), []string{"req-20", "req-07"}) || p.NextCursor != "" {
		t.Fatalf("planning: %v, %v", ids(p.Requests), err)
	}
	if n := counter.calls.Load(); n != 3 {
		t.Fatalf("a status-filtered page made %d S3 calls, want 3 (one list, a GET per match)", n)
	}
	p, err = s.ListRequests(ctx, store.ListQuery{Statuses: []lifecycle.Status{lifecycle.RequestCreated}, Limit: 100})
	if err != nil || len(p.Requests) != 28 || slices.Contains(ids(p.Requests), "req-20") {
		t.Fatalf("request_created: %v, %v", ids(p.Requests), err)
	}
}

func TestReindex_DocumentWithoutStatusKeepsOneEntry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// A destroy in flight: derived as destroying now, failed after the
	// stale-destroy timeout. The original wrote no status here.
	e.putRaw(t, "requests/req-1.json", `{"id":"req-1","project":"payments","environment":"dev","module":"m","version":2,
		"receivedAt":"2025-05-01T00:00:00Z","runs":{"destroy":{"currentAttempt":1,"attempts":[
		{"attempt":1,"runId":9,"status":"in_progress","dispatchedAt":"2025-06-01T09:59:00Z"}]}}}`)
	for i := 0; i < 2; i++ {
		res, err := e.Reindex(ctx)
		if err != nil || res.Added != 1-i {
			t.Fatalf("reindex %d: %+v, %v", i, res, err)
		}
		e.clock.Advance(time.Hour) // the derived status is failed from now on
	}
	if keys := e.keys(t, "tfpilot/list/"); len(keys) != 1 {
		t.Fatalf("index holds %v, want one entry", keys)
	}
	// The entry names the clock-free status (lifecycle.IndexStatus): the
	// destroy is in flight however old; the Pilot turns it failed.
	if got := walk(t, e, store.ListQuery{Statuses: []lifecycle.Status{lifecycle.Destroying}}); !slices.Equal(got, []string{"req-1"}) {
		t.Fatalf("destroying lists %v", got)
	}
	// A write through s3store keeps the same entry.
	cur, err := e.GetRequest(ctx, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	cur.BranchName = "b"
	if _, err := e.UpdateRequest(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if keys := e.keys(t, "tfpilot/list/"); len(keys) != 1 {
		t.Fatalf("after the update the index holds %v, want one entry", keys)
	}
	if got := walk(t, e, store.ListQuery{Statuses: []lifecycle.Status{lifecycle.Destroying}}); !slices.Equal(got, []string{"req-1"}) {
		t.Fatalf("after the update destroying lists %v", got)
	}
	if got := walk(t, e, store.ListQuery{Statuses: []lifecycle.Status{lifecycle.Failed}}); len(got) != 0 {
		t.Fatalf("failed lists %v; the store keeps the clock-free status", got)
	}
}

// TestList_StatusFilterNeverTrustsALegacyStatusField: a document the
// original wrote with a status field its facts contradict, indexed under
// that status by an earlier version, is found by the status its facts
// derive once Reindex has run, and never by the stale one (issue 13: on
// S3, status filters derive status from facts).
func TestList_StatusFilterNeverTrustsALegacyStatusField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// Facts: a failed plan. Stored status: applied.
	e.putRaw(t, "requests/req-1.json", `{"id":"req-1","project":"payments","environment":"dev","module":"m","version":2,
		"status":"applied","receivedAt":"2025-05-01T00:00:00Z","runs":{"plan":{"currentAttempt":1,"attempts":[
		{"attempt":1,"runId":9,"status":"completed","conclusion":"failure"}]}}}`)
	// The entry an earlier version's Reindex wrote from the status
	// field: this version's entry, renamed to name applied.
	if _, err := e.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	keys := e.keys(t, "tfpilot/list/")
	if len(keys) != 1 || !strings.HasSuffix(keys[0], ".sfailed") {
		t.Fatalf("reindex wrote %v, want one entry naming failed", keys)
	}
	e.putRaw(t, strings.TrimSuffix(keys[0], ".sfailed")+".sapplied", "{}")
	if _, err := e.b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(e.b.Bucket), Key: aws.String(e.key(keys[0]))}); err != nil {
		t.Fatal(err)
	}
	r, err := e.GetRequest(ctx, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if got := walk(t, e, store.ListQuery{Statuses: []lifecycle.Status{lifecycle.Applied}}); len(got) != 0 {
		t.Fatalf("applied lists %v: the stale status field counted", got)
	}
	if got := walk(t, e, store.ListQuery{}); !slices.Equal(got, []string{"req-1"}) {
		t.Fatalf("unfiltered list %v", got)
	}
	if _, err := e.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	if got := walk(t, e, store.ListQuery{Statuses: []lifecycle.Status{lifecycle.Failed}}); !slices.Equal(got, []string{"req-1"}) {
		t.Fatalf("failed lists %v after Reindex", got)
	}
	// An update moves it off the stale entry too.
	r.BranchName = "b"
	if _, err := e.UpdateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	keys = e.keys(t, "tfpilot/list/")
	if len(keys) != 1 || !strings.HasSuffix(keys[0], ".sfailed") {
		t.Fatalf("after the update the index holds %v, want the failed entry only", keys)
	}
	if got := walk(t, e, store.ListQuery{}); !slices.Equal(got, []string{"req-1"}) {
		t.Fatalf("unfiltered list %v after the update", got)
	}
}

// TestUpdate_RefusedReceivedAtChangeLeavesTheIndexAlone: ReceivedAt is
// the entry's position and never changes, so an update that tries is
// refused before any list-index write, and an update with a zero
// ReceivedAt keeps the entry where it is.
func TestUpdate_RefusedReceivedAtChangeLeavesTheIndexAlone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	r := mustCreate(t, e, newRequest("req-1"))
	before := e.keys(t, "tfpilot/list/")
	next := r.Clone()
	next.ReceivedAt = r.ReceivedAt.Add(time.Hour)
	next.PR = &store.PullRequest{Number: 1, Open: true} // a status change too
	if _, err := e.UpdateRequest(ctx, next); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("UpdateRequest moving ReceivedAt = %v, want ErrInvalid", err)
	}
	if after := e.keys(t, "tfpilot/list/"); !slices.Equal(after, before) {
		t.Fatalf("index after a refused update = %v, want %v", after, before)
	}
	next.ReceivedAt = time.Time{}
	if _, err := e.UpdateRequest(ctx, next); err != nil {
		t.Fatal(err)
	}
	after := e.keys(t, "tfpilot/list/")
	if len(after) != 1 || len(before) != 1 || strings.SplitAfter(after[0], "~/")[0] != strings.SplitAfter(before[0], "~/")[0] {
		t.Fatalf("index after an update with zero ReceivedAt = %v, want one entry at the position of %v", after, before)
	}
}
