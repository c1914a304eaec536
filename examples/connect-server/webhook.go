package main

import (
	"log/slog"
	"net/http"

	"github.com/tfpilot/tfpilot"
)

// newWebhook returns the GitHub webhook handler, or nil when no secret is
// configured (the reconciler then moves requests along on its own).
func newWebhook(store tfpilot.Store, secret string, log *slog.Logger) (http.Handler, error) {
	if secret == "" {
		return nil, nil
	}
	log.Warn("webhook secret set, but this build has no webhook handler yet; relying on the reconciler")
	return nil, nil
}
