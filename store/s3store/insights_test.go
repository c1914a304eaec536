package s3store_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/s3store"
)

// opCounter is an [s3store.API] that counts the calls it passes on, by
// operation.
type opCounter struct {
	s3store.API
	gets, lists, puts, heads, dels atomic.Int64
}

func (c *opCounter) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	c.gets.Add(1)
	return c.API.GetObject(ctx, in, o...)
}

func (c *opCounter) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, o ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	c.lists.Add(1)
	return c.API.ListObjectsV2(ctx, in, o...)
}

func (c *opCounter) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.puts.Add(1)
	return c.API.PutObject(ctx, in, o...)
}

func (c *opCounter) HeadObject(ctx context.Context, in *s3.HeadObjectInput, o ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	c.heads.Add(1)
	return c.API.HeadObject(ctx, in, o...)
}

func (c *opCounter) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, o ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	c.dels.Add(1)
	return c.API.DeleteObject(ctx, in, o...)
}

func (c *opCounter) reset() {
	for _, n := range []*atomic.Int64{&c.gets, &c.lists, &c.puts, &c.heads, &c.dels} {
		n.Store(0)
	}
}

// countedStore is a store on a bucket of the test's own whose calls c
// counts.
func countedStore(tb testing.TB, now func() time.Time) (*s3store.Store, *opCounter, *testenv.S3Bucket) {
	tb.Helper()
	b := testenv.NewS3(tb)
	c := &opCounter{API: b.Client}
	s, err := s3store.New(c, b.Bucket, &s3store.Options{Prefix: b.Prefix, Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	return s, c, b
}

// insightsRequest is request i of a bucket for insights: one in three
// applied with an apply completed i minutes before now (so within the
// week for the first 10,080), one in ten destroying, the rest created.
func insightsRequest(i int, now time.Time) *store.Request {
	r := newRequest(fmt.Sprintf("req-%05d", i))
	r.ReceivedAt = now.Add(-time.Duration(i+1) * time.Minute)
	switch {
	case i%3 == 0:
		r.MergedSHA = "abc"
		done := now.Add(-time.Duration(i) * time.Minute)
		r.Runs.Apply = runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{{Attempt: 1, RunID: int64(i + 1), Status: runs.StatusCompleted,
			Conclusion: runs.ConclusionSuccess, DispatchedAt: done.Add(-time.Duration(i%7+1) * time.Minute), CompletedAt: done}}}
	case i%10 == 1:
		r.Runs.Destroy = runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{{Attempt: 1, RunID: int64(i + 1), Status: runs.StatusInProgress,
			DispatchedAt: now.Add(-time.Duration(i) * time.Minute)}}}
	}
	return r
}

// seedInsights creates requests [from, to) of insightsRequest, 16 at a
// time.
func seedInsights(tb testing.TB, s store.Store, from, to int, now time.Time) {
	tb.Helper()
	var (
		wg     sync.WaitGroup
		failed atomic.Value
		next   atomic.Int64
	)
	next.Store(int64(from))
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < to; i = int(next.Add(1) - 1) {
				if _, err := s.CreateRequest(context.Background(), insightsRequest(i, now)); err != nil {
					failed.Store(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		tb.Fatalf("seeding: %v", err)
	}
}

// scanOnly hides the store's extensions, so that ComputeInsights walks it.
type scanOnly struct{ store.RequestStore }

// TestInsights_CostsTheListIndexPagesAndAConstantNumberOfGETs: insights
// over a bucket read the keys of the list index, the in-flight destroys
// and the window's completions, not the documents: one GET (ready.json)
// whatever the bucket holds, plus one per request whose list-index
// entries disagree (here one, given a second entry by hand, as a lost
// race leaves it) — and they agree with the walk of every request.
func TestInsights_CostsTheListIndexPagesAndAConstantNumberOfGETs(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s, c, b := countedStore(t, func() time.Time { return now })
	ctx := t.Context()
	if _, err := store.ComputeInsights(ctx, s, now); err != nil { // an empty bucket: ready from the start
		t.Fatal(err)
	}
	const n = 150
	seedInsights(t, s, 0, n, now)
	// A second list-index entry for req-00002, naming another status.
	listed, err := b.Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.Bucket), Prefix: aws.String(b.Prefix + "tfpilot/list/")})
	if err != nil {
		t.Fatal(err)
	}
	var extra string
	for _, o := range listed.Contents {
		if k := aws.ToString(o.Key); len(k) > 3 && extra == "" && containsID(k, "req-00002") {
			extra = k[:len(k)-len("request_created")] + "planning"
		}
	}
	if extra == "" {
		t.Fatal("no list-index entry for req-00002")
	}
	if _, err := b.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(extra), Body: strings.NewReader("{}")}); err != nil {
		t.Fatal(err)
	}

	c.reset()
	got, err := store.ComputeInsights(ctx, s, now)
	if err != nil {
		t.Fatal(err)
	}
	gets, lists := c.gets.Load(), c.lists.Load()
	// ready.json and req-00002; one page each of the list index, the
	// destroying keys and the done keys.
	if gets > 2 || lists > 3 || c.heads.Load() > 0 {
		t.Errorf("insights over %d requests made %d GETs, %d LISTs and %d HEADs; want at most 2, 3 and 0", n, gets, lists, c.heads.Load())
	}
	want, err := store.ComputeInsights(ctx, scanOnly{s}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("insights from keys differ from the walk:\nkeys %+v\nwalk %+v", got, want)
	}
	if got.Total != n || got.AppliesLast24h != n/3 {
		t.Errorf("insights counted %d requests and %d applies in 24 h; want %d and %d", got.Total, got.AppliesLast24h, n, n/3)
	}
}

// containsID reports whether list-index key k is the entry of id (the
// key holds the id mirrored through the id alphabet, see index.go).
func containsID(k, id string) bool {
	const alphabet = "-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
	inv := []byte(id)
	for i := range inv {
		inv[i] = alphabet[len(alphabet)-1-strings.IndexByte(alphabet, id[i])]
	}
	return strings.Contains(k, "_"+string(inv)+"~/")
}

// TestInsights_BucketWithoutInsightsKeysIsWalkedUntilReindex: a bucket
// whose requests were written by a version that kept no insights keys
// (simulated by deleting them) is walked, so nothing is missed, until
// Reindex writes the keys and ready.json; then the keys answer, with the
// same insights.
func TestInsights_BucketWithoutInsightsKeysIsWalkedUntilReindex(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s, c, b := countedStore(t, func() time.Time { return now })
	ctx := t.Context()
	const n = 40
	seedInsights(t, s, 0, n, now)
	listed, err := b.Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.Bucket), Prefix: aws.String(b.Prefix + "tfpilot/insights/")})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range listed.Contents {
		if _, err := b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Bucket), Key: o.Key}); err != nil {
			t.Fatal(err)
		}
	}
	want, err := store.ComputeInsights(ctx, scanOnly{s}, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.ComputeInsights(ctx, s, now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || got.AppliesLast24h != (n+2)/3 {
		t.Errorf("before Reindex, insights differ from the walk:\ngot  %+v\nwalk %+v", got, want)
	}
	if _, err := s.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	c.reset()
	got, err = store.ComputeInsights(ctx, s, now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after Reindex, insights differ from the walk:\ngot  %+v\nwalk %+v", got, want)
	}
	if c.gets.Load() > 1 {
		t.Errorf("after Reindex, insights made %d GETs; want 1 (ready.json)", c.gets.Load())
	}
}
