package store

import (
	"slices"
	"time"

	"github.com/tfpilot/tfpilot/tfoutput"
)

// DriftResult is what a drift check found.
type DriftResult string

// The results of a [DriftCheck].
const (
	// DriftPending: the check's run is dispatched, queued or running.
	DriftPending DriftResult = "pending"
	// DriftNone: the drift plan succeeded (no changes): the real
	// infrastructure matches the code.
	DriftNone DriftResult = "no_drift"
	// DriftDetected: the drift plan failed, and its log (when read) shows
	// a plan with changes rather than a Terraform error. The drift
	// workflow fails on "terraform plan -detailed-exitcode" exit code 2
	// (workflows/drift-plan.yml).
	DriftDetected DriftResult = "drifted"
	// DriftError: the check did not finish (its dispatch was refused or
	// lost, Terraform failed, the run was cancelled or timed out):
	// nothing is known about drift.
	DriftError DriftResult = "error"
)

// DriftCheck is one run of the drift workflow for a request: the
// request keeps its latest (see [Pilot.StartDriftCheck]); the events
// keep the history. Drift never changes a request's lifecycle status.
type DriftCheck struct {
	// Nonce is the dispatch nonce, in the run's name.
	Nonce string `json:"nonce"`
	// Actor is who started the check.
	Actor     string    `json:"actor,omitempty"`
	StartedAt time.Time `json:"startedAt,omitzero"`
	// RunID is GitHub's run id, 0 until known.
	RunID int64  `json:"runId,omitempty"`
	URL   string `json:"url,omitempty"`
	// Status and Conclusion are GitHub's.
	Status      string      `json:"status,omitempty"`
	Conclusion  string      `json:"conclusion,omitempty"`
	CompletedAt time.Time   `json:"completedAt,omitzero"`
	Result      DriftResult `json:"result"`
	// Output is the drift plan's summary once read from the run's log.
	Output *tfoutput.Summary `json:"output,omitempty"`
}

// Clone returns a deep copy of d (nil for nil).
func (d *DriftCheck) Clone() *DriftCheck {
	if d == nil {
		return nil
	}
	c := *d
	if d.Output != nil {
		o := *d.Output
		if o.Counts != nil {
			n := *o.Counts
			o.Counts = &n
		}
		o.Changes = slices.Clone(o.Changes)
		o.Errors = slices.Clone(o.Errors)
		c.Output = &o
	}
	return &c
}
