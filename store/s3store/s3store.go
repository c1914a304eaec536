package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/tfpilot/tfpilot/store"
)

// API is the part of the S3 client a [Store] uses. *s3.Client satisfies
// it; a wrapper can count or fault calls.
type API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// Options configures a [Store]. A nil *Options means the defaults.
type Options struct {
	// Prefix is prepended to every key, so that several stores (tests,
	// tenants) can share a bucket. A missing trailing "/" is added.
	// Default: "" (the bucket root, where the original TfPilot writes).
	Prefix string
	// Concurrency bounds the GETs a list runs in parallel. Default: 8.
	Concurrency int
	// Now is the store's clock: it stamps creations, claims, events and
	// idempotency records, decides idempotency expiry and the age of
	// stale index entries, and is the time at which each write derives
	// the status that list filters match. Default: time.Now.
	Now func() time.Time
	// ServerSideEncryption, when set, is sent with every write (the
	// original TfPilot wrote with AES256). Default: none, i.e. the
	// bucket's default encryption.
	ServerSideEncryption types.ServerSideEncryption
	// StaleIndexAge is how old a list-index entry that matches no
	// request must be before [Store.Reindex] removes it; younger ones
	// may belong to a create or update in flight. Default: 10 minutes.
	StaleIndexAge time.Duration
}

// Default option values.
const (
	DefaultConcurrency   = 8
	DefaultStaleIndexAge = 10 * time.Minute
)

// maxObjectSize caps how much of one object the store reads into memory.
const maxObjectSize = 32 << 20

// Store is a [store.Store] on an S3 bucket. It is safe for concurrent
// use by many goroutines and many processes sharing the bucket. Create
// one with [New].
type Store struct {
	client       API
	bucket       string
	prefix       string
	concurrency  int
	now          func() time.Time
	sse          types.ServerSideEncryption
	staleAge     time.Duration
	eventSeq     atomic.Int64
	statusReady  atomic.Bool // status_index.go: ready.json seen
	checkedEmpty atomic.Bool // status_index.go: markReadyIfEmpty ran
}

var _ store.Store = (*Store)(nil)

// New returns a Store on bucket through client, configured by opts (nil
// for the defaults). The bucket must exist; New makes no call.
func New(client API, bucket string, opts *Options) (*Store, error) {
	if client == nil || bucket == "" {
		return nil, fmt.Errorf("s3store: new: a client and a bucket are required: %w", store.ErrInvalid)
	}
	s := &Store{
		client:      client,
		bucket:      bucket,
		concurrency: DefaultConcurrency,
		now:         time.Now,
		staleAge:    DefaultStaleIndexAge,
	}
	if opts != nil {
		s.prefix = opts.Prefix
		if s.prefix != "" && !strings.HasSuffix(s.prefix, "/") {
			s.prefix += "/"
		}
		if opts.Concurrency > 0 {
			s.concurrency = opts.Concurrency
		}
		if opts.Now != nil {
			s.now = opts.Now
		}
		s.sse = opts.ServerSideEncryption
		if opts.StaleIndexAge > 0 {
			s.staleAge = opts.StaleIndexAge
		}
	}
	return s, nil
}

// failure classifies an S3 error.
type failure int

const (
	failOther        failure = iota
	failMissing              // 404: no such key
	failPrecondition         // 412, or 409 ConditionalRequestConflict
)

// classify maps an S3 error to a failure by its error code, falling back
// to the HTTP status for responses without a body (HEAD).
func classify(err error) failure {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return failMissing
		case "PreconditionFailed", "ConditionalRequestConflict":
			return failPrecondition
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			return failMissing
		case http.StatusPreconditionFailed:
			return failPrecondition
		}
	}
	return failOther
}

// object is one object read from the bucket.
type object struct {
	body     []byte
	etag     string
	modified time.Time
}

// get reads key. The error classifies as failMissing when it is absent.
func (s *Store) get(ctx context.Context, key string) (object, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(key)})
	if err != nil {
		return object{}, err
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, maxObjectSize+1))
	if err != nil {
		return object{}, fmt.Errorf("read %s: %w", key, err)
	}
	if len(body) > maxObjectSize {
		return object{}, fmt.Errorf("read %s: larger than %d bytes", key, maxObjectSize)
	}
	o := object{body: body, etag: aws.ToString(out.ETag)}
	if out.LastModified != nil {
		o.modified = *out.LastModified
	}
	return o, nil
}

// cond is the precondition of a write.
type cond struct {
	ifMatch     string // the ETag the object must have
	ifNoneMatch bool   // the object must not exist
}

// put writes body at key under c and returns the new ETag. A failed
// precondition classifies as failPrecondition, and so does a missing
// object under If-Match (S3 answers 404 NoSuchKey there).
func (s *Store) put(ctx context.Context, key string, body []byte, c cond) (string, error) {
	in := &s3.PutObjectInput{
		Bucket:      &s.bucket,
		Key:         aws.String(key),
		Body:        bytes.NewReader(body),
		ContentType: aws.String("application/json"),
	}
	if s.sse != "" {
		in.ServerSideEncryption = s.sse
	}
	if c.ifMatch != "" {
		in.IfMatch = aws.String(c.ifMatch)
	}
	if c.ifNoneMatch {
		in.IfNoneMatch = aws.String("*")
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		if c.ifMatch != "" && classify(err) == failMissing {
			return "", &preconditionError{err}
		}
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

// del deletes key, only if its ETag is ifMatch when that is set. With
// If-Match, a changed or missing object classifies as failPrecondition.
func (s *Store) del(ctx context.Context, key, ifMatch string) error {
	in := &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(key)}
	if ifMatch != "" {
		in.IfMatch = aws.String(ifMatch)
	}
	_, err := s.client.DeleteObject(ctx, in)
	if err != nil && ifMatch != "" && classify(err) == failMissing {
		return &preconditionError{err}
	}
	return err
}

// exists reports whether key exists.
func (s *Store) exists(ctx context.Context, key string) (bool, error) {
	_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: aws.String(key)})
	switch {
	case err == nil:
		return true, nil
	case classify(err) == failMissing:
		return false, nil
	}
	return false, err
}

// listed is one key returned by a listing.
type listed struct {
	key      string
	modified time.Time
}

// listOnce makes one ListObjectsV2 call for at most max keys under
// prefix after startAfter, and reports whether more keys follow.
func (s *Store) listOnce(ctx context.Context, prefix, startAfter string, max int32) ([]listed, bool, error) {
	in := &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(prefix), MaxKeys: aws.Int32(max)}
	if startAfter != "" {
		in.StartAfter = aws.String(startAfter)
	}
	out, err := s.client.ListObjectsV2(ctx, in)
	if err != nil {
		return nil, false, err
	}
	page := make([]listed, 0, len(out.Contents))
	for _, o := range out.Contents {
		l := listed{key: aws.ToString(o.Key)}
		if o.LastModified != nil {
			l.modified = *o.LastModified
		}
		page = append(page, l)
	}
	return page, aws.ToBool(out.IsTruncated) && len(page) > 0, nil
}

// listAll returns every key under prefix, in key order.
func (s *Store) listAll(ctx context.Context, prefix string) ([]listed, error) {
	var all []listed
	after := ""
	for {
		page, more, err := s.listOnce(ctx, prefix, after, 1000)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if !more {
			return all, nil
		}
		after = page[len(page)-1].key
	}
}

// preconditionError marks a 404 answered to a conditional write: the
// object the condition named is gone, which is a lost race like a 412.
type preconditionError struct{ err error }

func (e *preconditionError) Error() string { return "precondition failed: " + e.err.Error() }
func (e *preconditionError) Unwrap() error { return e.err }

// isPrecondition reports whether err is a failed write precondition.
func isPrecondition(err error) bool {
	var pe *preconditionError
	return errors.As(err, &pe) || classify(err) == failPrecondition
}

// isMissing reports whether err says the object does not exist (and is
// not a failed precondition).
func isMissing(err error) bool {
	var pe *preconditionError
	var me *missingError
	return errors.As(err, &me) || !errors.As(err, &pe) && classify(err) == failMissing
}

// parallel runs fn(ctx, i) for i in [0, n) with at most s.concurrency
// running at once, and returns the first error. After an error, calls
// not yet started are skipped.
func (s *Store) parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
		sem      = make(chan struct{}, s.concurrency)
	)
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			if err := fn(ctx, i); err != nil {
				once.Do(func() { firstErr = err; cancel() })
			}
		}(i)
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// keyPart escapes s for use as one segment of a key: no "/", and no
// leading "." (which a file-backed server would read as a path).
func keyPart(s string) string {
	e := url.PathEscape(s)
	if strings.HasPrefix(e, ".") {
		e = "%2E" + e[1:]
	}
	return e
}

// safeID reports whether a request id can name a key as is (the layout
// uses ids unescaped, as the original did).
func safeID(id string) bool {
	return id != "" && !strings.ContainsAny(id, `/\`) && !strings.Contains(id, "..") && !strings.HasPrefix(id, ".")
}
