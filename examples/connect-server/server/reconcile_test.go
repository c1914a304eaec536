package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/reconcile"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// TestWatchReconciler_MetricsCountLeadershipAndSyncs: the library
// reconciler, run against the server's store, moves a finished plan on
// and its leadership and syncs show on /metrics.
func TestWatchReconciler_MetricsCountLeadershipAndSyncs(t *testing.T) {
	t.Parallel()
	store := memstore.New(nil)
	e := newEnv(t, store, envOptions{})
	ctx := ctxT(t)
	id := e.create("payments-dev-waiting").GetId()
	e.finishRun(id, runs.Plan, "success")

	rec := &reconcile.Reconciler{Pilot: e.pilot, Store: store, Holder: "replica-1"}
	if err := e.server.WatchReconciler(rec); err != nil {
		t.Fatal(err)
	}
	if res := rec.Pass(ctx); !res.Leading || res.Synced != 1 {
		t.Fatalf("Pass = %+v, want leading with the request synced", res)
	}
	resp, err := http.Get(e.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"tfpilot_reconciler_leader 1", "tfpilot_reconciler_elections_total 1",
		`tfpilot_reconciler_syncs_total{result="ok"} 1`, "tfpilot_reconciler_panics_total 0"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
