package migrate_test

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/migrate"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/memstore"
	"github.com/tfpilot/tfpilot/store/pgstore"
	"github.com/tfpilot/tfpilot/store/s3store"
)

// putObjects writes objs under prefix in bucket with plain PutObject
// calls, as the original TfPilot did.
func putObjects(t testing.TB, c *s3.Client, bucket, prefix string, objs []object) {
	t.Helper()
	for _, o := range objs {
		_, err := c.PutObject(t.Context(), &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(prefix + o.Key),
			Body: strings.NewReader(o.Body), ContentType: aws.String("application/json"),
		})
		if err != nil {
			t.Fatalf("put %s: %v", o.Key, err)
		}
	}
}

// s3ToPostgres is the real migration: a bucket in the original layout,
// written with raw S3 calls, and PostgreSQL targets.
func s3ToPostgres(t *testing.T) (store.Store, func() store.Store) {
	b := testenv.NewS3(t)
	putObjects(t, b.Client, b.Bucket, b.Prefix, legacyBucket())
	src, err := s3store.New(b.Client, b.Bucket, &s3store.Options{Prefix: b.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	return src, func() store.Store { return newPostgres(t) }
}

func TestMigrate_S3ToPostgres_LegacyBucket(t *testing.T) {
	t.Parallel()
	testMigrateLegacyBucket(t, s3ToPostgres)
}

func TestMigrate_S3ToPostgres_InterruptedCopyEndsAsOneUninterrupted(t *testing.T) {
	t.Parallel()
	testInterruptedCopy(t, s3ToPostgres)
}

// BenchmarkCopy_S3ToPostgres copies a bucket of benchRequests requests
// (written once) into a fresh PostgreSQL database per iteration and
// reports requests (and items) migrated per second, verification
// included: one item at a time (batch=1, the copy before batching) and
// in batches of 200 (the default), side by side, next to the floor of
// reading every object of the bucket and nothing else (floor=GET). Each
// reports S3 calls and new connections per migrated request and the CPU
// seconds of the test process, the S3 server and PostgreSQL; set
// TFPILOT_BENCH_CPUPROFILE to profile the copy.
func BenchmarkCopy_S3ToPostgres(b *testing.B) {
	n := benchRequests()
	bk := testenv.NewS3(b)
	objs := syntheticBucket(n)
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for i := w; i < len(objs); i += 32 {
				putObjects(b, bk.Client, bk.Bucket, bk.Prefix, objs[i:i+1])
			}
		})
	}
	wg.Wait()
	var calls s3Calls
	client := bk.S3Server.Client(func(o *s3.Options) { o.HTTPClient = s3store.NewHTTPClient(nil, 16) }, calls.counting())
	src, err := s3store.New(client, bk.Bucket, &s3store.Options{Prefix: bk.Prefix, Concurrency: 16})
	if err != nil {
		b.Fatal(err)
	}
	// The floor: every object of the bucket read (GET, body read
	// whole) through the same client, 16 at a time, and nothing else
	// done with it: requests/s here is what reading the source alone
	// allows, whatever the copy does.
	b.Run("floor=GET", func(b *testing.B) {
		calls.reset()
		cpu0 := readCPU(bk.Endpoint, "")
		for range b.N {
			getAll(b, client, bk.Bucket, bk.Prefix, objs, 16)
		}
		cpu1 := readCPU(bk.Endpoint, "")
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "requests/s")
		b.ReportMetric(float64(len(objs)*b.N)/b.Elapsed().Seconds(), "GET/s")
		calls.report(b, n*b.N)
		reportCPU(b, cpu0, cpu1)
	})
	for _, batch := range []int{1, 200} {
		b.Run(fmt.Sprint("batch=", batch), func(b *testing.B) {
			var items int64
			var cpu0, cpu1 cpuClock
			calls.reset()
			for i := range b.N {
				b.StopTimer()
				dsn := testenv.PostgresDSN(b)
				dst, err := pgstore.Open(b.Context(), dsn, nil)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { dst.Close() })
				if err := dst.Migrate(b.Context()); err != nil {
					b.Fatal(err)
				}
				if i == 0 {
					cpu0 = readCPU(bk.Endpoint, dsn)
				}
				stop := profileCopy(b)
				b.StartTimer()
				res, err := migrate.Copy(b.Context(), src, dst, &migrate.CopyOptions{Concurrency: 16, BatchSize: batch})
				b.StopTimer()
				stop()
				if err != nil || !res.OK() {
					b.Fatalf("Copy = %+v, %v", res.Total(), err)
				}
				items += res.Total().Written
				if i == b.N-1 {
					cpu1 = readCPU(bk.Endpoint, dsn)
				}
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(n*b.N)/secs, "requests/s")
			b.ReportMetric(float64(items)/secs, "items/s")
			calls.report(b, n*b.N)
			reportCPU(b, cpu0, cpu1)
		})
	}
}

// BenchmarkCopy_MemToPostgres is BenchmarkCopy_S3ToPostgres from a
// memstore: the PostgreSQL side alone, one item at a time (batch=1)
// and in batches of 200.
func BenchmarkCopy_MemToPostgres(b *testing.B) {
	n := benchRequests()
	src := memstore.New(nil)
	for _, it := range layoutItems(b, syntheticBucket(n)) {
		if _, err := src.Import(b.Context(), it); err != nil {
			b.Fatal(err)
		}
	}
	for _, batch := range []int{1, 200} {
		b.Run(fmt.Sprint("batch=", batch), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				dst := newPostgres(b)
				b.StartTimer()
				res, err := migrate.Copy(b.Context(), src, dst, &migrate.CopyOptions{Concurrency: 16, BatchSize: batch})
				if err != nil || !res.OK() {
					b.Fatalf("Copy = %+v, %v", res.Total(), err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "requests/s")
		})
	}
}

// getAll reads every object of objs under prefix, conc at a time, and
// discards the bodies.
func getAll(b *testing.B, c *s3.Client, bucket, prefix string, objs []object, conc int) {
	var wg sync.WaitGroup
	for w := range conc {
		wg.Go(func() {
			for i := w; i < len(objs); i += conc {
				out, err := c.GetObject(b.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + objs[i].Key)})
				if err != nil {
					b.Error(err)
					return
				}
				_, err = io.Copy(io.Discard, out.Body)
				out.Body.Close()
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
