package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/store/s3store"
)

func init() { openers["s3"] = openS3 }

// openS3 opens s3://bucket[/prefix] with the AWS SDK's default
// configuration (environment, shared config files, instance roles;
// AWS_ENDPOINT_URL_S3 included); --s3-endpoint and --s3-path-style
// point it at a local server.
func openS3(ctx context.Context, u *url.URL, f *storeFlags, _ bool) (tfpilot.Store, func(), error) {
	bucket, prefix := u.Host, strings.TrimPrefix(u.Path, "/")
	if bucket == "" {
		return nil, nil, fmt.Errorf("store URL %q: no bucket (want s3://bucket[/prefix])", u)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("s3: load AWS configuration: %w", err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if f.s3Endpoint != "" {
			o.BaseEndpoint = aws.String(f.s3Endpoint)
		}
		o.UsePathStyle = f.s3PathStyle
		// Keep a connection per concurrent read (the SDK keeps 10).
		base, _ := o.HTTPClient.(*awshttp.BuildableClient)
		o.HTTPClient = s3store.NewHTTPClient(base, f.s3Concurrency)
	})
	s, err := s3store.New(client, bucket, &s3store.Options{Prefix: prefix, Concurrency: f.s3Concurrency})
	if err != nil {
		return nil, nil, err
	}
	return s, func() {}, nil
}
