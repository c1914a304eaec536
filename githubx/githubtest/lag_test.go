package githubtest_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

// TestRunsListLag_HidesNewRunsFromListsOnly: during the lag a dispatched
// run is missing from both run lists but found by id; once the clock
// passes the lag the lists show it.
func TestRunsListLag_HidesNewRunsFromListsOnly(t *testing.T) {
	clock := githubtest.NewManualClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	f := githubtest.New(githubtest.Options{Clock: clock})
	defer f.Close()
	if _, err := f.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra", Files: map[string]string{"a": "b"}}); err != nil {
		t.Fatal(err)
	}
	f.SetRunsListLag(2 * time.Second)
	get := func(path string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, f.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer t")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	req, _ := http.NewRequest(http.MethodPost, f.URL()+"repos/acme/infra/actions/workflows/plan.yml/dispatches",
		strings.NewReader(`{"ref":"main","inputs":{"request_id":"req-1","tfpilot_nonce":"n"}}`))
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("dispatch: %v %v", resp, err)
	}
	resp.Body.Close()
	runs := f.Runs("acme", "infra")
	if len(runs) != 1 {
		t.Fatalf("runs: %+v", runs)
	}
	for _, step := range []struct {
		advance time.Duration
		want    float64
	}{{0, 0}, {1999 * time.Millisecond, 0}, {time.Millisecond, 1}} {
		clock.Advance(step.advance)
		for _, p := range []string{"repos/acme/infra/actions/runs", "repos/acme/infra/actions/workflows/plan.yml/runs"} {
			if _, m := get(p); m["total_count"] != step.want {
				t.Errorf("after +%v, %s: total_count %v; want %v", step.advance, p, m["total_count"], step.want)
			}
		}
		if st, _ := get("repos/acme/infra/actions/runs/" + strconv.FormatInt(runs[0].ID, 10)); st != http.StatusOK {
			t.Errorf("after +%v: get run %d: %d; want 200", step.advance, runs[0].ID, st)
		}
	}
	if f.RunsListLag() != 2*time.Second {
		t.Errorf("RunsListLag %v", f.RunsListLag())
	}
}
