package s3store

import (
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// NewHTTPClient returns an HTTP client for an S3 client (s3.Options'
// HTTPClient) that keeps up to conns idle connections to the server,
// where the SDK's default keeps 10. Give it a [Store]'s
// Options.Concurrency, or more: an export (or a list) then runs its
// Concurrency reads at once without closing a connection after each
// read and dialling a new one for the next, which costs the client and
// the server more than the read itself on a local server. Otherwise it
// is the SDK's default client.
//
//	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
//		o.HTTPClient = s3store.NewHTTPClient(32)
//	})
//	s, err := s3store.New(client, bucket, &s3store.Options{Concurrency: 32})
func NewHTTPClient(conns int) *awshttp.BuildableClient {
	conns = max(conns, awshttp.DefaultHTTPTransportMaxIdleConnsPerHost)
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = conns
		t.MaxIdleConns = max(t.MaxIdleConns, conns)
	})
}
