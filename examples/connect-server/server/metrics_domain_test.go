package server_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tfpilot/tfpilot/examples/connect-server/server"
	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/lock"
	"github.com/tfpilot/tfpilot/reconcile"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store/memstore"
)

const metricsHookSecret = "metrics-hook-secret"

// toApplied drives a new request from Create to applied through the API
// and the fake GitHub, and returns its id.
func toApplied(t *testing.T, e *env, bucket string) string {
	t.Helper()
	ctx := ctxT(t)
	id := e.create(bucket).GetId()
	approver := e.client(approverToken)
	e.finishRun(id, runs.Plan, "success")
	e.sync(id)
	if _, err := approver.Approve(ctx, connect.NewRequest(&pb.ApproveRequest{Id: id})); err != nil {
		t.Fatalf("Approve: %v", err)
	}
	if _, err := approver.Merge(ctx, connect.NewRequest(&pb.MergeRequest{Id: id})); err != nil {
		t.Fatalf("Merge: %v", err)
	}
	if _, err := approver.Apply(ctx, connect.NewRequest(&pb.ApplyRequest{Id: id})); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	e.finishRun(id, runs.Apply, "success")
	if got := e.sync(id).GetStatus(); got != pb.Status_STATUS_APPLIED {
		t.Fatalf("after the apply: %s, want applied", got)
	}
	return id
}

// TestMetrics_DomainMetricsAfterALifecycle scrapes /metrics after one
// request reached applied, one waits in plan_ready, a call met a held lock
// and three webhook deliveries arrived, and checks the domain metrics'
// names, labels and values.
func TestMetrics_DomainMetricsAfterALifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memstore.New(nil), envOptions{options: func(o *server.Options) {
		h, err := o.Pilot.WebhookHandler(metricsHookSecret)
		if err != nil {
			t.Fatal(err)
		}
		o.Webhook = h
	}})
	if err := e.server.WatchGitHub(e.gh); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	toApplied(t, e, "payments-dev-metrics")
	waiting := e.create("payments-dev-waiting").GetId()
	e.finishRun(waiting, runs.Plan, "success")
	e.sync(waiting)

	// Another operation holds the waiting request's lock: Approve is
	// refused and counted.
	r, err := e.store.GetRequest(ctx, waiting)
	if err != nil {
		t.Fatal(err)
	}
	if r.Lock, err = lock.Acquire(nil, "someone-else", "apply", time.Hour, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	_, err = e.client(approverToken).Approve(ctx, connect.NewRequest(&pb.ApproveRequest{Id: waiting}))
	if connect.CodeOf(err) != connect.CodeAborted {
		t.Fatalf("Approve of a locked request: %v, want aborted", err)
	}

	// Webhook deliveries: a ping and a forged one.
	deliver := func(id, sig string) {
		t.Helper()
		body := `{"zen":"Keep it logically awesome.","hook_id":1}`
		if sig == "" {
			sig = githubtest.Sign(metricsHookSecret, []byte(body))
		}
		httpDo(t, "POST", e.url+server.WebhookPath, body, map[string]string{"Content-Type": "application/json",
			"X-GitHub-Event": "ping", "X-GitHub-Delivery": id, "X-Hub-Signature-256": sig})
	}
	deliver("d-1", "")
	deliver("d-2", "sha256="+strings.Repeat("0", 64))

	want := fmt.Sprintf(`
# HELP tfpilot_lock_conflicts_total Calls refused (aborted) because another operation held the request's lock, by procedure.
# TYPE tfpilot_lock_conflicts_total counter
tfpilot_lock_conflicts_total{procedure="/tfpilot.v1.RequestService/Approve"} 1
# HELP tfpilot_webhook_deliveries_total GitHub webhook deliveries by outcome.
# TYPE tfpilot_webhook_deliveries_total counter
tfpilot_webhook_deliveries_total{outcome="bad_signature"} 1
tfpilot_webhook_deliveries_total{outcome="busy"} 0
tfpilot_webhook_deliveries_total{outcome="duplicate"} 0
tfpilot_webhook_deliveries_total{outcome="failed"} 0
tfpilot_webhook_deliveries_total{outcome="handled"} 0
tfpilot_webhook_deliveries_total{outcome="ignored"} 0
tfpilot_webhook_deliveries_total{outcome="not_attached"} 0
tfpilot_webhook_deliveries_total{outcome="ping"} 1
tfpilot_webhook_deliveries_total{outcome="rejected"} 0
# HELP tfpilot_requests Live requests by derived lifecycle status (from Insights, cached 5s).
# TYPE tfpilot_requests gauge
%s`, requestsByStatus(map[string]int{"applied": 1, "plan_ready": 1}))
	if err := testutil.ScrapeAndCompare(e.url+"/metrics", strings.NewReader(want),
		"tfpilot_lock_conflicts_total", "tfpilot_webhook_deliveries_total", "tfpilot_requests"); err != nil {
		t.Error(err)
	}

	// The GitHub client's counters, read at scrape time.
	st := e.gh.Stats()
	if st.Calls == 0 || st.Units == 0 || st.RateRemaining == 0 {
		t.Fatalf("GitHub stats %+v: the lifecycle made no calls?", st)
	}
	want = fmt.Sprintf(`
# HELP tfpilot_github_calls_total HTTP requests sent to GitHub, retries included.
# TYPE tfpilot_github_calls_total counter
tfpilot_github_calls_total %d
# HELP tfpilot_github_units_total GitHub answers that spent a rate-limit unit (all but 304s to conditional requests).
# TYPE tfpilot_github_units_total counter
tfpilot_github_units_total %d
# HELP tfpilot_github_cache_hits_total Reads answered 304 and served from the ETag cache (free).
# TYPE tfpilot_github_cache_hits_total counter
tfpilot_github_cache_hits_total %d
# HELP tfpilot_github_rate_limit_remaining Units left in the primary rate limit, as GitHub last reported.
# TYPE tfpilot_github_rate_limit_remaining gauge
tfpilot_github_rate_limit_remaining %d
`, st.Calls, st.Units, st.NotModified, st.RateRemaining)
	if err := testutil.ScrapeAndCompare(e.url+"/metrics", strings.NewReader(want), "tfpilot_github_calls_total",
		"tfpilot_github_units_total", "tfpilot_github_cache_hits_total", "tfpilot_github_rate_limit_remaining"); err != nil {
		t.Error(err)
	}
	if spent := e.fake.RateLimitSpent(); int64(spent) != st.Units {
		t.Errorf("tfpilot_github_units_total %d; the fake GitHub charged %d", st.Units, spent)
	}
}

// requestsByStatus renders tfpilot_requests for every lifecycle status,
// with counts where given and 0 elsewhere.
func requestsByStatus(counts map[string]int) string {
	statuses := []string{"request_created", "planning", "plan_ready", "approved", "merged", "applying", "applied",
		"destroying", "destroyed", "failed"}
	var b strings.Builder
	for _, s := range statuses {
		fmt.Fprintf(&b, "tfpilot_requests{status=%q} %d\n", s, counts[s])
	}
	return b.String()
}

// TestMetrics_READMEDocumentsEveryMetric: the README's metrics table
// names every tfpilot_ metric /metrics serves, and serves every one it
// names.
func TestMetrics_READMEDocumentsEveryMetric(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	name := regexp.MustCompile("`(tfpilot_[a-z_]+)`")
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `tfpilot_") {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(strings.SplitN(line, "|", 3)[1], -1) {
			documented[m[1]] = true
		}
	}
	e := newEnv(t, memstore.New(nil), envOptions{options: func(o *server.Options) {
		o.Webhook, _ = o.Pilot.WebhookHandler(metricsHookSecret)
	}})
	if err := e.server.WatchGitHub(e.gh); err != nil {
		t.Fatal(err)
	}
	if err := e.server.WatchReconciler(&reconcile.Reconciler{Pilot: e.pilot, Store: e.store}); err != nil {
		t.Fatal(err)
	}
	// Calls that make every labelled family appear.
	id := e.create("payments-dev-documented").GetId()
	e.finishRun(id, runs.Plan, "success")
	e.sync(id)
	r, err := e.store.GetRequest(ctxT(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Lock, err = lock.Acquire(nil, "someone-else", "apply", time.Hour, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateRequest(ctxT(t), r); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client(approverToken).Approve(ctxT(t), connect.NewRequest(&pb.ApproveRequest{Id: id})); connect.CodeOf(err) != connect.CodeAborted {
		t.Fatalf("Approve of a locked request: %v, want aborted", err)
	}
	_, body := httpDo(t, "GET", e.url+"/metrics", "", nil)
	served := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[1] == "TYPE" && strings.HasPrefix(f[2], "tfpilot_") {
			served[f[2]] = true
		}
	}
	for n := range served {
		if !documented[n] {
			t.Errorf("/metrics serves %s; the README's table does not document it", n)
		}
	}
	for n := range documented {
		if !served[n] {
			t.Errorf("the README documents %s; /metrics does not serve it", n)
		}
	}
}
