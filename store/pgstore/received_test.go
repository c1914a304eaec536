package pgstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/store"
)

// TestUpdateRequest_ReceivedAtComparedAtMicrosecondsKeepsStoredNanoseconds
// pins pgstore's precision: a ReceivedAt equal to the stored one once
// both are rounded to microseconds (timestamptz) is accepted, and the
// stored value, to the nanosecond, is kept; one a microsecond off is
// ErrInvalid.
func TestUpdateRequest_ReceivedAtComparedAtMicrosecondsKeepsStoredNanoseconds(t *testing.T) {
	t.Parallel()
	s := openStore(t, testenv.PostgresDSN(t), time.Now)
	ctx := t.Context()
	received := time.Date(2025, 6, 1, 10, 0, 0, 123456789, time.UTC)
	r := &store.Request{ID: "r1", Project: "payments", Environment: "dev", Module: "s3-bucket", ReceivedAt: received}
	created, err := s.CreateRequest(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	next := created.Clone()
	next.ReceivedAt = time.Date(2025, 6, 1, 10, 0, 0, 123457000, time.UTC) // the same microsecond, rounded
	next.BranchName = "b"
	got, err := s.UpdateRequest(ctx, next)
	if err != nil {
		t.Fatalf("UpdateRequest with ReceivedAt equal at microseconds: %v", err)
	}
	stored, err := s.GetRequest(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.ReceivedAt.Equal(received) || !stored.ReceivedAt.Equal(received) || stored.Version != 2 {
		t.Fatalf("update returned receivedAt %v, stored %v at version %d; want %v kept, version 2", got.ReceivedAt, stored.ReceivedAt, stored.Version, received)
	}
	off := stored.Clone()
	off.ReceivedAt = received.Add(time.Microsecond)
	off.BranchName = "c"
	if _, err := s.UpdateRequest(ctx, off); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("UpdateRequest with ReceivedAt a microsecond off = %v, want ErrInvalid", err)
	}
}
