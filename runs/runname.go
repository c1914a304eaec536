package runs

import "strings"

// Workflow inputs tfpilot passes with every workflow_dispatch.
const (
	// InputRequestID carries the request id.
	InputRequestID = "request_id"
	// InputNonce carries the attempt's dispatch nonce.
	InputNonce = "tfpilot_nonce"
)

// runNameMarker starts the part of a run name that tfpilot reads.
const runNameMarker = "tfpilot"

// RunName returns the run name a tfpilot workflow should show, so that a
// run can be correlated to its request and attempt even when the dispatch
// answer was lost. Workflows produce it with
//
//	run-name: tfpilot ${{ inputs.request_id }} ${{ inputs.tfpilot_nonce }}
//
// and may put other words before or after it.
func RunName(requestID, nonce string) string {
	return runNameMarker + " " + requestID + " " + nonce
}

// ParseRunName finds the request id and nonce in a run name (GitHub's
// display_title or name) made by [RunName]: the two words after the
// first word "tfpilot". ok is false when the name holds no such part.
func ParseRunName(name string) (requestID, nonce string, ok bool) {
	f := strings.Fields(name)
	for i := 0; i+2 < len(f); i++ {
		if f[i] == runNameMarker {
			return f[i+1], f[i+2], true
		}
	}
	return "", "", false
}
