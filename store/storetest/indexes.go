package storetest

import (
	"fmt"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

var indexTests = []test{
	{"RunIndex/SameMappingIsNoOpOtherRequestIsAlreadyExists", testRunIndex},
	{"RunIndex/ConcurrentIndexersExactlyOneWins", testRunIndexRace},
	{"PRIndex/SameMappingIsNoOpOtherRequestIsAlreadyExists", testPRIndex},
}

func testRunIndex(e *env) {
	_, err := e.s.LookupRun(e.ctx, runs.Plan, 42)
	e.wantErr("LookupRun of an unindexed run", err, store.ErrNotFound, "42")
	for range 2 {
		if err := e.s.IndexRun(e.ctx, runs.Plan, 42, "r1"); err != nil {
			e.Fatalf("IndexRun(plan, 42, r1): %v", err)
		}
	}
	err = e.s.IndexRun(e.ctx, runs.Plan, 42, "r2")
	e.wantErr("IndexRun of a run indexed to another request", err, store.ErrAlreadyExists, "42")
	// Kinds are separate namespaces.
	if err := e.s.IndexRun(e.ctx, runs.Apply, 42, "r2"); err != nil {
		e.Fatalf("IndexRun(apply, 42, r2): %v", err)
	}
	for _, tc := range []struct {
		kind runs.Kind
		want string
	}{{runs.Plan, "r1"}, {runs.Apply, "r2"}} {
		got, err := e.s.LookupRun(e.ctx, tc.kind, 42)
		if err != nil || got != tc.want {
			e.Errorf("LookupRun(%s, 42) = %q, %v; want %q", tc.kind, got, err, tc.want)
		}
	}
	_, err = e.s.LookupRun(e.ctx, runs.Destroy, 42)
	e.wantErr("LookupRun of another kind", err, store.ErrNotFound, "42")
}

func testRunIndexRace(e *env) {
	errs := race(concurrency, func(i int) error {
		return e.s.IndexRun(e.ctx, runs.Apply, 7, fmt.Sprintf("r%02d", i))
	})
	won := e.winners(errs, store.ErrAlreadyExists)
	if len(won) != 1 {
		e.Fatalf("%d of %d concurrent indexers won, want exactly 1", len(won), concurrency)
	}
	got, err := e.s.LookupRun(e.ctx, runs.Apply, 7)
	if want := fmt.Sprintf("r%02d", won[0]); err != nil || got != want {
		e.Errorf("LookupRun = %q, %v; want the winner %q", got, err, want)
	}
}

func testPRIndex(e *env) {
	pr := store.PRRef{Owner: "acme", Repo: "infra", Number: 118}
	_, err := e.s.LookupPR(e.ctx, pr)
	e.wantErr("LookupPR of an unindexed PR", err, store.ErrNotFound, "118")
	for range 2 {
		if err := e.s.IndexPR(e.ctx, pr, "r1"); err != nil {
			e.Fatalf("IndexPR(%+v, r1): %v", pr, err)
		}
	}
	err = e.s.IndexPR(e.ctx, pr, "r2")
	e.wantErr("IndexPR of a PR indexed to another request", err, store.ErrAlreadyExists, "118")
	others := []store.PRRef{
		{Owner: "acme", Repo: "infra", Number: 119},
		{Owner: "acme", Repo: "apps", Number: 118},
		{Owner: "umbrella", Repo: "infra", Number: 118},
	}
	for i, o := range others {
		if err := e.s.IndexPR(e.ctx, o, fmt.Sprintf("o%d", i)); err != nil {
			e.Fatalf("IndexPR(%+v): %v", o, err)
		}
	}
	if got, err := e.s.LookupPR(e.ctx, pr); err != nil || got != "r1" {
		e.Errorf("LookupPR(%+v) = %q, %v; want r1", pr, got, err)
	}
	for i, o := range others {
		if got, err := e.s.LookupPR(e.ctx, o); err != nil || got != fmt.Sprintf("o%d", i) {
			e.Errorf("LookupPR(%+v) = %q, %v; want o%d", o, got, err, i)
		}
	}
}
