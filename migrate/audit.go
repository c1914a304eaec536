package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// AuditOptions configures [Audit]. A nil *AuditOptions means the
// defaults.
type AuditOptions struct {
	// Now is the time at which locks are judged expired. Default: the
	// time Audit starts.
	Now time.Time
	// Concurrency is how many requests and index entries are checked at
	// once (each check reads the store). Default: 8.
	Concurrency int
}

// Report is what [Audit] found.
type Report struct {
	// Now is the time locks were judged at.
	Now time.Time
	// Requests and ArchivedRequests count the documents audited.
	// Archived requests are audited only when the store is a
	// [store.Exporter].
	Requests         int
	ArchivedRequests int
	// IndexesExported is true when the store is a [store.Exporter], so
	// that index entries were checked back against their requests;
	// RunIndexEntries and PRIndexEntries count those entries.
	IndexesExported bool
	RunIndexEntries int
	PRIndexEntries  int
	// Violations lists every finding, ordered by request id, invariant,
	// run kind and detail.
	Violations []Violation
}

// OK reports whether the audit found nothing.
func (r Report) OK() bool { return len(r.Violations) == 0 }

// Count returns how many violations of inv the report holds.
func (r Report) Count(inv Invariant) int {
	n := 0
	for _, v := range r.Violations {
		if v.Invariant == inv {
			n++
		}
	}
	return n
}

// Audit checks every request s holds against the Tier A invariants (see
// [Invariant]) and returns the violations it found. It only reads.
//
// When s is a [store.Exporter], Audit walks live and archived requests
// and also checks each run and PR index entry back against its request;
// otherwise it lists live requests with [store.RequestStore.ListRequests]
// and checks the indexes in one direction only (request → index). Each
// attempt with a run id costs one index look-up, each request with a
// pull request one more, and each index entry one request read.
//
// The error is non-nil only when s could not be read; a report with
// violations is not an error.
func Audit(ctx context.Context, s store.Store, opts *AuditOptions) (Report, error) {
	rep := Report{Now: time.Now()}
	workers := 8
	if opts != nil {
		if !opts.Now.IsZero() {
			rep.Now = opts.Now
		}
		if opts.Concurrency > 0 {
			workers = opts.Concurrency
		}
	}
	a := &auditor{s: s, rep: &rep}
	exp, canExport := s.(store.Exporter)
	if canExport {
		rep.IndexesExported = true
		for _, kind := range []store.ItemKind{store.KindRequest, store.KindArchivedRequest, store.KindRunIndex, store.KindPRIndex} {
			err := pool(ctx, workers, func(ctx context.Context, do func(task func(context.Context) error) error) error {
				fn := func(it store.Item) error {
					return do(func(ctx context.Context) error { return a.item(ctx, it) })
				}
				if fe, ok := s.(store.FateExporter); ok {
					return fe.ExportFates(ctx, kind, fn, func(f store.ObjectFate) error {
						if f.Fate == store.FateQuarantine {
							detail := f.Reason
							if f.Field != "" {
								detail = f.Field + ": " + detail
							}
							a.add(Violation{RequestID: f.Object, Archived: kind == store.KindArchivedRequest, Invariant: InvUnreadable, Detail: detail})
						}
						return nil
					})
				}
				return exp.Export(ctx, kind, fn)
			})
			if err != nil {
				return rep, fmt.Errorf("migrate: audit %s: %w", kind, err)
			}
		}
	} else {
		err := pool(ctx, workers, func(ctx context.Context, do func(task func(context.Context) error) error) error {
			q := store.ListQuery{Limit: store.MaxPageSize}
			for {
				page, err := s.ListRequests(ctx, q)
				if err != nil {
					return err
				}
				for _, r := range page.Requests {
					if err := do(func(ctx context.Context) error { return a.request(ctx, r, false) }); err != nil {
						return err
					}
				}
				if page.NextCursor == "" {
					return nil
				}
				q.Cursor = page.NextCursor
			}
		})
		if err != nil {
			return rep, fmt.Errorf("migrate: audit requests: %w", err)
		}
	}
	slices.SortFunc(rep.Violations, compareViolations)
	return rep, nil
}

// pool runs the tasks walk hands to do on n goroutines. It returns the
// first task's error (which cancels the walk's ctx), else walk's.
func pool(ctx context.Context, n int, walk func(ctx context.Context, do func(task func(context.Context) error) error) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	tasks := make(chan func(context.Context) error)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for task := range tasks {
				if err := task(ctx); err != nil {
					cancel(err)
				}
			}
		})
	}
	err := walk(ctx, func(task func(context.Context) error) error {
		select {
		case tasks <- task:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	close(tasks)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return err
}

// auditor holds an audit's state; its methods run concurrently.
type auditor struct {
	s store.Store

	mu  sync.Mutex // guards rep
	rep *Report
}

func (a *auditor) add(v Violation) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rep.Violations = append(a.rep.Violations, v)
}

// item audits one exported request or index entry.
func (a *auditor) item(ctx context.Context, it store.Item) error {
	switch it.Kind {
	case store.KindRequest, store.KindArchivedRequest:
		return a.request(ctx, it.Request, it.Kind == store.KindArchivedRequest)
	case store.KindRunIndex:
		return a.runEntry(ctx, *it.Run)
	case store.KindPRIndex:
		return a.prEntry(ctx, *it.PR)
	}
	return nil
}

// request audits one document and its forward index entries.
func (a *auditor) request(ctx context.Context, r *store.Request, archived bool) error {
	a.mu.Lock()
	if archived {
		a.rep.ArchivedRequests++
	} else {
		a.rep.Requests++
	}
	a.mu.Unlock()
	for _, v := range checkDocument(r, archived, a.rep.Now) {
		a.add(v)
	}
	for _, is := range r.DecodeIssues() {
		a.add(Violation{RequestID: r.ID, Archived: archived, Invariant: InvLenient, Detail: is.String()})
	}
	for _, k := range runs.Kinds() {
		for _, at := range r.Runs.Op(k).Attempts {
			if at.RunID <= 0 {
				continue
			}
			owner, err := a.s.LookupRun(ctx, k, at.RunID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				a.add(Violation{RequestID: r.ID, Archived: archived, Invariant: InvRunIndex, Kind: k,
					Detail: fmt.Sprintf("run %d (attempt %d) is not in the run index", at.RunID, at.Attempt)})
			case err != nil:
				return err
			case owner != r.ID:
				a.add(Violation{RequestID: r.ID, Archived: archived, Invariant: InvRunIndex, Kind: k,
					Detail: fmt.Sprintf("run %d (attempt %d) is indexed to request %q", at.RunID, at.Attempt, owner)})
			}
		}
	}
	if ref, ok := prRef(r); ok {
		owner, err := a.s.LookupPR(ctx, ref)
		switch {
		case errors.Is(err, store.ErrNotFound):
			a.add(Violation{RequestID: r.ID, Archived: archived, Invariant: InvPRIndex,
				Detail: fmt.Sprintf("pull request %s is not in the PR index", prString(ref))})
		case err != nil:
			return err
		case owner != r.ID:
			a.add(Violation{RequestID: r.ID, Archived: archived, Invariant: InvPRIndex,
				Detail: fmt.Sprintf("pull request %s is indexed to request %q", prString(ref), owner)})
		}
	}
	return nil
}

func prString(pr store.PRRef) string { return fmt.Sprintf("%s/%s#%d", pr.Owner, pr.Repo, pr.Number) }

// owner returns the request id names, live or archived, or nil when it
// does not exist.
func (a *auditor) owner(ctx context.Context, id string) (*store.Request, bool, error) {
	r, err := a.s.GetRequest(ctx, id)
	archived := false
	if errors.Is(err, store.ErrNotFound) {
		r, err = a.s.GetArchivedRequest(ctx, id)
		archived = true
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return r, archived, nil
}

// runEntry checks a run index entry back against its request.
func (a *auditor) runEntry(ctx context.Context, e store.RunIndexEntry) error {
	a.mu.Lock()
	a.rep.RunIndexEntries++
	a.mu.Unlock()
	r, archived, err := a.owner(ctx, e.RequestID)
	switch {
	case err != nil:
		return err
	case r == nil:
		a.add(Violation{RequestID: e.RequestID, Invariant: InvRunIndex, Kind: e.Kind,
			Detail: fmt.Sprintf("run index entry %s/%d points at a request that does not exist", e.Kind, e.RunID)})
	default:
		if _, ok := runs.FindByRunID(r.Runs, e.Kind, e.RunID); !ok {
			a.add(Violation{RequestID: e.RequestID, Archived: archived, Invariant: InvRunIndex, Kind: e.Kind,
				Detail: fmt.Sprintf("run index entry %s/%d points here but no %s attempt has run id %d", e.Kind, e.RunID, e.Kind, e.RunID)})
		}
	}
	return nil
}

// prEntry checks a PR index entry back against its request.
func (a *auditor) prEntry(ctx context.Context, e store.PRIndexEntry) error {
	a.mu.Lock()
	a.rep.PRIndexEntries++
	a.mu.Unlock()
	r, archived, err := a.owner(ctx, e.RequestID)
	switch {
	case err != nil:
		return err
	case r == nil:
		a.add(Violation{RequestID: e.RequestID, Invariant: InvPRIndex,
			Detail: fmt.Sprintf("PR index entry %s points at a request that does not exist", prString(e.PR))})
	default:
		if ref, ok := prRef(r); !ok || ref != e.PR {
			have := "no pull request"
			if ok {
				have = "pull request " + prString(ref)
			}
			a.add(Violation{RequestID: e.RequestID, Archived: archived, Invariant: InvPRIndex,
				Detail: fmt.Sprintf("PR index entry %s points here but the request has %s", prString(e.PR), have)})
		}
	}
	return nil
}
