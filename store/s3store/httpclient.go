package s3store

import (
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// NewHTTPClient returns a copy of base (nil: the SDK's default client)
// that keeps up to conns idle connections to the server, where the SDK
// keeps 10; set it as s3.Options' HTTPClient. Give it a [Store]'s
// Options.Concurrency, or more: an export (or a list) then runs its
// Concurrency reads at once without closing a connection after a read
// and dialling a new one for the next, which costs the client and the
// server more than the read itself on a local server (and a TLS
// handshake on a remote one). The rest of base's configuration (TLS,
// timeouts, proxy) is kept.
//
//	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
//		base, _ := o.HTTPClient.(*awshttp.BuildableClient)
//		o.HTTPClient = s3store.NewHTTPClient(base, 32)
//	})
//	s, err := s3store.New(client, bucket, &s3store.Options{Concurrency: 32})
func NewHTTPClient(base *awshttp.BuildableClient, conns int) *awshttp.BuildableClient {
	if base == nil {
		base = awshttp.NewBuildableClient()
	}
	conns = max(conns, awshttp.DefaultHTTPTransportMaxIdleConnsPerHost)
	return base.WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, conns)
		t.MaxIdleConns = max(t.MaxIdleConns, conns)
	})
}
