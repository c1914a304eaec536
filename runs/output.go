package runs

import (
	"slices"

	"github.com/tfpilot/tfpilot/tfoutput"
)

// SetOutput returns s with out recorded as the Output of attempt number
// attempt of kind k. It applies only to a completed attempt that has no
// Output yet (an output is a fact about a finished run, read once), and
// reports whether s changed. out must not be modified afterwards.
func SetOutput(s State, k Kind, attempt int, out *tfoutput.Summary) (State, bool) {
	if out == nil {
		return s, false
	}
	op := s.Op(k)
	for i, a := range op.Attempts {
		if a.Attempt != attempt {
			continue
		}
		if a.Output != nil || a.Status != StatusCompleted {
			return s, false
		}
		a.Output = out
		return s.withOp(k, replaceAttempt(op, i, a)), true
	}
	return s, false
}

// cloneOutputs gives each attempt of attempts its own copy of its Output.
func cloneOutputs(attempts []Attempt) []Attempt {
	for i, a := range attempts {
		if a.Output == nil {
			continue
		}
		o := *a.Output
		if o.Counts != nil {
			c := *o.Counts
			o.Counts = &c
		}
		o.Changes = slices.Clone(o.Changes)
		o.Errors = slices.Clone(o.Errors)
		attempts[i].Output = &o
	}
	return attempts
}
