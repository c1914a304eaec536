package main

import (
	"log/slog"
	"net/http"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/webhook"
)

// newWebhook returns the GitHub webhook handler: signature check, one
// claim per delivery id in the store, events applied to requests by
// tfpilot's WebhookSink. It returns nil when no secret is configured
// (the reconciler then moves requests along on its own).
func newWebhook(store tfpilot.Store, secret string, workflows githubx.Workflows, log *slog.Logger) (http.Handler, error) {
	if secret == "" {
		return nil, nil
	}
	return webhook.New(webhook.Options{
		Secrets:     []string{secret},
		Deliveries:  store,
		IsDuplicate: tfpilot.IsDuplicateDelivery,
		Sink:        tfpilot.NewWebhookSink(store, &tfpilot.WebhookSinkOptions{Logger: log}),
		Classify: func(path, name string) string {
			k, ok := workflows.Classify(path, name)
			if !ok {
				return ""
			}
			return string(k)
		},
		Logger: log,
	})
}
