package tfpilot_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store/memstore"
	"github.com/tfpilot/tfpilot/webhook"
)

// Mount GitHub's webhook on a mux: deliveries are claimed in the store,
// and workflow runs patch the attempts of the requests that dispatched
// them.
func ExampleNewWebhookSink() {
	ctx := context.Background()
	store := memstore.New(nil)
	hook, err := webhook.New(webhook.Options{
		Secrets:     []string{"s3cret"},
		Deliveries:  store,
		IsDuplicate: tfpilot.IsDuplicateDelivery,
		Sink:        tfpilot.NewWebhookSink(store, nil),
		Classify: func(path, name string) webhook.Kind {
			if path == ".github/workflows/plan.yml" {
				return webhook.KindPlan
			}
			return ""
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/github", hook)

	// A request whose plan was dispatched with nonce n1; the workflow
	// names its run with runs.RunName.
	r := &tfpilot.Request{ID: "req-1", Project: "payments", Environment: "dev", Module: "s3_bucket"}
	r.Runs = runs.Dispatch(r.Runs, runs.Plan, runs.DispatchMeta{Nonce: "n1"}, time.Now())
	if _, err := store.CreateRequest(ctx, r); err != nil {
		fmt.Println(err)
		return
	}

	body := `{"action":"completed","workflow_run":{"id":9001,"path":".github/workflows/plan.yml",
	  "display_title":"` + runs.RunName("req-1", "n1") + `","event":"workflow_dispatch",
	  "status":"completed","conclusion":"success","updated_at":"2026-03-01T12:05:00Z"}}`
	req := httptest.NewRequest(http.MethodPost, "/webhooks/github", strings.NewReader(body))
	req.Header.Set("X-GitHub-Event", "workflow_run")
	req.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	req.Header.Set("X-Hub-Signature-256", webhook.Sign([]byte("s3cret"), []byte(body)))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())

	got, _ := store.GetRequest(ctx, "req-1")
	a, _ := runs.Current(got.Runs, runs.Plan)
	fmt.Println(a.RunID, a.Status, a.Conclusion, got.Status(time.Now()))
	events, _ := store.ListEvents(ctx, "req-1")
	for _, e := range events {
		fmt.Println(e.Event)
	}
	// Output:
	// 200 req-1: plan attempt 1 run 9001: completed success (attached by run name)
	// 9001 completed success plan_ready
	// plan_completed
}
