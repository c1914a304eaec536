// Package githubtest is an in-process fake of the GitHub REST API, with a
// controllable GitHub Actions simulator and signed webhooks, for testing
// code that drives GitHub (githubx, the webhook handler, the engine, the
// demo server) without a network or an account.
//
// # What it fakes
//
// State lives in memory: repositories with a real git data model (blobs,
// trees, commits, refs, so "create blob → tree → commit → update ref"
// works and a non-fast-forward update is refused), file contents at any
// ref, pull requests (open, synchronize on push, close, merge with an
// expected head SHA, a three-way mergeability check), reviews, workflows,
// runs, jobs and job logs. The routes are listed as Endpoint constants.
//
// Every GET answer carries an ETag; a request whose If-None-Match matches
// gets 304 Not Modified and spends no rate-limit units. Every answer
// carries X-RateLimit-Limit/Remaining/Used/Reset/Resource from a budget of
// Options.RateLimit units per hour on the fake's clock; an exhausted budget
// answers 403 with X-RateLimit-Remaining: 0, as GitHub does. [Fake.Calls]
// counts requests per endpoint and [Fake.RateLimitSpent] the units spent.
//
// [Fake.InjectFault] arms failures for the next matching requests: 5xx,
// 429, secondary rate limit (403 + Retry-After), latency, a dropped
// connection, and the ambiguous failure — the request is applied and the
// answer lost — that makes retrying a POST dangerous.
//
// # Actions
//
// A workflow_dispatch creates a queued run and records its inputs.
// Workflows declare their inputs (Workflow.Inputs; by default
// [DefaultInputs]: request_id and tfpilot_nonce, required) and, as on
// GitHub, a dispatch with an undeclared input answers 422 "Unexpected
// inputs provided: [...]" and one without a required input 422
// "Required input 'x' not provided". The
// run's "name" is the workflow name and its "display_title" is the
// workflow's run-name with inputs substituted; the default
// ([DefaultRunName]) is
//
//	run-name: tfpilot ${{ inputs.request_id }} ${{ inputs.tfpilot_nonce }}
//
// which is the convention tfpilot's workflows must follow so a run can be
// found by its dispatch nonce. When the body asks for return_run_details
// the dispatch answers 200 with workflow_run_id, run_url and html_url (as
// GitHub does since 2025); with Options.LegacyDispatch it answers 204.
//
// Runs move queued → in_progress → completed either step by step from a
// test ([Fake.Advance], [Fake.Complete], [Fake.SetConclusion]) or on their
// own with Options.Auto (delays on the fake's clock, a conclusion per
// workflow file), which is what the demo server uses.
//
// [Fake.SetRunsListLag] makes the run lists trail dispatches, as
// GitHub's do: a new run is found by id at once but listed only after
// the lag, so nonce searches are tested against it. examples/fake-github
// serves the fake as a process of its own.
//
// # Webhooks
//
// State changes send workflow_run (requested, in_progress, completed),
// pull_request (opened, synchronize, closed with merged, reopened) and
// pull_request_review (submitted) deliveries to Options.WebhookURL, signed
// with Options.WebhookSecret in X-Hub-Signature-256 and carrying
// X-GitHub-Event and X-GitHub-Delivery. Payloads have the key sets of
// GitHub's real payloads (checked against GitHub's example deliveries
// embedded in webhook/webhooktest). Deliveries are posted
// in order from one goroutine; [Fake.Flush] waits for them and
// [Fake.Deliveries] lists them. [Fake.As] returns a [Human] who approves,
// merges through the UI, closes and pushes.
//
// # Use
//
//	fake := githubtest.New(githubtest.Options{})
//	defer fake.Close()
//	fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra",
//		Files: map[string]string{"README.md": "infra\n"}})
//	// point a client at fake.URL() with any token
//
// # Errors
//
// The HTTP API answers GitHub's status codes and its documented error
// shapes: validation failures say "Validation Failed" with the reasons in
// errors[] ({resource, field, code, message}; a duplicate pull request is
// code "custom" with "A pull request already exists for owner:branch.")
// and documentation_url, as components/schemas/validation-error of
// GitHub's OpenAPI description has it. Success answers carry the required
// properties of the published schema of each operation served
// (testdata/openapi, checked by a test). The Go API
// returns [ErrNotFound] (check with errors.Is) for a missing repository,
// pull request or run, and descriptive errors for refused actions.
package githubtest
