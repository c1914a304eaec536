package s3store_test

import (
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/s3store"
	"github.com/tfpilot/tfpilot/store/storetest"
	"github.com/tfpilot/tfpilot/store/storetest/enginetest"
)

// TestConformance runs the Store conformance suite, each property on a
// bucket (or prefix) of its own on the test binary's S3 server.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness { return harness{} })
}

// TestEngineOverStore runs the engine-over-store checks (package
// enginetest): Pilot's Get, List and Insights agree over this store.
func TestEngineOverStore(t *testing.T) {
	enginetest.Run(t, func(t *testing.T) storetest.Harness { return harness{} })
}

type harness struct{}

func (harness) NewStore(t *testing.T, now func() time.Time) store.Store {
	b := testenv.NewS3(t)
	s, err := s3store.New(b.Client, b.Bucket, &s3store.Options{Prefix: b.Prefix, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
