package tfpilot

import (
	"context"
	"errors"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/tfoutput"
	"github.com/tfpilot/tfpilot/webhook"
)

// Bounds of reading a run's output.
const (
	// outputLogBytes is how much of each job's log is read, from its end
	// (where Terraform prints its summary).
	outputLogBytes = 1 << 20
	// outputMaxJobs is how many jobs of a run are read.
	outputMaxJobs = 8
)

// captureOutputs reads, for each current attempt of r that completed and
// carries no Output yet, its run's job logs (bounded), extracts
// Terraform's summary with tfoutput and records it on the attempt, so an
// approver sees what the plan would do and what the apply did. It never
// fails the caller: a log GitHub no longer has (or never had) is recorded
// as tfoutput.StateNoLog; a transient failure (rate limit, 5xx) is logged
// and retried by the next Sync. It returns the request as last written.
func (p *Pilot) captureOutputs(ctx context.Context, r *Request) *Request {
	for _, k := range runs.Kinds() {
		a, ok := runs.Current(r.Runs, k)
		if !ok || a.RunID == 0 || a.Status != runs.StatusCompleted || a.Output != nil {
			continue
		}
		out, err := p.readOutput(ctx, repoOf(r), a.RunID)
		if err != nil {
			p.rateLimited(ctx, err)
			p.log.WarnContext(ctx, "tfpilot: run output not read; the next Sync tries again",
				"request", r.ID, "kind", k, "run", a.RunID, "err", err)
			continue
		}
		nr, err := p.patch(ctx, r.ID, func(r *Request) {
			before, _ := attemptByNumber(r.Runs, k, a.Attempt)
			r.Runs, _ = runs.SetOutput(r.Runs, k, a.Attempt, out)
			// A plan pinned to a commit shows what it planned only in its
			// log: a mismatch is revealed here, once, by the write that
			// records the output (run_head.go).
			if after, ok := attemptByNumber(r.Runs, k, a.Attempt); ok && runs.HeadMismatch(after) && !runs.HeadMismatch(before) {
				data := headMismatchData(after, "output")
				data["pinnedSha"], data["plannedCommit"] = after.PinnedSHA, after.Output.PlannedCommit
				p.stage(r, headMismatchEvent(k), Principal{Login: "github"}, data)
			}
		})
		if err != nil {
			p.log.WarnContext(ctx, "tfpilot: run output not stored", "request", r.ID, "kind", k, "run", a.RunID, "err", err)
			continue
		}
		r = nr
	}
	return r
}

// readOutput reads the logs of a run's jobs (at most outputMaxJobs, each
// at most outputLogBytes from its end) and summarises them.
func (p *Pilot) readOutput(ctx context.Context, repo githubx.Repo, runID int64) (*tfoutput.Summary, error) {
	jobs, err := p.gh.ListJobs(ctx, repo, runID)
	if logGone(err) {
		return &tfoutput.Summary{State: tfoutput.StateNoLog}, nil
	}
	if err != nil {
		return nil, err
	}
	var log []byte
	truncated := len(jobs) > outputMaxJobs
	for i, j := range jobs {
		if i == outputMaxJobs {
			break
		}
		l, err := p.gh.JobLogs(ctx, repo, j.ID, githubx.LogOptions{MaxBytes: outputLogBytes, Tail: true})
		if logGone(err) {
			continue // this job's log expired or was deleted
		}
		if err != nil {
			return nil, err
		}
		truncated = truncated || l.Truncated
		log = append(log, l.Text...)
		log = append(log, '\n')
	}
	s := tfoutput.Parse(log)
	s.Truncated = s.Truncated || truncated
	return &s, nil
}

// logGone reports whether GitHub says the run, job or log is not there (a
// deleted run, a log past its retention), which no retry changes.
func logGone(err error) bool {
	var e *githubx.Error
	return errors.Is(err, githubx.ErrNotFound) || (errors.As(err, &e) && e.StatusCode == 410)
}

// outputSink reads a run's output as soon as the webhook says it
// completed, so a webhook-driven deployment shows the plan to the approver
// without waiting for a Sync (which may never come for a request whose
// plan is ready: reconcilers sync requests in flight).
type outputSink struct {
	webhook.Sink
	p *Pilot
}

// HandleWorkflowRun applies the delivery with the wrapped sink, then, for
// a completed plan, apply or destroy run, reads its output. Reading is
// best effort: its failure never fails the delivery (Sync retries it).
func (s outputSink) HandleWorkflowRun(ctx context.Context, ev webhook.WorkflowRunEvent) (string, error) {
	outcome, err := s.Sink.HandleWorkflowRun(ctx, ev)
	k := ev.Kind
	if err != nil || ev.Action != "completed" || !k.Valid() {
		return outcome, err
	}
	id, lerr := s.p.store.LookupRun(ctx, k, ev.RunID)
	if lerr != nil {
		return outcome, nil
	}
	if r, gerr := s.p.store.GetRequest(ctx, id); gerr == nil {
		s.p.captureOutputs(ctx, r)
	}
	return outcome, nil
}
