package s3store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/s3store"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// clock is a settable clock for a store under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a store on a bucket of the test's own, with raw access to the
// bucket for checking the layout.
type env struct {
	*s3store.Store
	b     *testenv.S3Bucket
	clock *clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	b := testenv.NewS3(t)
	c := newClock()
	s, err := s3store.New(b.Client, b.Bucket, &s3store.Options{Prefix: b.Prefix, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{Store: s, b: b, clock: c}
}

// key is a bucket key under the test's prefix.
func (e *env) key(k string) string { return e.b.Prefix + k }

func (e *env) putRaw(t *testing.T, key, body string) {
	t.Helper()
	_, err := e.b.Client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(e.b.Bucket), Key: aws.String(e.key(key)), Body: strings.NewReader(body),
	})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func (e *env) exists(t *testing.T, key string) bool {
	t.Helper()
	_, err := e.b.Client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(e.b.Bucket), Key: aws.String(e.key(key))})
	return err == nil
}

func (e *env) keys(t *testing.T, prefix string) []string {
	t.Helper()
	out, err := e.b.Client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(e.b.Bucket), Prefix: aws.String(e.key(prefix))})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, strings.TrimPrefix(*o.Key, e.b.Prefix))
	}
	return keys
}

func newRequest(id string) *store.Request {
	return &store.Request{ID: id, Project: "payments", Environment: "dev", Module: "s3-bucket", Config: map[string]any{"bucket_name": id}}
}

func mustCreate(t *testing.T, s store.Store, r *store.Request) *store.Request {
	t.Helper()
	got, err := s.CreateRequest(context.Background(), r)
	if err != nil {
		t.Fatalf("create %s: %v", r.ID, err)
	}
	return got
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
	if !strings.HasPrefix(err.Error(), "s3store: ") {
		t.Fatalf("error %q lacks the package's context", err)
	}
}

func TestNew_RefusesMissingClientOrBucket(t *testing.T) {
	t.Parallel()
	if _, err := s3store.New(nil, "b", nil); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("nil client: %v", err)
	}
	if _, err := s3store.New(&s3.Client{}, "", nil); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("empty bucket: %v", err)
	}
}

func TestRequest_CreateStartsAtVersionOneInTheSeedLayout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	got := mustCreate(t, e, newRequest("req-1"))
	if got.Version != 1 || !got.ReceivedAt.Equal(e.clock.Now()) || !got.UpdatedAt.Equal(e.clock.Now()) {
		t.Fatalf("created %+v", got)
	}
	if !e.exists(t, "requests/req-1.json") {
		t.Fatal("requests/req-1.json not written")
	}
	read, err := e.GetRequest(ctx, "req-1")
	if err != nil || read.Version != 1 || read.Config["bucket_name"] != "req-1" {
		t.Fatalf("get: %+v, %v", read, err)
	}
	_, err = e.CreateRequest(ctx, newRequest("req-1"))
	wantErr(t, err, store.ErrAlreadyExists)
	_, err = e.GetRequest(ctx, "absent")
	wantErr(t, err, store.ErrNotFound)
	_, err = e.CreateRequest(ctx, &store.Request{ID: "../x", Project: "p", Environment: "dev", Module: "m"})
	wantErr(t, err, store.ErrInvalid)
}

func TestUpdate_CompareAndSwapOnVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	r := mustCreate(t, e, newRequest("req-1"))

	same, err := e.UpdateRequest(ctx, r.Clone())
	if err != nil || same.Version != 1 {
		t.Fatalf("identical update: version %d, %v; want 1 and no write", same.Version, err)
	}
	next := r.Clone()
	next.Config["versioning"] = true
	got, err := e.UpdateRequest(ctx, next)
	if err != nil || got.Version != 2 || got.Config["versioning"] != true {
		t.Fatalf("update: %+v, %v", got, err)
	}
	stale := r.Clone()
	stale.Config["versioning"] = false
	_, err = e.UpdateRequest(ctx, stale)
	wantErr(t, err, store.ErrConflict)
	_, err = e.UpdateRequest(ctx, newRequest("absent"))
	wantErr(t, err, store.ErrNotFound)
}

func TestUpdate_ConcurrentWritersLoseNoUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustCreate(t, e, newRequest("req-1"))
	const writers = 16
	var wins atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				cur, err := e.GetRequest(ctx, "req-1")
				if err != nil {
					t.Error(err)
					return
				}
				next := cur.Clone()
				next.Config[fmt.Sprintf("w%d", w)] = true
				_, err = e.UpdateRequest(ctx, next)
				if err == nil {
					wins.Add(1)
					return
				}
				if !errors.Is(err, store.ErrConflict) {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got, err := e.GetRequest(ctx, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1+wins.Load() || wins.Load() != writers {
		t.Fatalf("version %d after %d wins of %d writers", got.Version, wins.Load(), writers)
	}
	for w := 0; w < writers; w++ {
		if got.Config[fmt.Sprintf("w%d", w)] != true {
			t.Fatalf("update of writer %d lost: %v", w, got.Config)
		}
	}
}

func TestCreate_RacingCreatesHaveOneWinner(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const racers = 16
	var wins, lost atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.CreateRequest(ctx, newRequest("req-1"))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, store.ErrAlreadyExists):
				lost.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || lost.Load() != racers-1 {
		t.Fatalf("%d wins, %d already-exists of %d racers", wins.Load(), lost.Load(), racers)
	}
	page, err := e.ListRequests(ctx, store.ListQuery{})
	if err != nil || len(page.Requests) != 1 {
		t.Fatalf("list after race: %d requests, %v", len(page.Requests), err)
	}
}

func TestArchive_MovesToHistoryAndRetriesSafely(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	r := mustCreate(t, e, newRequest("req-1"))
	wantErr(t, e.ArchiveRequest(ctx, "req-1", 9), store.ErrConflict)
	wantErr(t, e.ArchiveRequest(ctx, "absent", 1), store.ErrNotFound)

	// A crash after the history copy leaves the request live and
	// archived; archiving again finishes the move.
	e.putRaw(t, "history/req-1.json", `{"id":"req-1","project":"payments","environment":"dev","module":"s3-bucket","version":1}`)
	if err := e.ArchiveRequest(ctx, "req-1", r.Version); err != nil {
		t.Fatal(err)
	}
	_, err := e.GetRequest(ctx, "req-1")
	wantErr(t, err, store.ErrNotFound)
	old, err := e.GetArchivedRequest(ctx, "req-1")
	if err != nil || old.Config["bucket_name"] != "req-1" {
		t.Fatalf("archived: %+v, %v", old, err)
	}
	if keys := e.keys(t, "tfpilot/list/"); len(keys) != 0 {
		t.Fatalf("list index keeps %v after archive", keys)
	}
	_, err = e.CreateRequest(ctx, newRequest("req-1"))
	wantErr(t, err, store.ErrAlreadyExists)
	_, err = e.GetArchivedRequest(ctx, "absent")
	wantErr(t, err, store.ErrNotFound)
}

func TestArchive_MarkedDocumentReadsAsArchivedAndRetryFinishes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	r := mustCreate(t, e, newRequest("req-1"))
	// A crash after steps 1 and 2: history written, the live document
	// marked, not yet deleted.
	doc := e.getRaw(t, "requests/req-1.json")
	hist, _ := json.Marshal(doc)
	doc["tfpilotArchiving"] = e.clock.Now()
	marked, _ := json.Marshal(doc)
	e.putRaw(t, "history/req-1.json", string(hist))
	e.putRaw(t, "requests/req-1.json", string(marked))

	_, err := e.GetRequest(ctx, "req-1")
	wantErr(t, err, store.ErrNotFound)
	_, err = e.UpdateRequest(ctx, r)
	wantErr(t, err, store.ErrNotFound)
	if got := walk(t, e, store.ListQuery{}); len(got) != 0 {
		t.Fatalf("a request being archived is listed: %v", got)
	}
	if _, err := e.GetArchivedRequest(ctx, "req-1"); err != nil {
		t.Fatal(err)
	}
	if err := e.ArchiveRequest(ctx, "req-1", r.Version); err != nil {
		t.Fatalf("finishing the archive: %v", err)
	}
	if e.exists(t, "requests/req-1.json") || len(e.keys(t, "tfpilot/list/")) != 0 {
		t.Fatal("the retry left the document or its index entry")
	}
	if h := e.getRaw(t, "history/req-1.json"); h["tfpilotArchiving"] != nil || h["id"] != "req-1" {
		t.Fatalf("history holds %v", h)
	}
}

func TestArchive_LosingToAnUpdateLeavesNoHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	r := mustCreate(t, e, newRequest("req-1"))
	// Archive and update race on version 1 many times; whichever wins,
	// the request is never both live and archived afterwards.
	for i := 0; i < 8; i++ {
		id := fmt.Sprintf("race-%d", i)
		r = mustCreate(t, e, newRequest(id))
		var wg sync.WaitGroup
		var archErr, updErr error
		wg.Add(2)
		go func() { defer wg.Done(); archErr = e.ArchiveRequest(ctx, id, r.Version) }()
		go func() {
			defer wg.Done()
			next := r.Clone()
			next.Config["x"] = 1
			_, updErr = e.UpdateRequest(ctx, next)
		}()
		wg.Wait()
		_, liveErr := e.GetRequest(ctx, id)
		_, histErr := e.GetArchivedRequest(ctx, id)
		live, archived := liveErr == nil, histErr == nil
		if live == archived {
			t.Fatalf("round %d: live=%v archived=%v (archive: %v, update: %v)", i, live, archived, archErr, updErr)
		}
		if archErr == nil && live || updErr == nil && archErr == nil {
			t.Fatalf("round %d: both won (archive: %v, update: %v)", i, archErr, updErr)
		}
	}
}

func TestEvents_SameInstantDoNotCollideAndListInOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var ids []string
	for i := 0; i < 5; i++ { // one clock reading: five events in one instant
		ev, err := e.AppendEvent(ctx, store.Event{RequestID: "req-1", Event: fmt.Sprintf("e%d", i), Data: map[string]any{"n": i}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	e.clock.Advance(-time.Minute)
	early, err := e.AppendEvent(ctx, store.Event{RequestID: "req-1", Event: "earlier"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.ListEvents(ctx, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 || got[0].ID != early.ID {
		t.Fatalf("events %+v", got)
	}
	for i, ev := range got[1:] {
		if ev.ID != ids[i] || ev.Event != fmt.Sprintf("e%d", i) || ev.Data["n"] != float64(i) {
			t.Fatalf("event %d: %+v, want id %s", i, ev, ids[i])
		}
	}
	if n := len(e.keys(t, "logs/req-1/")); n != 6 {
		t.Fatalf("%d objects under logs/req-1/, want 6", n)
	}
	_, err = e.AppendEvent(ctx, store.Event{ID: ids[0], RequestID: "req-1", Event: "copy", Timestamp: e.clock.Now().Add(time.Hour)})
	wantErr(t, err, store.ErrAlreadyExists)
	none, err := e.ListEvents(ctx, "req-2")
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("no events: %v, %v", none, err)
	}
	_, err = e.AppendEvent(ctx, store.Event{RequestID: "req-1"})
	wantErr(t, err, store.ErrInvalid)
}

func TestAppendEvent_RepeatAfterCrashWritesTheLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// The id claim was written, the log object was not.
	e.putRaw(t, "tfpilot/event-ids/req-1/ev-1.json", `{"id":"ev-1","requestId":"req-1","event":"plan_dispatched","timestamp":"2025-06-01T10:00:00Z"}`)
	_, err := e.AppendEvent(ctx, store.Event{ID: "ev-1", RequestID: "req-1", Event: "plan_dispatched"})
	wantErr(t, err, store.ErrAlreadyExists)
	got, err := e.ListEvents(ctx, "req-1")
	if err != nil || len(got) != 1 || got[0].ID != "ev-1" || got[0].Event != "plan_dispatched" {
		t.Fatalf("events %+v, %v", got, err)
	}
}

func TestIndexes_SameMappingIsNoOpOtherRequestIsAlreadyExists(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	pr := store.PRRef{Owner: "acme", Repo: "infra", Number: 118}
	tests := []struct {
		name   string
		index  func(id string) error
		lookup func() (string, error)
		key    string
	}{
		{"run", func(id string) error { return e.IndexRun(ctx, runs.Apply, 42, id) },
			func() (string, error) { return e.LookupRun(ctx, runs.Apply, 42) },
			"webhooks/github/run-index/apply/run-42.json"},
		{"pr", func(id string) error { return e.IndexPR(ctx, pr, id) },
			func() (string, error) { return e.LookupPR(ctx, pr) },
			"webhooks/github/pr-index/acme_infra/pr-118.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.lookup()
			wantErr(t, err, store.ErrNotFound)
			if err := tt.index("req-1"); err != nil {
				t.Fatal(err)
			}
			if err := tt.index("req-1"); err != nil {
				t.Fatalf("same mapping again: %v", err)
			}
			wantErr(t, tt.index("req-2"), store.ErrAlreadyExists)
			if id, err := tt.lookup(); err != nil || id != "req-1" {
				t.Fatalf("lookup: %q, %v", id, err)
			}
			if !e.exists(t, tt.key) {
				t.Fatalf("%s not written", tt.key)
			}
		})
	}
	wantErr(t, e.IndexRun(ctx, "deploy", 1, "req-1"), store.ErrInvalid)
	wantErr(t, e.IndexPR(ctx, store.PRRef{Owner: "acme"}, "req-1"), store.ErrInvalid)
}

func TestDelivery_ConcurrentClaimsHaveOneWinner(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const racers = 16
	var wins atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.ClaimDelivery(ctx, "d-1", "workflow_run")
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, store.ErrAlreadyExists):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d claims won, want 1", wins.Load())
	}
}

func TestDelivery_ClaimCompleteRelease(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	claim, err := e.ClaimDelivery(ctx, "d-1", "pull_request")
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.GetDelivery(ctx, "d-1")
	if err != nil || d.Event != "pull_request" || !d.ClaimedAt.Equal(e.clock.Now()) || !d.CompletedAt.IsZero() {
		t.Fatalf("claimed: %+v, %v", d, err)
	}
	if err := e.ReleaseDelivery(ctx, "d-1", claim); err != nil {
		t.Fatal(err)
	}
	if err := e.ReleaseDelivery(ctx, "d-1", claim); err != nil {
		t.Fatalf("releasing an absent claim: %v", err)
	}
	if claim, err = e.ClaimDelivery(ctx, "d-1", "pull_request"); err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	e.clock.Advance(time.Second)
	if err := e.CompleteDelivery(ctx, "d-1", claim, "patched"); err != nil {
		t.Fatal(err)
	}
	d, err = e.GetDelivery(ctx, "d-1")
	if err != nil || d.Outcome != "patched" || !d.CompletedAt.Equal(e.clock.Now()) {
		t.Fatalf("completed: %+v, %v", d, err)
	}
	wantErr(t, e.ReleaseDelivery(ctx, "d-1", claim), store.ErrConflict)
	_, err = e.ClaimDelivery(ctx, "d-1", "pull_request")
	wantErr(t, err, store.ErrAlreadyExists)
	wantErr(t, e.CompleteDelivery(ctx, "d-2", time.Time{}, "x"), store.ErrNotFound)
	_, err = e.GetDelivery(ctx, "d-2")
	wantErr(t, err, store.ErrNotFound)
}

func TestIdempotency_RecordHoldsForItsWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	rec := store.IdempotencyRecord{Operation: "apply", Key: "k/1", Fingerprint: "f1", RequestID: "req-1",
		Response: []byte(`{"ok": true}`), ExpiresAt: e.clock.Now().Add(10 * time.Minute)}
	if err := e.PutIdempotency(ctx, rec); err != nil {
		t.Fatal(err)
	}
	got, err := e.GetIdempotency(ctx, "apply", "k/1")
	if err != nil || string(got.Response) != `{"ok": true}` || got.Fingerprint != "f1" || !got.CreatedAt.Equal(e.clock.Now()) {
		t.Fatalf("get: %+v, %v", got, err)
	}
	wantErr(t, e.PutIdempotency(ctx, rec), store.ErrAlreadyExists)
	e.clock.Advance(10 * time.Minute)
	_, err = e.GetIdempotency(ctx, "apply", "k/1")
	wantErr(t, err, store.ErrNotFound)
	rec.Fingerprint, rec.ExpiresAt = "f2", e.clock.Now().Add(time.Minute)
	if err := e.PutIdempotency(ctx, rec); err != nil {
		t.Fatalf("replacing an expired record: %v", err)
	}
	if got, _ := e.GetIdempotency(ctx, "apply", "k/1"); got.Fingerprint != "f2" {
		t.Fatalf("replaced record %+v", got)
	}
	wantErr(t, e.PutIdempotency(ctx, store.IdempotencyRecord{Operation: "apply", Key: "k"}), store.ErrInvalid)
}

func TestRateLimit_LastWriteWinsPerScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	until := e.clock.Now().Add(time.Minute)
	for _, b := range []store.RateLimitBackoff{
		{Scope: "global", Until: until.Add(-time.Second), Reason: "first"},
		{Scope: "global", Until: until, Reason: "secondary rate limit"},
		{Scope: "acme/infra", Until: until.Add(time.Hour)},
	} {
		if err := e.SetRateLimitBackoff(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	g, err := e.GetRateLimitBackoff(ctx, "global")
	if err != nil || !g.Until.Equal(until) || g.Reason != "secondary rate limit" {
		t.Fatalf("global: %+v, %v", g, err)
	}
	if !e.exists(t, "webhooks/github/ratelimit/global.json") || !e.exists(t, "webhooks/github/ratelimit/acme_infra.json") {
		t.Fatalf("rate-limit keys: %v", e.keys(t, "webhooks/github/ratelimit/"))
	}
	_, err = e.GetRateLimitBackoff(ctx, "other/repo")
	wantErr(t, err, store.ErrNotFound)
}

func TestCost_ReadsWhicheverDocumentExists(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.GetCost(ctx, "req-1")
	wantErr(t, err, store.ErrNotFound)
	if err := e.PutCost(ctx, store.Cost{RequestID: "req-1", Diff: []byte(`{"diffTotalMonthlyCost": "1.5"}`)}); err != nil {
		t.Fatal(err)
	}
	c, err := e.GetCost(ctx, "req-1")
	if err != nil || c.Estimate != nil || string(c.Diff) != `{"diffTotalMonthlyCost": "1.5"}` {
		t.Fatalf("cost: %+v, %v", c, err)
	}
	if !e.exists(t, "cost/req-1/infracost-diff.json") {
		t.Fatal("cost/req-1/infracost-diff.json not written")
	}
}

func TestList_StatusFilterUsesTheStatusStoredAtWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	planned := newRequest("planned")
	planned.PR = &store.PullRequest{Number: 1, Open: true}
	mustCreate(t, e, planned)
	mustCreate(t, e, newRequest("created"))
	page, err := e.ListRequests(ctx, store.ListQuery{Statuses: []lifecycle.Status{lifecycle.Planning}})
	if err != nil || len(page.Requests) != 1 || page.Requests[0].ID != "planned" || page.NextCursor != "" {
		t.Fatalf("planning: %v, %v", ids(page.Requests), err)
	}
	_, err = e.ListRequests(ctx, store.ListQuery{Statuses: []lifecycle.Status{"bogus"}})
	wantErr(t, err, store.ErrInvalid)
}

func ids(rs []*store.Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// headerClient records a header of every PUT an S3 client sends.
type headerClient struct {
	next   s3.HTTPClient
	name   string
	mu     sync.Mutex
	values []string
}

func (c *headerClient) Do(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut {
		c.mu.Lock()
		c.values = append(c.values, r.Header.Get(c.name))
		c.mu.Unlock()
	}
	return c.next.Do(r)
}

func TestOptions_ServerSideEncryptionIsSentWithEveryWrite(t *testing.T) {
	t.Parallel()
	b := testenv.NewS3(t)
	rec := &headerClient{name: "X-Amz-Server-Side-Encryption"}
	client := b.S3Server.Client(func(o *s3.Options) { rec.next, o.HTTPClient = o.HTTPClient, rec })
	s, err := s3store.New(client, b.Bucket, &s3store.Options{Prefix: b.Prefix, ServerSideEncryption: types.ServerSideEncryptionAes256})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mustCreate(t, s, newRequest("req-1"))
	if _, err := s.ClaimDelivery(ctx, "d-1", "ping"); err != nil {
		t.Fatal(err)
	}
	if len(rec.values) < 3 {
		t.Fatalf("%d PUTs recorded", len(rec.values))
	}
	for i, v := range rec.values {
		if v != "AES256" {
			t.Fatalf("PUT %d sent server-side encryption %q", i, v)
		}
	}
}
