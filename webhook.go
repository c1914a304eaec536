package tfpilot

import (
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/webhook"
)

// WebhookHandler returns the http.Handler for GitHub's webhook deliveries
// to mount beside the API: it verifies each delivery against secrets
// (several while one is rotated), claims it once in the Pilot's store,
// classifies workflow runs by the configured workflow files, and applies
// the facts with a [WebhookSink] (correlate, monotonic patch, CAS write,
// lifecycle event); when a plan, apply or destroy run completes it also
// reads the run's output onto the attempt (best effort; Sync retries). An
// empty or missing secret is an error.
func (p *Pilot) WebhookHandler(secrets ...string) (*webhook.Handler, error) {
	wf := p.cfg.Workflows
	sink := NewWebhookSink(p.store, &WebhookSinkOptions{BranchPrefix: p.cfg.BranchPrefix, Logger: p.log, Now: p.cfg.Now, Approvals: p.approvalRules()})
	return webhook.New(webhook.Options{
		Secrets:     secrets,
		Deliveries:  sink.Deliveries(), // the store's claims; see store_delivery.go
		IsDuplicate: IsDuplicateDelivery,
		Sink:        driftOutputSink{outputSink{Sink: followingSink{sink, p}, p: p}, p}, // drift.go, output.go, webhook_follow.go
		Classify: func(path, name string) runs.Kind {
			k, _ := wf.Classify(path, name)
			return k
		},
		Logger: p.log,
	})
}
