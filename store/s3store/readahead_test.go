package s3store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/s3store"
)

// gatedClient holds the GET of one key until a GET of a key after
// another has started.
type gatedClient struct {
	*s3.Client
	hold, after string
	once        sync.Once
	started     chan struct{}
}

func (c *gatedClient) GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	key := aws.ToString(in.Key)
	if key > c.after {
		c.once.Do(func() { close(c.started) })
	}
	if key == c.hold {
		select {
		case <-c.started:
		case <-ctx.Done():
			return nil, fmt.Errorf("GET %s held: no read of a key after %s started: %w", key, c.after, ctx.Err())
		}
	}
	return c.Client.GetObject(ctx, in, optFns...)
}

// TestExport_ReadsTheNextListingPageWhileAPageIsStillBeingRead: an
// export keeps its readers busy across listing pages (1,000 keys): one
// slow object at the end of a page does not stop the reads of the next
// page (the walk used to read a page whole before listing the next).
func TestExport_ReadsTheNextListingPageWhileAPageIsStillBeingRead(t *testing.T) {
	t.Parallel()
	b := testenv.NewS3(t)
	const n = 1010
	key := func(i int) string {
		return fmt.Sprintf("%swebhooks/github/run-index/plan/run-%d.json", b.Prefix, 100_000+i)
	}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				_, err := b.Client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(key(i)),
					Body: strings.NewReader(fmt.Sprintf(`{"requestId":"req-%d"}`, i))})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	c := &gatedClient{Client: b.Client, hold: key(999), after: key(999), started: make(chan struct{})}
	s, err := s3store.New(c, b.Bucket, &s3store.Options{Prefix: b.Prefix, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var got []string
	err = s.Export(ctx, store.KindRunIndex, func(it store.Item) error {
		got = append(got, it.Run.RequestID)
		return nil
	})
	if err != nil {
		t.Fatalf("Export with the last GET of the first page held until the second page is read: %v", err)
	}
	if len(got) != n || got[999] != "req-999" || got[n-1] != fmt.Sprint("req-", n-1) {
		t.Errorf("Export handed out %d entries (entry 999: %q); want %d in key order", len(got), got[min(999, len(got)-1)], n)
	}
}
