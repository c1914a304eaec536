package s3store_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/s3store"
)

// keyCounter is an [s3store.API] that counts the keys its listings
// return.
type keyCounter struct {
	s3store.API
	keys atomic.Int64
}

func (c *keyCounter) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, o ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	out, err := c.API.ListObjectsV2(ctx, in, o...)
	if err == nil {
		c.keys.Add(int64(len(out.Contents)))
	}
	return out, err
}

// statusBucket creates n requests: every tenth planning, every
// seventeenth failed, every nineteenth destroying, the others created.
func statusBucket(t *testing.T, s store.Store, n int) map[lifecycle.Status][]string {
	t.Helper()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	want := make(map[lifecycle.Status][]string)
	for i := n - 1; i >= 0; i-- { // newest first, as lists return them
		r := newRequest(fmt.Sprintf("req-%04d", i))
		r.ReceivedAt = base.Add(time.Duration(i) * time.Second)
		st := lifecycle.RequestCreated
		switch {
		case i%10 == 0:
			r.PR, st = &store.PullRequest{Number: i + 1, Open: true}, lifecycle.Planning
		case i%17 == 0:
			r.Runs.Plan = runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{{Attempt: 1, RunID: 1, Status: runs.StatusCompleted, Conclusion: runs.ConclusionFailure}}}
			st = lifecycle.Failed
		case i%19 == 0:
			r.Runs.Destroy = runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{{Attempt: 1, RunID: 1, Status: runs.StatusInProgress}}}
			st = lifecycle.Destroying
		}
		mustCreate(t, s, r)
		want[st] = append(want[st], r.ID)
	}
	return want
}

// walkIDs lists every page of q and returns the ids in order.
func walkIDs(t *testing.T, s store.Store, q store.ListQuery) []string {
	t.Helper()
	var out []string
	for {
		p, err := s.ListRequests(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ids(p.Requests)...)
		if p.NextCursor == "" {
			return out
		}
		q.Cursor = p.NextCursor
	}
}

// TestList_StatusFilterListsOnlyTheKeysOfItsStatuses: a status-filtered
// page lists the status index's keys of the statuses asked for, so a
// page of 5 among 200 requests of which 20 match lists at most a page
// and the look-ahead (5+1+Concurrency keys), not the whole list index;
// walks over one status and over two (merged) return exactly the
// matching requests, newest first.
func TestList_StatusFilterListsOnlyTheKeysOfItsStatuses(t *testing.T) {
	t.Parallel()
	b, clk := newEnv(t).b, newClock()
	c := &keyCounter{API: b.Client}
	s, err := s3store.New(c, b.Bucket, &s3store.Options{Prefix: b.Prefix, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	want := statusBucket(t, s, 200)
	c.keys.Store(0)
	p, err := s.ListRequests(t.Context(), store.ListQuery{Limit: 5, Statuses: []lifecycle.Status{lifecycle.Planning}})
	if err != nil || !slices.Equal(ids(p.Requests), want[lifecycle.Planning][:5]) {
		t.Fatalf("first page of planning: %v, %v; want %v", ids(p.Requests), err, want[lifecycle.Planning][:5])
	}
	if n := c.keys.Load(); n > 5+1+s3store.DefaultConcurrency {
		t.Errorf("a filtered page of 5 listed %d keys; want at most %d", n, 5+1+s3store.DefaultConcurrency)
	}
	for _, sts := range [][]lifecycle.Status{{lifecycle.Planning}, {lifecycle.Failed, lifecycle.Destroying}, {lifecycle.Destroying, lifecycle.RequestCreated, lifecycle.Failed}} {
		var exp []string
		for _, st := range sts {
			exp = append(exp, want[st]...)
		}
		slices.Sort(exp)
		slices.Reverse(exp)
		if got := walkIDs(t, s, store.ListQuery{Limit: 7, Statuses: sts}); !slices.Equal(got, exp) {
			t.Errorf("walk of %v: %v\nwant %v", sts, got, exp)
		}
	}
}

// TestList_StatusFilterWithoutStatusIndexScansUntilReindex: a bucket
// written by a version without the status index (simulated by deleting
// it) is filtered by scanning the list index, with the same results,
// until Reindex writes the index.
func TestList_StatusFilterWithoutStatusIndexScansUntilReindex(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want := statusBucket(t, e.Store, 40)
	ctx := t.Context()
	listed, err := e.b.Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(e.b.Bucket), Prefix: aws.String(e.key("tfpilot/by-status/"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed.Contents) < 40 {
		t.Fatalf("the status index holds %d keys for 40 requests", len(listed.Contents))
	}
	for _, o := range listed.Contents {
		if _, err := e.b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(e.b.Bucket), Key: o.Key}); err != nil {
			t.Fatal(err)
		}
	}
	// A new Store: the old one remembers having seen ready.json.
	s, err := s3store.New(e.b.Client, e.b.Bucket, &s3store.Options{Prefix: e.b.Prefix, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	q := store.ListQuery{Limit: 3, Statuses: []lifecycle.Status{lifecycle.Planning, lifecycle.Failed}}
	exp := append(slices.Clone(want[lifecycle.Planning]), want[lifecycle.Failed]...)
	slices.Sort(exp)
	slices.Reverse(exp)
	if got := walkIDs(t, s, q); !slices.Equal(got, exp) {
		t.Errorf("before Reindex: %v, want %v", got, exp)
	}
	if _, err := s.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	if !e.exists(t, "tfpilot/by-status/ready.json") || len(e.keys(t, "tfpilot/by-status/planning/")) != len(want[lifecycle.Planning]) {
		t.Errorf("after Reindex the status index holds %d planning keys (want %d) and ready.json: %v",
			len(e.keys(t, "tfpilot/by-status/planning/")), len(want[lifecycle.Planning]), e.exists(t, "tfpilot/by-status/ready.json"))
	}
	if got := walkIDs(t, s, q); !slices.Equal(got, exp) {
		t.Errorf("after Reindex: %v, want %v", got, exp)
	}
}
