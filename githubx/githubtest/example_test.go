package githubtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

// Drive a run step by step from a test and watch the signed webhooks a
// receiver gets.
func ExampleFake_Advance() {
	const secret = "webhook-secret"
	events := make(chan string, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Hub-Signature-256") != githubtest.Sign(secret, body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p struct {
			Action string `json:"action"`
			Run    struct {
				Status     string  `json:"status"`
				Conclusion *string `json:"conclusion"`
			} `json:"workflow_run"`
		}
		_ = json.Unmarshal(body, &p)
		c := "-"
		if p.Run.Conclusion != nil {
			c = *p.Run.Conclusion
		}
		events <- fmt.Sprintf("%s %s %s %s", r.Header.Get("X-GitHub-Event"), p.Action, p.Run.Status, c)
	}))
	defer hook.Close()

	fake := githubtest.New(githubtest.Options{WebhookURL: hook.URL, WebhookSecret: secret})
	defer fake.Close()
	if _, err := fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra"}); err != nil {
		log.Fatal(err)
	}
	c, err := githubx.New(githubx.Options{Token: "t", BaseURL: fake.URL(), AllowInsecureHTTP: true})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	res, err := c.Dispatch(ctx, githubx.Repo{Owner: "acme", Name: "infra"}, githubx.DispatchRequest{
		Workflow: "apply.yml", Ref: "main", Nonce: "n-1", Inputs: map[string]string{"request_id": "req-1"}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := fake.Advance(res.RunID); err != nil { // queued → in_progress
		log.Fatal(err)
	}
	if err := fake.Complete(res.RunID, "failure"); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := fake.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	close(events)
	for e := range events {
		fmt.Println(e)
	}
	// Output:
	// workflow_run requested queued -
	// workflow_run in_progress in_progress -
	// workflow_run completed completed failure
}
