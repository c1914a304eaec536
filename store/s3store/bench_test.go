package s3store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/s3store"
)

// countingClient counts the HTTP requests (S3 calls) an S3 client makes.
type countingClient struct {
	next  s3.HTTPClient
	calls atomic.Int64
}

func (c *countingClient) Do(r *http.Request) (*http.Response, error) {
	c.calls.Add(1)
	return c.next.Do(r)
}

const (
	benchRequests    = 10000
	benchPage        = 50
	benchConcurrency = s3store.DefaultConcurrency
)

// BenchmarkList50Of10000 lists the newest page of 50 among 10,000
// requests, with s3store's list index and with the original system's
// method (seed 002: list every key under requests/, GET every object,
// sort by LastModified, take 50), against the same server in the same
// run, with the same GET parallelism; and s3store's page of 50 among the
// 1,000 requests in status planning. s3calls/op is the number of S3
// calls per page. Run:
//
//	go test -run '^$' -bench List50Of10000 -benchtime 5x ./store/s3store/
func BenchmarkList50Of10000(b *testing.B) {
	bucket := testenv.NewS3(b)
	counter := &countingClient{}
	client := bucket.S3Server.Client(func(o *s3.Options) {
		counter.next = o.HTTPClient
		o.HTTPClient = counter
	})
	s3s, err := s3store.New(client, bucket.Bucket, &s3store.Options{Prefix: bucket.Prefix, Concurrency: benchConcurrency})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	seedRequests(b, s3s, benchRequests)
	b.Logf("seeded %d requests through CreateRequest in %v (%d S3 calls)", benchRequests, time.Since(start).Round(time.Millisecond), counter.calls.Load())

	b.Run("s3store", func(b *testing.B) {
		counter.calls.Store(0)
		for b.Loop() {
			page, err := s3s.ListRequests(ctx, store.ListQuery{Limit: benchPage})
			if err != nil || len(page.Requests) != benchPage {
				b.Fatalf("page of %d, %v", len(page.Requests), err)
			}
		}
		b.ReportMetric(float64(counter.calls.Load())/float64(b.N), "s3calls/op")
	})
	b.Run("s3store-status-filter", func(b *testing.B) {
		counter.calls.Store(0)
		q := store.ListQuery{Limit: benchPage, Statuses: []lifecycle.Status{lifecycle.Planning}}
		for b.Loop() {
			page, err := s3s.ListRequests(ctx, q)
			if err != nil || len(page.Requests) != benchPage {
				b.Fatalf("page of %d, %v", len(page.Requests), err)
			}
		}
		b.ReportMetric(float64(counter.calls.Load())/float64(b.N), "s3calls/op")
	})
	b.Run("seed-method", func(b *testing.B) {
		counter.calls.Store(0)
		for b.Loop() {
			page, err := listLikeTheSeed(ctx, client, bucket.Bucket, bucket.Prefix, benchPage)
			if err != nil || len(page) != benchPage {
				b.Fatalf("page of %d, %v", len(page), err)
			}
		}
		b.ReportMetric(float64(counter.calls.Load())/float64(b.N), "s3calls/op")
	})
}

// seedRequests creates n requests, received a second apart, 32 at a
// time; one in ten is planning, the others request_created.
func seedRequests(b *testing.B, s *s3store.Store, n int) {
	b.Helper()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				r := newRequest(fmt.Sprintf("req-%05d", i))
				r.ReceivedAt = base.Add(time.Duration(i) * time.Second)
				if i%10 == 0 {
					r.PR = &store.PullRequest{Number: i + 1, Open: true} // planning
				}
				if _, err := s.CreateRequest(context.Background(), r); err != nil {
					failed.Store(err)
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		ids <- i
	}
	close(ids)
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatalf("seeding: %v", err)
	}
}

// listLikeTheSeed is the original system's listRequests as seed 002
// describes it: ListObjectsV2 over requests/, a GET per object, sort by
// LastModified descending, keep limit.
func listLikeTheSeed(ctx context.Context, c *s3.Client, bucket, prefix string, limit int) ([]*store.Request, error) {
	type doc struct {
		key      string
		modified time.Time
		r        *store.Request
	}
	var docs []*doc
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix + "requests/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			docs = append(docs, &doc{key: aws.ToString(o.Key), modified: aws.ToTime(o.LastModified)})
		}
	}
	sem := make(chan struct{}, benchConcurrency)
	var wg sync.WaitGroup
	var failed atomic.Value
	for _, d := range docs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(d.key)})
			if err != nil {
				failed.Store(err)
				return
			}
			defer out.Body.Close()
			var r store.Request
			if err := json.NewDecoder(out.Body).Decode(&r); err != nil {
				failed.Store(err)
				return
			}
			d.r = &r
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		return nil, err.(error)
	}
	slices.SortFunc(docs, func(a, b *doc) int { return b.modified.Compare(a.modified) })
	out := make([]*store.Request, 0, limit)
	for _, d := range docs[:min(limit, len(docs))] {
		out = append(out, d.r)
	}
	return out, nil
}
