package s3store

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func responseError(status int) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      errors.New("no body"),
	}}
}

// TestClassify_LostRacesAndMissingKeysByCode pins the error mapping every
// conditional write relies on: by error code first (as S3 and versitygw
// send them), by HTTP status for bodiless answers (HEAD).
func TestClassify_LostRacesAndMissingKeysByCode(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		err  error
		want failure
	}{
		{"NoSuchKey", &smithy.GenericAPIError{Code: "NoSuchKey"}, failMissing},
		{"NotFound (HEAD)", &smithy.GenericAPIError{Code: "NotFound"}, failMissing},
		{"PreconditionFailed (412)", &smithy.GenericAPIError{Code: "PreconditionFailed"}, failPrecondition},
		{"ConditionalRequestConflict (409)", &smithy.GenericAPIError{Code: "ConditionalRequestConflict"}, failPrecondition},
		{"wrapped", fmt.Errorf("operation error S3: PutObject: %w", &smithy.GenericAPIError{Code: "PreconditionFailed"}), failPrecondition},
		{"bare 404", responseError(http.StatusNotFound), failMissing},
		{"bare 412", responseError(http.StatusPreconditionFailed), failPrecondition},
		{"AccessDenied", &smithy.GenericAPIError{Code: "AccessDenied"}, failOther},
		{"bare 500", responseError(http.StatusInternalServerError), failOther},
		{"not an S3 error", errors.New("dial tcp: refused"), failOther},
	} {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("%s: classify = %d, want %d", tt.name, got, tt.want)
		}
	}
	// A 404 answered to If-Match is a lost race, not a missing key.
	lost := &preconditionError{&smithy.GenericAPIError{Code: "NoSuchKey"}}
	if !isPrecondition(lost) || isMissing(lost) {
		t.Error("404 under If-Match must read as a failed precondition")
	}
	if !isMissing(errArchiving) || isPrecondition(errArchiving) {
		t.Error("a document being archived must read as missing")
	}
}
