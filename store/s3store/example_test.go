package s3store_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/s3store"
)

// Pointing tfpilot at an existing TfPilot bucket on a local
// S3-compatible server. (Not run: it needs the server.)
func Example() {
	ctx := context.Background()
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://127.0.0.1:7070"),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("access-key", "secret-key", ""),
	})
	s, err := s3store.New(client, "tfpilot-requests", &s3store.Options{Concurrency: 16})
	if err != nil {
		log.Fatal(err)
	}

	// Once: index the requests the original system wrote, so that they
	// are listed.
	res, err := s.Reindex(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("indexed", res.Added, "of", res.Requests, "requests")

	// The newest failed requests of one project, 20 at a time.
	q := store.ListQuery{Project: "payments", Statuses: []lifecycle.Status{lifecycle.Failed}, Limit: 20}
	for {
		page, err := s.ListRequests(ctx, q)
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range page.Requests {
			fmt.Println(r.ID, r.ReceivedAt)
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}

	// Every write is a compare-and-swap; Mutate retries lost races.
	_, err = store.Mutate(ctx, s, "req_7f3a9c21", func(r *store.Request) error {
		r.TargetBase = "main"
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		fmt.Println("no such request")
	case err != nil:
		log.Fatal(err)
	}
}
