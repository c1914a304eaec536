// Package webhook receives GitHub webhook deliveries for tfpilot: an
// [http.Handler] that verifies, deduplicates and parses them, and hands
// typed events to a [Sink] that correlates them to requests.
//
// GitHub does not retry a failed delivery on its own, expects an answer
// within 10 seconds, and sends the same delivery twice, out of order and
// concurrently. The [Handler] therefore, for every POST:
//
//  1. reads at most [Options.MaxBodyBytes] (413 beyond);
//  2. checks X-Hub-Signature-256, an HMAC-SHA256 of the raw body, against
//     every configured secret in constant time (401 when missing or
//     wrong, and nothing is recorded). A handler without a secret cannot
//     be built;
//  3. takes the JSON payload out of the body according to its
//     Content-Type: GitHub sends application/json (the payload is the
//     body) or application/x-www-form-urlencoded (the payload is the form
//     parameter "payload"; the default content type of a hook created in
//     GitHub's UI or REST API); anything else is 415, ping included, so a
//     misconfigured hook does not look healthy (see [Payload]);
//  4. answers ping, parses workflow_run, pull_request and
//     pull_request_review bodies into [WorkflowRunEvent],
//     [PullRequestEvent] and [ReviewEvent], classifying workflow runs with
//     the configured [Classifier]; other events and actions are ignored;
//  5. claims the X-GitHub-Delivery id through [Deliveries] before any
//     work, so that repeated and concurrent copies do the work once;
//  6. calls the [Sink] under a timeout ([Options.Timeout]) and records
//     its outcome with the delivery, or, when the sink fails, releases the
//     claim and answers 500 so that a manual redelivery is handled.
//
// The package imports no tfpilot root types: [Deliveries] and [Sink] are
// small interfaces that tfpilot.Store and tfpilot.NewWebhookSink
// satisfy. Mount it like any handler:
//
//	h, err := webhook.New(webhook.Options{
//		Secrets:     []string{os.Getenv("GITHUB_WEBHOOK_SECRET")},
//		Deliveries:  store,
//		IsDuplicate: tfpilot.IsDuplicateDelivery,
//		Sink:        tfpilot.NewWebhookSink(store, nil),
//		Classify:    classify, // e.g. from githubx
//	})
//	if err != nil { ... }
//	mux.Handle("POST /webhooks/github", h)
//
// The handler bounds its own work ([Options.Timeout]); bound the time a
// client may take to send its body with the http.Server's ReadTimeout.
//
// A concurrent copy of a delivery still being handled is answered as a
// duplicate. When the handling fails, the claim is released; GitHub does
// not retry by itself, so such a delivery is handled again when someone
// redelivers it (from the hook's Recent Deliveries page or the REST API).
// A claim that is never released, because the process died mid-handling
// or the release itself failed, does not block the delivery for good: a
// tfpilot.Store treats an in-progress claim older than
// tfpilot.DeliveryClaimTTL (10 minutes) as stale, and a redelivery after
// that claims it and is handled.
//
// Errors: [New] returns errors wrapping [ErrInvalidOptions];
// [VerifySignature] returns [ErrNoSignature] or [ErrBadSignature];
// [Payload] returns [ErrContentType]; a malformed signed body is
// [ErrMalformed]. Check them with errors.Is.
// The handler itself reports failures only as HTTP status codes and
// through [Options.Logger].
package webhook
