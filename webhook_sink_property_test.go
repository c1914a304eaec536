package tfpilot_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/webhook/webhooktest"
)

type delivery struct {
	id, event string
	body      []byte
}

// lifeOfARequest returns the deliveries GitHub sends while req-1 is
// planned, reviewed, merged and applied, including a pull-request run
// that is not one of its attempts.
func lifeOfARequest(t *testing.T) []delivery {
	const a, b = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	plan := run{path: planYML, id: 501, title: "tfpilot req-1 n1", branch: "tfpilot/req-1", sha: a}
	stray := run{path: planYML, id: 503, title: "Plan", branch: "tfpilot/req-1", sha: a, trigger: "pull_request", prs: []int{7}}
	apply := run{path: applyYML, id: 502, title: "tfpilot req-1 n2", branch: "main", sha: "merge-" + b}
	with := func(r run, action string) []byte { r.action = action; return r.body(t) }
	ds := []delivery{
		{event: "workflow_run", body: with(plan, "requested")},
		{event: "workflow_run", body: with(plan, "in_progress")},
		{event: "workflow_run", body: with(plan, "completed")},
		{event: "workflow_run", body: with(stray, "completed")},
		{event: "pull_request", body: prBody(t, "opened", 7, "tfpilot/req-1", a, "", false)},
		{event: "pull_request", body: prBody(t, "synchronize", 7, "tfpilot/req-1", b, a, false)},
		{event: "pull_request_review", body: reviewBody(t, "submitted", "approved", "alice", 1, 7, "tfpilot/req-1", b)},
		{event: "pull_request_review", body: reviewBody(t, "submitted", "approved", "bob", 2, 7, "tfpilot/req-1", b)},
		{event: "pull_request_review", body: reviewBody(t, "submitted", "changes_requested", "carol", 3, 7, "tfpilot/req-1", b)},
		{event: "pull_request_review", body: reviewBody(t, "dismissed", "dismissed", "carol", 3, 7, "tfpilot/req-1", b)},
		{event: "pull_request", body: prBody(t, "closed", 7, "tfpilot/req-1", b, "", true)},
		{event: "workflow_run", body: with(apply, "requested")},
		{event: "workflow_run", body: with(apply, "completed")},
	}
	for i := range ds {
		ds[i].id = fmt.Sprintf("life-%d", i)
	}
	return ds
}

// schedule returns ds shuffled, with about a third of them sent again:
// half of those as GitHub redelivering the same id, half as the same
// facts under a new id.
func schedule(rng *rand.Rand, ds []delivery) []delivery {
	out := slices.Clone(ds)
	for i, d := range ds {
		if rng.IntN(3) == 0 {
			if rng.IntN(2) == 0 {
				d.id = fmt.Sprintf("copy-%d-of-%s", i, d.id)
			}
			out = append(out, d)
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// finalDocument replays sched against a fresh store and returns req-1's
// document without its write counters (version, updatedAt), which
// count writes rather than record facts.
func finalDocument(t *testing.T, open func(testing.TB) tfpilot.Store, sched []delivery, concurrent bool) []byte {
	store := open(t)
	seedRequest(t, store, "req-1", func(r *tfpilot.Request) {
		dispatch(r, runs.Plan, "n1", "", t0)
		dispatch(r, runs.Apply, "n2", "", t0)
	})
	h := newHook(t, store)
	send := func(d delivery) {
		if rec := webhooktest.Post(h, hookSecret, d.event, d.id, d.body); rec.Code != http.StatusOK {
			t.Errorf("delivery %s: status %d %q", d.id, rec.Code, rec.Body.String())
		}
	}
	if concurrent {
		var wg sync.WaitGroup
		for _, d := range sched {
			wg.Go(func() { send(d) })
		}
		wg.Wait()
	} else {
		for _, d := range sched {
			send(d)
		}
	}
	r := getRequest(t, store, "req-1")
	r.Version, r.UpdatedAt = 0, t0
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWebhookSink_AnyOrderWithDuplicatesEndsInSameDocument(t *testing.T) {
	t.Parallel()
	ds := lifeOfARequest(t)
	want := finalDocument(t, newMemStore, ds, false)

	// The in-order result is the right one, not merely a stable one.
	var r tfpilot.Request
	if err := json.Unmarshal(want, &r); err != nil {
		t.Fatal(err)
	}
	plan, _ := runs.Current(r.Runs, runs.Plan)
	apply, _ := runs.Current(r.Runs, runs.Apply)
	if plan.RunID != 501 || plan.Conclusion != "success" || apply.RunID != 502 || apply.Conclusion != "success" ||
		r.PR == nil || !r.PR.Merged || r.PR.Open || r.PR.HeadSHA != "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" ||
		r.MergedSHA != "merge-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" ||
		r.Approval == nil || !r.Approval.Approved || !slices.Equal(r.Approval.Approvers, []string{"alice", "bob"}) {
		t.Fatalf("in-order document is wrong:\n%s", want)
	}

	// Each backend replays shuffled schedules (every fourth one with all
	// deliveries at once); a PostgreSQL database per trial costs more, so
	// it gets fewer.
	for _, be := range backends {
		trials := map[string]int{"memstore": 40}[be.name]
		if trials == 0 {
			trials = 8
		}
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			for trial := range trials {
				seed := uint64(trial) + 1
				rng := rand.New(rand.NewPCG(seed, 0x7f))
				sched := schedule(rng, ds)
				concurrent := trial%4 == 3
				got := finalDocument(t, be.open, sched, concurrent)
				if !bytes.Equal(got, want) {
					var order []string
					for _, d := range sched {
						order = append(order, d.id)
					}
					t.Fatalf("seed %d (concurrent %v), order %v: documents differ:\n%s", seed, concurrent, order, lineDiff(got, want))
				}
			}
		})
	}
}

// lineDiff shows the lines where got and want differ, with context.
func lineDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	var b strings.Builder
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d:\n  got  %s\n  want %s\n", i+1, gl, wl)
		}
	}
	return b.String()
}
