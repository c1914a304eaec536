package tfpilot_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store/pgstore"
	"github.com/tfpilot/tfpilot/webhook"
	"github.com/tfpilot/tfpilot/webhook/webhooktest"
)

// benchBatch is how many deliveries are prepared at a time, with the
// timer stopped: requests whose current plan attempt carries (and the
// run index maps) the run each delivery completes.
const benchBatch = 256

// runIDBase is a 12-digit placeholder run id, replaced in the delivery
// template by each delivery's own run id.
const runIDBase = 100000000000

// benchDeliveries serves b.N workflow_run "completed" deliveries (the
// real 22 KB fixture with its run id changed) with h, each one a new
// delivery that patches its own request (seed stores it beforehand; nil
// stores nothing). With base non-nil, every iteration also serves the
// same delivery with base, alternating which goes first, and reports
// both handlers' time per delivery and their ratio, measured side by
// side so that the shared machine's load drifts out of the ratio.
func benchDeliveries(b *testing.B, h, base http.Handler, seed func(ctx context.Context, i int64)) {
	tmpl := run{action: "completed", path: planYML, id: runIDBase, title: "Plan", branch: "main", sha: "abc"}.body(b)
	placeholder := fmt.Appendf(nil, "%d", runIDBase)
	if !bytes.Contains(tmpl, placeholder) {
		b.Fatal("template lacks the run id placeholder")
	}
	ctx := context.Background()
	reqs := make([]*http.Request, benchBatch)
	baseReqs := make([]*http.Request, benchBatch)
	prepare := func(first int64) {
		for j := range int64(benchBatch) {
			n := first + j
			if seed != nil {
				seed(ctx, n)
			}
			body := bytes.ReplaceAll(tmpl, placeholder, fmt.Appendf(nil, "%d", runIDBase+n))
			reqs[j] = webhooktest.Request(hookSecret, "workflow_run", fmt.Sprint("bench-", n), body)
			baseReqs[j] = webhooktest.Request(hookSecret, "workflow_run", fmt.Sprint("bench-", n), body)
		}
	}
	serve := func(h http.Handler, req *http.Request) time.Duration {
		start := time.Now()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		el := time.Since(start)
		if rec.Code != http.StatusOK {
			b.Fatalf("delivery: %d %q", rec.Code, rec.Body.String())
		}
		return el
	}
	var inH, inBase time.Duration
	if base == nil {
		b.SetBytes(int64(len(tmpl)))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%benchBatch == 0 {
			b.StopTimer()
			prepare(int64(i))
			b.StartTimer()
		}
		j := i % benchBatch
		switch {
		case base == nil:
			inH += serve(h, reqs[j])
		case i%2 == 0:
			inH += serve(h, reqs[j])
			inBase += serve(base, baseReqs[j])
		default:
			inBase += serve(base, baseReqs[j])
			inH += serve(h, reqs[j])
		}
	}
	b.ReportMetric(float64(b.N)/inH.Seconds(), "deliveries/s")
	if base != nil {
		b.ReportMetric(float64(inH.Microseconds())/float64(b.N), "µs/delivery")
		b.ReportMetric(float64(inBase.Microseconds())/float64(b.N), "verify+decode-µs/delivery")
		b.ReportMetric(inH.Seconds()/inBase.Seconds(), "ratio")
	}
}

// verifyDecodeHandler is the handler over a no-op delivery store and
// sink: its own work alone.
func verifyDecodeHandler(b *testing.B) http.Handler {
	h, err := webhook.New(webhook.Options{
		Secrets: []string{hookSecret}, Deliveries: nopDeliveries{}, IsDuplicate: tfpilot.IsDuplicateDelivery,
		Sink: nopSink{}, Classify: classifyWorkflow,
	})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// seedIndexedRun stores request bench-<n> as the engine writes it
// (schema version, config, pull request, target) after a failed plan and
// a retry whose attempt carries run runIDBase+n, indexed: the steady
// state after a dispatch, a document of about 1.9 KB.
func seedIndexedRun(b *testing.B, store tfpilot.Store) func(ctx context.Context, n int64) {
	return func(ctx context.Context, n int64) {
		id := fmt.Sprint("bench-", n)
		r := benchRequest(id)
		meta := runs.DispatchMeta{HeadSHA: benchSHA, Ref: "tfpilot/" + id, Actor: "alice", Nonce: fmt.Sprint("nonce-", n)}
		r.Runs = runs.Dispatch(r.Runs, runs.Plan, meta, t0)
		failed := runIDBase + n + 1<<40
		r.Runs, _ = runs.AttachRunID(r.Runs, runs.Plan, 1, failed, "")
		r.Runs, _ = runs.PatchByRunID(r.Runs, runs.Plan, failed, runs.RunFacts{ID: failed, Status: "completed", Conclusion: "failure",
			CompletedAt: t0.Add(30 * time.Second), HeadSHA: benchSHA, HTMLURL: fmt.Sprintf("https://github.com/%s/%s/actions/runs/%d", testOwner, testRepo, failed)})
		r.Runs = runs.Dispatch(r.Runs, runs.Plan, meta, t0.Add(time.Minute))
		r.Runs, _ = runs.AttachRunID(r.Runs, runs.Plan, 2, runIDBase+n, "")
		if _, err := store.CreateRequest(ctx, r); err != nil {
			b.Fatal(err)
		}
		if err := store.IndexRun(ctx, runs.Plan, runIDBase+n, id); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSHA is the head commit of the benchmarks' pull requests.
const benchSHA = "9fceb02d0ae598e95dc970b74767f19372d61af8"

// benchRequest is request id as the engine writes it when it opens the
// pull request: what a webhook delivery reads and writes back.
func benchRequest(id string) *tfpilot.Request {
	return &tfpilot.Request{
		SchemaVersion: tfpilot.SchemaVersion, ID: id, Project: "payments", Environment: "dev", Module: "s3_bucket",
		Config: map[string]any{
			"bucket_name": "reports-" + id, "versioning": true, "force_destroy": false,
			"tags": map[string]any{"team": "core", "cost-center": "42", "owner": "alice"},
			"lifecycle_rules": []any{
				map[string]any{"id": "expire-tmp", "prefix": "tmp/", "expiration_days": 7.0},
				map[string]any{"id": "archive", "prefix": "logs/", "transition_days": 30.0, "storage_class": "GLACIER"},
			},
			"allowed_ips": []any{"10.0.0.1", "10.0.0.2"},
		},
		CreatedBy: "alice",
		PR: &tfpilot.PullRequest{Number: 118, URL: "https://github.com/" + testOwner + "/" + testRepo + "/pull/118",
			Open: true, HeadSHA: benchSHA},
		BranchName: "tfpilot/" + id, CommitSHA: benchSHA,
		TargetOwner: testOwner, TargetRepo: testRepo, TargetBase: "main", TargetEnvPath: "envs/dev",
		TargetFiles: []string{"envs/dev/tfpilot.tf"},
		Idempotency: map[string]tfpilot.IdempotencyMark{"create": {Key: "create-" + id, At: t0}},
	}
}

// nopDeliveries and nopSink leave only the handler's own work:
// reading, signature check, JSON decode, classification.
type nopDeliveries struct{}

func (nopDeliveries) ClaimDelivery(context.Context, string, string) (time.Time, error) {
	return time.Time{}, nil
}
func (nopDeliveries) CompleteDelivery(context.Context, string, time.Time, string) error { return nil }
func (nopDeliveries) ReleaseDelivery(context.Context, string, time.Time) error          { return nil }

type nopSink struct{}

func (nopSink) HandleWorkflowRun(context.Context, webhook.WorkflowRunEvent) (string, error) {
	return "ok", nil
}
func (nopSink) HandlePullRequest(context.Context, webhook.PullRequestEvent) (string, error) {
	return "ok", nil
}
func (nopSink) HandleReview(context.Context, webhook.ReviewEvent) (string, error) { return "ok", nil }

// BenchmarkWebhook measures deliveries per second through the handler
// with a WebhookSink over memstore and pgstore, next to the handler with
// no store (signature check + JSON decode alone) and the signature check
// alone.
func BenchmarkWebhook(b *testing.B) {
	b.Run("signature", func(b *testing.B) {
		body := run{action: "completed", path: planYML, id: runIDBase, title: "Plan", branch: "main", sha: "abc"}.body(b)
		sig := webhook.Sign([]byte(hookSecret), body)
		secrets := [][]byte{[]byte(hookSecret)}
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if err := webhook.VerifySignature(secrets, sig, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify+decode", func(b *testing.B) {
		benchDeliveries(b, verifyDecodeHandler(b), nil, nil)
	})
	b.Run("memstore", func(b *testing.B) {
		store := newMemStore(b)
		benchDeliveries(b, newHook(b, store), verifyDecodeHandler(b), seedIndexedRun(b, store))
	})
	b.Run("pgstore", func(b *testing.B) {
		// A database of its own on the PostgreSQL internal/testenv
		// provides; skipped when there is none, failed when
		// TFPILOT_TEST_REQUIRE names postgres.
		store, err := pgstore.Open(b.Context(), testenv.PostgresDSN(b), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { store.Close() })
		if err := store.Migrate(b.Context()); err != nil {
			b.Fatal(err)
		}
		benchDeliveries(b, newHook(b, store), verifyDecodeHandler(b), seedIndexedRun(b, store))
	})
}
