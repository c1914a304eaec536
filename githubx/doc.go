// Package githubx is tfpilot's GitHub layer: the operations the control
// plane needs (branches, one-commit file changes, files, pull requests,
// reviews, merges, workflow dispatch, runs, jobs, logs), over
// google/go-github v60 but without any go-github type in its API, and
// careful with GitHub's limits.
//
// # Use
//
//	c, err := githubx.New(githubx.Options{Token: tok}) // or App: &githubx.AppAuth{…}
//	repo := githubx.Repo{Owner: "acme", Name: "infra"}
//	c.EnsureBranch(ctx, repo, "tfpilot/req-1", "main")
//	sha, err := c.CommitFiles(ctx, repo, "tfpilot/req-1", "Add bucket", []githubx.FileChange{…})
//	pr, err := c.OpenPR(ctx, repo, githubx.NewPR{Title: "…", Head: "tfpilot/req-1", Base: "main"})
//	res, err := c.Dispatch(ctx, repo, githubx.DispatchRequest{Workflow: "plan.yml", Ref: "tfpilot/req-1",
//		Inputs: map[string]string{"request_id": "req-1"}, Nonce: nonce})
//	run, err := c.GetRun(ctx, repo, res.RunID, githubx.BypassCache())
//
// Tests run the same code against githubx/githubtest, an in-process fake.
//
// # Limits, caching and retries
//
// Every GET is conditional: the client keeps a bounded LRU of answers with
// their ETags and sends If-None-Match; an unchanged resource answers 304,
// which GitHub does not count against the rate limit. [BypassCache] forces
// a fresh read (reconciliation, INV-REC-3).
//
// When GitHub reports the primary limit exhausted (403/429 with
// X-RateLimit-Remaining: 0) or a secondary limit (Retry-After), the client
// sleeps until the reset if that is at most Options.MaxRateLimitWait away
// and tries again; otherwise it fails with a [*RateLimitError] carrying the
// reset time, without sending requests it knows would be refused.
//
// 5xx answers and connection errors are retried with jittered exponential
// backoff for idempotent calls only: reads, and writes whose replay is
// harmless (blobs, trees, commits, a fast-forward ref update, creating a
// ref or pull request that then "already exists"). A dispatch or a merge is
// never blindly retried: the client first checks GitHub (a run carrying
// the dispatch nonce; whether the pull request merged) and retries only if
// the first try had no effect. Since GitHub lists a dispatched run only
// seconds after the dispatch, a dispatch is repeated only when no run
// carrying its nonce was listed during the list-lag window after the
// failed try (Options.ListLag, [DefaultListLag]), looked for with backoff.
// [Client.FindRuns] lists every run carrying a nonce, so duplicates can
// be told from the attempt's run.
//
// [Client.Stats] exposes counters for metrics. Options.TracerProvider
// makes an OpenTelemetry client span per call to GitHub, child of the
// span in the call's context (no global provider is read). Time and
// sleeping come from Options.Clock, so tests never sleep for real.
//
// # Dispatch and the run-name convention
//
// [Client.Dispatch] asks for return_run_details and gets the run id at once
// where GitHub supports it. Elsewhere, and to check an ambiguous failure,
// it finds the run by its nonce, which the workflow must put in its run
// name:
//
//	on:
//	  workflow_dispatch:
//	    inputs:
//	      request_id: {required: true, type: string}
//	      tfpilot_nonce: {required: true, type: string}
//	run-name: tfpilot ${{ inputs.request_id }} ${{ inputs.tfpilot_nonce }}
//
// GitHub refuses a dispatch that sends an input the workflow does not
// declare (422 "Unexpected inputs provided"), so the workflow must declare
// exactly the inputs tfpilot sends: request_id and tfpilot_nonce, and
// for apply also the optional plan_run_id and plan_digest of the approved
// plan ([InputPlanRunID], [InputPlanDigest]). The repository's workflows/
// folder holds complete templates.
//
// # Errors
//
// Every error is an [*Error] (operation, HTTP status, GitHub's message
// joined with the reasons of its errors[] array) wrapping a sentinel;
// GitHub's validation failures are classified from errors[] too (a
// duplicate pull request is "Validation Failed" with the reason in
// errors[].message, and is [ErrAlreadyExists]); check with errors.Is: [ErrNotFound],
// [ErrUnauthorized], [ErrForbidden], [ErrConflict] (also matched by
// [ErrNotMergeable] and [ErrHeadSHAMismatch]), [ErrAlreadyExists],
// [ErrInvalid], [ErrRateLimited], [ErrUnavailable]. Use errors.As with
// [*RateLimitError] to read when to try again.
package githubx
