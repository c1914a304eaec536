package s3store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/tfpilot/tfpilot/internal/testenv"
)

// TestServer_IfMatchRaceHasExactlyOneWinner checks, with raw calls
// against the real server, the primitive every compare-and-swap of the
// store rests on: of many writers holding the same ETag, exactly one
// succeeds and the others get a precondition failure.
func TestServer_IfMatchRaceHasExactlyOneWinner(t *testing.T) {
	t.Parallel()
	b := testenv.NewS3(t)
	ctx := context.Background()
	key := aws.String(b.Prefix + "requests/race.json")
	first, err := b.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.Bucket), Key: key, Body: strings.NewReader(`{"version":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	const writers = 24
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = b.Client.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String(b.Bucket), Key: key, IfMatch: first.ETag,
				Body: strings.NewReader(fmt.Sprintf(`{"version":2,"writer":%d}`, i)),
			})
		}()
	}
	wg.Wait()
	wins := 0
	for i, err := range errs {
		var ae smithy.APIError
		switch {
		case err == nil:
			wins++
		case errors.As(err, &ae) && (ae.ErrorCode() == "PreconditionFailed" || ae.ErrorCode() == "ConditionalRequestConflict"):
		default:
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d If-Match writers won, want exactly 1", wins, writers)
	}

	// If-Match on a key that is gone answers 404 NoSuchKey (as AWS
	// does), which the store reads as a lost race.
	_, err = b.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(b.Prefix + "absent.json"), IfMatch: first.ETag, Body: strings.NewReader("{}")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || (ae.ErrorCode() != "NoSuchKey" && ae.ErrorCode() != "PreconditionFailed") {
		t.Fatalf("If-Match on a missing key: %v", err)
	}
}
