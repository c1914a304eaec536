package runs

import "testing"

// TestKind_ValidIsAttemptKindsKnownIsEveryWorkflow: Valid holds only for
// the kinds a request keeps attempts of; Known adds cleanup and drift and
// nothing else.
func TestKind_ValidIsAttemptKindsKnownIsEveryWorkflow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		k            Kind
		valid, known bool
	}{
		{Plan, true, true}, {Apply, true, true}, {Destroy, true, true},
		{Cleanup, false, true}, {Drift, false, true},
		{"", false, false}, {"lint", false, false}, {"Plan", false, false},
	} {
		if tc.k.Valid() != tc.valid || tc.k.Known() != tc.known {
			t.Errorf("%q: Valid %v, Known %v; want %v, %v", tc.k, tc.k.Valid(), tc.k.Known(), tc.valid, tc.known)
		}
	}
	if got := WorkflowKinds(); len(got) != 5 || got[0] != Plan || got[3] != Cleanup || got[4] != Drift {
		t.Errorf("WorkflowKinds() = %v", got)
	}
}

func TestRepo_StringAndValid(t *testing.T) {
	t.Parallel()
	if r := (Repo{Owner: "acme", Name: "infra"}); r.String() != "acme/infra" || !r.Valid() {
		t.Errorf("%+v: %q, valid %v", r, r.String(), r.Valid())
	}
	for _, r := range []Repo{{}, {Owner: "acme"}, {Name: "infra"}} {
		if r.Valid() {
			t.Errorf("%+v is valid", r)
		}
	}
}
