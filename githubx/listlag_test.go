package githubx_test

import (
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

// TestDispatch_LostAnswerWaitsOutListLag: GitHub lists a dispatched run
// only seconds after the dispatch. A dispatch whose answer was lost must
// look for its run until the list-lag window has passed, and never
// dispatch again while the first run is merely not listed yet.
func TestDispatch_LostAnswerWaitsOutListLag(t *testing.T) {
	t.Parallel()
	for _, lag := range []time.Duration{2 * time.Second, 8 * time.Second, 19 * time.Second} {
		t.Run(lag.String(), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, githubtest.Options{}, githubx.Options{})
			e.fake.SetRunsListLag(lag)
			e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointDispatch, Kind: githubtest.FaultAmbiguous})
			res, err := e.c.Dispatch(ctx(t), repo, dispatchReq("n-lag"))
			if err != nil {
				t.Fatal(err)
			}
			runs := e.fake.Runs("acme", "infra")
			if len(runs) != 1 {
				t.Fatalf("%d runs for one dispatch whose answer was lost, want 1", len(runs))
			}
			if res.RunID != runs[0].ID || !res.Recovered {
				t.Fatalf("result %+v, run %d", res, runs[0].ID)
			}
		})
	}
}

// TestDispatch_RetriesOnlyAfterTheListLagWindow: when no run is listed
// within the window, the dispatch is repeated once, and only after the
// window has passed on the client's clock.
func TestDispatch_RetriesOnlyAfterTheListLagWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{ListLag: 30 * time.Second})
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointDispatch, Kind: githubtest.FaultServerError})
	start := e.clock.Now()
	if _, err := e.c.Dispatch(ctx(t), repo, dispatchReq("n-window")); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.CallCount(githubtest.EndpointDispatch); n != 2 {
		t.Fatalf("dispatched %d times, want 2", n)
	}
	if waited := e.clock.Now().Sub(start); waited < 30*time.Second {
		t.Fatalf("dispatched again %s after the failed try, before the 30 s list-lag window", waited)
	}
}

// TestFindRuns_ListsEveryRunCarryingTheNonceOldestFirst: a nonce belongs
// to one attempt; FindRuns shows duplicates so the caller can refuse them.
func TestFindRuns_ListsEveryRunCarryingTheNonceOldestFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	var ids []int64
	for range 2 {
		res, err := e.c.Dispatch(ctx(t), repo, dispatchReq("n-dup"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.RunID)
	}
	if _, err := e.c.Dispatch(ctx(t), repo, dispatchReq("n-other")); err != nil {
		t.Fatal(err)
	}
	found, err := e.c.FindRuns(ctx(t), repo, "plan.yml", "n-dup")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 || found[0].ID != ids[0] || found[1].ID != ids[1] {
		t.Fatalf("FindRuns = %+v, want runs %v", found, ids)
	}
	none, err := e.c.FindRuns(ctx(t), repo, "plan.yml", "n-absent")
	if err != nil || len(none) != 0 {
		t.Fatalf("FindRuns(absent) = %+v, %v", none, err)
	}
}
