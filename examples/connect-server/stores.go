package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/store/memstore"
	"github.com/tfpilot/tfpilot/store/pgstore"
	"github.com/tfpilot/tfpilot/store/s3store"
)

// s3Options are the settings of --store s3.
type s3Options struct {
	bucket, prefix, endpoint, region string
}

// openStore opens the backend --store names. It returns the store, a
// readiness check for /readyz (nil: always ready), and a function
// releasing the store. PostgreSQL migrations are applied here.
func openStore(ctx context.Context, o options, log *slog.Logger) (tfpilot.Store, func(context.Context) error, func(), error) {
	switch o.store {
	case "memory":
		return memstore.New(nil), nil, func() {}, nil
	case "postgres":
		if o.postgresDSN == "" {
			return nil, nil, nil, errors.New("--store postgres needs --postgres-dsn (TFPILOT_POSTGRES_DSN)")
		}
		s, err := pgstore.Open(ctx, o.postgresDSN, &pgstore.Options{Logger: log})
		if err != nil {
			return nil, nil, nil, err
		}
		if err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, nil, nil, fmt.Errorf("postgres migrations: %w", err)
		}
		log.Info("postgres store ready; migrations applied")
		ready := func(ctx context.Context) error { return s.DB().PingContext(ctx) }
		return s, ready, func() { s.Close() }, nil
	case "s3":
		if o.s3.bucket == "" {
			return nil, nil, nil, errors.New("--store s3 needs --s3-bucket (TFPILOT_S3_BUCKET)")
		}
		cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(o.s3.region))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("s3 configuration: %w", err)
		}
		client := s3.NewFromConfig(cfg, func(so *s3.Options) {
			if o.s3.endpoint != "" {
				// An S3-compatible server: path-style, and checksums
				// only where S3 requires them (many servers reject the
				// SDK's default trailing checksums).
				so.BaseEndpoint = aws.String(o.s3.endpoint)
				so.UsePathStyle = true
				so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
				so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
			}
		})
		s, err := s3store.New(client, o.s3.bucket, &s3store.Options{Prefix: o.s3.prefix})
		if err != nil {
			return nil, nil, nil, err
		}
		if missing, err := s.ListIndexMissing(ctx); err != nil {
			log.Warn("cannot check the S3 list index", "err", err)
		} else if missing {
			log.Warn("the bucket holds requests but no list index (a bucket the original TfPilot wrote): List returns nothing until it is built; run: tfpilot-migrate reindex --store s3://" + o.s3.bucket + "/" + o.s3.prefix)
		}
		ready := func(ctx context.Context) error {
			_, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(o.s3.bucket)})
			return err
		}
		return s, ready, func() {}, nil
	}
	return nil, nil, nil, fmt.Errorf("--store %q: want memory, postgres or s3", o.store)
}
