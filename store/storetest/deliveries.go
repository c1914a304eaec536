package storetest

import (
	"time"

	"github.com/tfpilot/tfpilot"
)

var deliveryTests = []test{
	{"Deliveries/ConcurrentClaimsExactlyOneWins", testClaimRace},
	{"Deliveries/CompleteRecordsOutcomeAndKeepsClaim", testDeliveryComplete},
	{"Deliveries/ReleaseLetsRedeliveryClaim", testDeliveryRelease},
}

func testClaimRace(e *env) {
	errs := race(concurrency, func(int) error {
		return e.s.ClaimDelivery(e.ctx, "d-1", "workflow_run")
	})
	if won := e.winners(errs, tfpilot.ErrAlreadyExists); len(won) != 1 {
		e.Fatalf("%d of %d concurrent claims won, want exactly 1", len(won), concurrency)
	}
	d, err := e.s.GetDelivery(e.ctx, "d-1")
	if err != nil || d.ID != "d-1" || d.Event != "workflow_run" || !d.ClaimedAt.Equal(e.clock.Now()) || !d.CompletedAt.IsZero() {
		e.Errorf("GetDelivery after the claim = %+v, %v; want claimed at %v, not completed", d, err, e.clock.Now())
	}
}

func testDeliveryComplete(e *env) {
	claimed := e.clock.Now()
	if err := e.s.ClaimDelivery(e.ctx, "d-1", "pull_request"); err != nil {
		e.Fatalf("ClaimDelivery: %v", err)
	}
	done := e.clock.Advance(time.Second)
	if err := e.s.CompleteDelivery(e.ctx, "d-1", "patched r1"); err != nil {
		e.Fatalf("CompleteDelivery: %v", err)
	}
	d, err := e.s.GetDelivery(e.ctx, "d-1")
	if err != nil || d.Outcome != "patched r1" || !d.ClaimedAt.Equal(claimed) || !d.CompletedAt.Equal(done) || d.Event != "pull_request" {
		e.Errorf("GetDelivery after completion = %+v, %v; want outcome, claimed %v, completed %v", d, err, claimed, done)
	}
	err = e.s.ClaimDelivery(e.ctx, "d-1", "pull_request")
	e.wantErr("ClaimDelivery of a completed delivery", err, tfpilot.ErrAlreadyExists, "d-1")
	err = e.s.ReleaseDelivery(e.ctx, "d-1")
	e.wantErr("ReleaseDelivery of a completed delivery", err, tfpilot.ErrConflict, "d-1")
	if d, err := e.s.GetDelivery(e.ctx, "d-1"); err != nil || d.Outcome != "patched r1" {
		e.Errorf("GetDelivery after a refused release = %+v, %v", d, err)
	}
	err = e.s.CompleteDelivery(e.ctx, "never", "x")
	e.wantErr("CompleteDelivery of an unclaimed delivery", err, tfpilot.ErrNotFound, "never")
	_, err = e.s.GetDelivery(e.ctx, "never")
	e.wantErr("GetDelivery of an unclaimed delivery", err, tfpilot.ErrNotFound, "never")
}

func testDeliveryRelease(e *env) {
	if err := e.s.ReleaseDelivery(e.ctx, "absent"); err != nil {
		e.Errorf("ReleaseDelivery of an absent claim = %v, want nil (a no-op)", err)
	}
	if err := e.s.ClaimDelivery(e.ctx, "d-1", "workflow_run"); err != nil {
		e.Fatalf("ClaimDelivery: %v", err)
	}
	err := e.s.ClaimDelivery(e.ctx, "d-1", "workflow_run")
	e.wantErr("ClaimDelivery of a held claim", err, tfpilot.ErrAlreadyExists, "d-1")
	if err := e.s.ReleaseDelivery(e.ctx, "d-1"); err != nil {
		e.Fatalf("ReleaseDelivery of a held claim: %v", err)
	}
	_, err = e.s.GetDelivery(e.ctx, "d-1")
	e.wantErr("GetDelivery of a released claim", err, tfpilot.ErrNotFound, "d-1")
	again := e.clock.Advance(time.Minute)
	if err := e.s.ClaimDelivery(e.ctx, "d-1", "workflow_run"); err != nil {
		e.Fatalf("ClaimDelivery after release: %v", err)
	}
	if d, err := e.s.GetDelivery(e.ctx, "d-1"); err != nil || !d.ClaimedAt.Equal(again) {
		e.Errorf("GetDelivery of the new claim = %+v, %v; want claimed at %v", d, err, again)
	}
}
