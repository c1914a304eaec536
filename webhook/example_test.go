package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/tfpilot/tfpilot/webhook"
)

// onceDeliveries is the smallest [webhook.Deliveries]; tfpilot's stores
// implement it durably.
type onceDeliveries struct{ claims sync.Map }

var errSeen = errors.New("already claimed")

func (d *onceDeliveries) ClaimDelivery(_ context.Context, id, _ string) (time.Time, error) {
	if _, loaded := d.claims.LoadOrStore(id, ""); loaded {
		return time.Time{}, errSeen
	}
	return time.Time{}, nil // claims never expire here, so need no fence
}
func (d *onceDeliveries) CompleteDelivery(_ context.Context, id string, _ time.Time, outcome string) error {
	d.claims.Store(id, outcome)
	return nil
}
func (d *onceDeliveries) ReleaseDelivery(_ context.Context, id string, _ time.Time) error {
	d.claims.Delete(id)
	return nil
}

// printSink prints what it is given; tfpilot.NewWebhookSink correlates
// events to requests instead.
type printSink struct{}

func (printSink) HandleWorkflowRun(_ context.Context, ev webhook.WorkflowRunEvent) (string, error) {
	fmt.Printf("%s run %d: %s/%s\n", ev.Kind, ev.RunID, ev.Facts.Status, ev.Facts.Conclusion)
	return "noted", nil
}
func (printSink) HandlePullRequest(context.Context, webhook.PullRequestEvent) (string, error) {
	return "noted", nil
}
func (printSink) HandleReview(context.Context, webhook.ReviewEvent) (string, error) {
	return "noted", nil
}

// Mount the handler on a mux; GitHub posts deliveries to it.
func Example() {
	h, err := webhook.New(webhook.Options{
		Secrets:     []string{"s3cret"},
		Deliveries:  &onceDeliveries{},
		IsDuplicate: func(err error) bool { return errors.Is(err, errSeen) },
		Sink:        printSink{},
		Classify: func(path, name string) webhook.Kind {
			if strings.HasSuffix(path, "/plan.yml") {
				return webhook.KindPlan
			}
			return "" // not a tfpilot workflow
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/github", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	body := `{"action":"completed","workflow_run":{"id":42,"path":".github/workflows/plan.yml",
	  "status":"completed","conclusion":"success","head_sha":"abc"}}`
	post := func(id, signature string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/github", strings.NewReader(body))
		req.Header.Set("X-GitHub-Event", "workflow_run")
		req.Header.Set("X-GitHub-Delivery", id)
		req.Header.Set("X-Hub-Signature-256", signature)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(answer)))
	}
	post("d-1", webhook.Sign([]byte("s3cret"), []byte(body)))
	post("d-1", webhook.Sign([]byte("s3cret"), []byte(body))) // GitHub sent it twice
	post("d-2", "sha256=forged")

	_, err = webhook.New(webhook.Options{Secrets: []string{""}})
	fmt.Println(errors.Is(err, webhook.ErrInvalidOptions))
	// Output:
	// plan run 42: completed/success
	// 200 noted
	// 200 duplicate
	// 401 bad signature
	// true
}
