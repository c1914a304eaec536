package migrate

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/tfpilot/tfpilot/store"
)

// CopyOptions configures [Copy]. A nil *CopyOptions means the defaults.
type CopyOptions struct {
	// DryRun reads both stores and counts what a copy would write, leave
	// alone and refuse, writing nothing. The target needs to be a
	// [store.Exporter] only.
	DryRun bool
	// Kinds lists the kinds to copy, in order. Default:
	// [store.ItemKinds], which puts requests first.
	Kinds []store.ItemKind
	// Concurrency is how many items are imported at once. Items are
	// independent, so their order within a kind does not matter.
	// Default: 8.
	Concurrency int
	// BatchSize is how many items each importer hands a target that is a
	// [store.BatchImporter] at once (store/pgstore inserts them with
	// one statement per kind). Default: 200. 1 imports one item at a
	// time.
	BatchSize int
	// Progress, when set, is called after every ProgressEvery items read
	// and once when a kind is done, from one goroutine at a time.
	Progress func(Progress)
	// ProgressEvery is how many items pass between Progress calls.
	// Default: 1000.
	ProgressEvery int
}

// Counts says what happened to the items of one kind. In a dry run,
// Written counts the items a copy would write.
type Counts struct {
	// Read is how many items were read from the source.
	Read int64
	// Written is how many the target did not hold and now holds.
	Written int64
	// Unchanged is how many the target already held identically.
	Unchanged int64
	// Conflicts is how many the target holds differently, or that are
	// malformed; each is listed in [Result.Conflicts].
	Conflicts int64
}

func (c *Counts) add(o Counts) {
	c.Read += o.Read
	c.Written += o.Written
	c.Unchanged += o.Unchanged
	c.Conflicts += o.Conflicts
}

// Progress reports how far a copy has gone in one kind.
type Progress struct {
	Kind store.ItemKind
	Counts
	// Done is true on the last report of the kind.
	Done bool
}

// KindResult is what [Copy] did with one kind, and how the two stores
// compare afterwards.
type KindResult struct {
	Kind store.ItemKind
	Counts
	// Source sums the well-formed items read (a malformed one is a
	// Conflict); Target every item of the kind the target holds once
	// the copy is done.
	Source, Target Summary
}

// Match reports whether source and target hold the same items.
func (k KindResult) Match() bool { return k.Source == k.Target }

// Conflict is an item [Copy] did not copy: the target holds a different
// item under its key, or the item is malformed.
type Conflict struct {
	Kind store.ItemKind
	Key  string
	// Detail is the error the import (or the dry run's comparison)
	// gave.
	Detail string
}

// Result is what [Copy] did.
type Result struct {
	DryRun bool
	// Kinds has one entry per kind copied, in copy order.
	Kinds []KindResult
	// Conflicts lists every item not copied, by kind order then key.
	Conflicts []Conflict
	// Quarantined lists the source objects that look like items but
	// cannot be read as one, each with the field and the problem; they
	// are not copied and make the copy incomplete (OK is false). Skipped
	// lists the objects that are not items, each with the reason (a
	// backup, a stray file, a duplicate a rule settles), and Lenient the
	// copied objects that were read leniently. All three are filled
	// only when the source is a [store.FateExporter]; Skipped then
	// also holds the objects outside every kind's place.
	Quarantined, Skipped, Lenient []store.ObjectFate
	// Mismatches names, for each kind whose counts or checksums differ
	// after the copy, every item on which source and target differ.
	Mismatches []Conflict
}

// Total adds up the counts of every kind.
func (r Result) Total() Counts {
	var c Counts
	for _, k := range r.Kinds {
		c.add(k.Counts)
	}
	return c
}

// OK reports whether the copy is complete: no conflicts and, unless it
// was a dry run, source and target match for every kind.
func (r Result) OK() bool {
	if len(r.Conflicts) > 0 || len(r.Quarantined) > 0 {
		return false
	}
	if r.DryRun {
		return true
	}
	for _, k := range r.Kinds {
		if !k.Match() {
			return false
		}
	}
	return true
}

// Copy copies every item of src into dst, kind by kind, keeping each as
// it is (see [store.Importer]), then compares the two stores: for each
// kind, the count and checksum of what it read from src against those of
// everything dst holds.
//
// src must be a [store.Exporter], and dst a [store.Importer] and a
// [store.Exporter]; otherwise Copy returns an error wrapping
// [errors.ErrUnsupported] before reading anything.
//
// Copy never overwrites: an item dst holds identically is counted
// Unchanged, one it holds differently is a [Conflict]. So a second run
// writes nothing, and a run that was interrupted is finished by running
// it again. Conflicts do not stop the copy; read the Result. The error
// is non-nil when a store failed or ctx ended, and the Result then says
// how far the copy got.
func Copy(ctx context.Context, src, dst store.Store, opts *CopyOptions) (Result, error) {
	var o CopyOptions
	if opts != nil {
		o = *opts
	}
	if o.Kinds == nil {
		o.Kinds = store.ItemKinds()
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 1000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 200
	}
	res := Result{DryRun: o.DryRun}
	exp, ok := src.(store.Exporter)
	if !ok {
		return res, fmt.Errorf("migrate: copy: source %T cannot export: %w", src, errors.ErrUnsupported)
	}
	dstExp, ok := dst.(store.Exporter)
	if !ok {
		return res, fmt.Errorf("migrate: copy: target %T cannot export, so the copy cannot be checked: %w", dst, errors.ErrUnsupported)
	}
	imp, ok := dst.(store.Importer)
	if !ok && !o.DryRun {
		return res, fmt.Errorf("migrate: copy: target %T cannot import: %w", dst, errors.ErrUnsupported)
	}
	for _, kind := range o.Kinds {
		if !kind.Valid() {
			return res, fmt.Errorf("migrate: copy: kind %q: %w", kind, store.ErrInvalid)
		}
	}
	fates, _ := src.(store.FateExporter)
	if fates != nil {
		err := fates.OtherObjects(ctx, func(f store.ObjectFate) error {
			res.Skipped = append(res.Skipped, f)
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("migrate: copy: %w", err)
		}
	}
	// Each kind is verified (its target summarized) on its own goroutine
	// while the next kind is copied: the kinds' items are independent,
	// so copying one does not change what another's summary reads.
	vctx, stopVerifying := context.WithCancel(ctx)
	defer stopVerifying()
	var verifying []*verification
	// finish waits for every verification and files its kind's result,
	// in copy order; the error is the first failure.
	finish := func() error {
		defer stopVerifying()
		var first error
		for _, v := range verifying {
			<-v.done
			kr := v.result
			switch {
			case first != nil:
			case v.err != nil:
				first = fmt.Errorf("migrate: copy %s: summarize target: %w", kr.Kind, v.err)
				stopVerifying()
			case !o.DryRun && !kr.Match():
				ms, err := mismatches(ctx, exp, fates, dstExp, kr.Kind)
				if err != nil {
					first = fmt.Errorf("migrate: copy %s: name mismatches: %w", kr.Kind, err)
					stopVerifying()
				}
				res.Mismatches = append(res.Mismatches, ms...)
			}
			res.Kinds = append(res.Kinds, kr)
		}
		return first
	}
	for _, kind := range o.Kinds {
		c := &kindCopy{kind: kind, opts: &o, dst: dst, imp: imp, fates: fates}
		if b, ok := dst.(store.BatchImporter); ok && !o.DryRun && o.BatchSize > 1 {
			c.bimp = b
		}
		err := c.run(ctx, exp)
		kr := KindResult{Kind: kind, Counts: c.counts, Source: c.source.summary()}
		res.Conflicts = append(res.Conflicts, c.conflicts...)
		res.record(c.objects)
		if err != nil {
			_ = finish() // the copy's failure is the one to report
			res.Kinds = append(res.Kinds, kr)
			sortConflicts(res.Conflicts, o.Kinds)
			return res, fmt.Errorf("migrate: copy %s: %w", kind, err)
		}
		verifying = append(verifying, verify(vctx, dstExp, kr))
	}
	err := finish()
	sortConflicts(res.Conflicts, o.Kinds)
	return res, err
}

// verification is the summary of one copied kind's target, computed
// in the background.
type verification struct {
	result KindResult // with Target set once done is closed
	err    error
	done   chan struct{}
}

// verify starts summarizing the target's items of kr's kind.
func verify(ctx context.Context, dst store.Exporter, kr KindResult) *verification {
	v := &verification{result: kr, done: make(chan struct{})}
	go func() {
		defer close(v.done)
		v.result.Target, v.err = Summarize(ctx, dst, kr.Kind)
	}()
	return v
}

func sortConflicts(cs []Conflict, order []store.ItemKind) {
	slices.SortFunc(cs, func(a, b Conflict) int {
		return cmp.Or(cmp.Compare(slices.Index(order, a.Kind), slices.Index(order, b.Kind)), strings.Compare(a.Key, b.Key))
	})
}

// kindCopy copies the items of one kind: the export runs on the calling
// goroutine and hands items to opts.Concurrency importers.
type kindCopy struct {
	kind store.ItemKind
	opts *CopyOptions
	dst  store.Store
	imp  store.Importer
	bimp store.BatchImporter // nil: import one item at a time

	fates store.FateExporter // nil when the source names no fates

	mu        sync.Mutex
	source    summer
	counts    Counts
	conflicts []Conflict
	objects   []store.ObjectFate // every fate but a plain copy
}

// record files the fates of one kind's objects into r.
func (r *Result) record(fs []store.ObjectFate) {
	for _, f := range fs {
		switch f.Fate {
		case store.FateQuarantine:
			r.Quarantined = append(r.Quarantined, f)
		case store.FateSkip:
			r.Skipped = append(r.Skipped, f)
		default:
			r.Lenient = append(r.Lenient, f)
		}
	}
}

func (c *kindCopy) run(ctx context.Context, exp store.Exporter) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	items := make(chan store.Item)
	var wg sync.WaitGroup
	for range c.opts.Concurrency {
		wg.Go(func() {
			// Each importer sums what it handles; sums add up in any
			// order, so the kind's sum is the sum of theirs.
			var sum summer
			var batch []store.Item
			for it := range items {
				b, err := it.Canonical()
				if err != nil {
					c.conflict(it, err)
					continue
				}
				sum.add(c.kind, b)
				if c.bimp != nil {
					if batch = append(batch, it); len(batch) >= c.opts.BatchSize {
						if err := c.copyBatch(ctx, batch); err != nil {
							cancel(err)
						}
						batch = batch[:0]
					}
					continue
				}
				if err := c.copyItem(ctx, it); err != nil {
					cancel(err)
				}
			}
			if len(batch) > 0 && context.Cause(ctx) == nil {
				if err := c.copyBatch(ctx, batch); err != nil {
					cancel(err)
				}
			}
			c.mu.Lock()
			c.source.merge(&sum)
			c.mu.Unlock()
		})
	}
	read := 0
	walk := exp.Export
	if c.fates != nil {
		walk = func(ctx context.Context, kind store.ItemKind, fn func(store.Item) error) error {
			return c.fates.ExportFates(ctx, kind, fn, func(f store.ObjectFate) error {
				if f.Fate != store.FateCopy || f.Reason != "" {
					c.mu.Lock()
					c.objects = append(c.objects, f)
					c.mu.Unlock()
				}
				return nil
			})
		}
	}
	err := walk(ctx, c.kind, func(it store.Item) error {
		read++
		c.mu.Lock()
		c.counts.Read++
		c.mu.Unlock()
		select {
		case items <- it:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if read%c.opts.ProgressEvery == 0 {
			c.progress(false)
		}
		return nil
	})
	close(items)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil && (err == nil || errors.Is(err, cause) || errors.Is(err, context.Canceled)) {
		// A failed import cancelled the walk: report the import's error
		// (or the caller's cancellation) rather than the walk's.
		err = cause
	}
	if err == nil {
		c.progress(true)
	}
	return err
}

func (c *kindCopy) progress(done bool) {
	if c.opts.Progress == nil {
		return
	}
	c.mu.Lock()
	p := Progress{Kind: c.kind, Counts: c.counts, Done: done}
	c.mu.Unlock()
	c.opts.Progress(p)
}

func (c *kindCopy) conflict(it store.Item, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts.Conflicts++
	c.conflicts = append(c.conflicts, Conflict{Kind: it.Kind, Key: it.Key(), Detail: err.Error()})
}

// copyItem imports it (or, in a dry run, compares it with the target's
// item) and counts the outcome. Only a store failure is returned.
func (c *kindCopy) copyItem(ctx context.Context, it store.Item) error {
	var written bool
	var err error
	if c.opts.DryRun {
		written, err = wouldImport(ctx, c.dst, it)
	} else {
		written, err = c.imp.Import(ctx, it)
	}
	switch {
	case errors.Is(err, store.ErrAlreadyExists) || errors.Is(err, store.ErrInvalid):
		c.conflict(it, err)
		return nil
	case err != nil:
		return fmt.Errorf("%s %s: %w", it.Kind, it.Key(), err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if written {
		c.counts.Written++
	} else {
		c.counts.Unchanged++
	}
	return nil
}

// copyBatch imports items with the target's [store.BatchImporter]
// and counts the outcomes as copyItem does. Only a store failure is
// returned; the batch's items are then not counted, and a rerun of the
// copy imports what the batch left missing.
func (c *kindCopy) copyBatch(ctx context.Context, items []store.Item) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	results, err := c.bimp.ImportBatch(ctx, items)
	if err == nil && len(results) != len(items) {
		err = fmt.Errorf("%d results for %d items", len(results), len(items))
	}
	if err != nil {
		return fmt.Errorf("%d %s items from %s: %w", len(items), c.kind, items[0].Key(), err)
	}
	for i, r := range results {
		switch {
		case errors.Is(r.Err, store.ErrAlreadyExists) || errors.Is(r.Err, store.ErrInvalid):
			c.conflict(items[i], r.Err)
		case r.Err != nil:
			return fmt.Errorf("%s %s: %w", items[i].Kind, items[i].Key(), r.Err)
		default:
			c.mu.Lock()
			if r.Written {
				c.counts.Written++
			} else {
				c.counts.Unchanged++
			}
			c.mu.Unlock()
		}
	}
	return nil
}

// wouldImport says what [store.Importer.Import] of it into dst would
// do, reading dst through the Store interface: true when dst lacks the
// item, false when it holds it identically, an error wrapping
// [store.ErrAlreadyExists] when it holds something else. An expired
// idempotency record is invisible to GetIdempotency, so a dry run
// counts it as to be written even when the target holds it.
func wouldImport(ctx context.Context, dst store.Store, it store.Item) (bool, error) {
	cur, found, err := lookup(ctx, dst, it)
	if err != nil || !found {
		return !found && err == nil, err
	}
	want, err := it.Canonical()
	if err != nil {
		return false, err
	}
	got, err := cur.Canonical()
	if err != nil {
		return false, fmt.Errorf("target's %s %s: %w", cur.Kind, cur.Key(), err)
	}
	if cur.Kind != it.Kind || !bytes.Equal(got, want) {
		return false, fmt.Errorf("target holds a different %s %s: %w", cur.Kind, it.Key(), store.ErrAlreadyExists)
	}
	return false, nil
}

// lookup reads the item of dst with it's kind and key.
func lookup(ctx context.Context, dst store.Store, it store.Item) (store.Item, bool, error) {
	if err := it.Check(); err != nil {
		return store.Item{}, false, err
	}
	out := store.Item{Kind: it.Kind}
	var err error
	switch it.Kind {
	case store.KindRequest, store.KindArchivedRequest:
		out.Kind = store.KindRequest
		out.Request, err = dst.GetRequest(ctx, it.Request.ID)
		if errors.Is(err, store.ErrNotFound) {
			out.Kind = store.KindArchivedRequest
			out.Request, err = dst.GetArchivedRequest(ctx, it.Request.ID)
		}
	case store.KindEvent:
		var evs []store.Event
		if evs, err = dst.ListEvents(ctx, it.Event.RequestID); err == nil {
			err = fmt.Errorf("event %s: %w", it.Key(), store.ErrNotFound)
			for i := range evs {
				if evs[i].ID == it.Event.ID {
					out.Event, err = &evs[i], nil
					break
				}
			}
		}
	case store.KindRunIndex:
		e := *it.Run
		e.RequestID, err = dst.LookupRun(ctx, e.Kind, e.RunID)
		out.Run = &e
	case store.KindPRIndex:
		e := *it.PR
		e.RequestID, err = dst.LookupPR(ctx, e.PR)
		out.PR = &e
	case store.KindDelivery:
		var d store.Delivery
		d, err = dst.GetDelivery(ctx, it.Delivery.ID)
		out.Delivery = &d
	case store.KindIdempotency:
		var rec store.IdempotencyRecord
		rec, err = dst.GetIdempotency(ctx, it.Idempotency.Operation, it.Idempotency.Key)
		out.Idempotency = &rec
	case store.KindCost:
		var c store.Cost
		c, err = dst.GetCost(ctx, it.Cost.RequestID)
		out.Cost = &c
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Item{}, false, nil
	case err != nil:
		return store.Item{}, false, err
	}
	return out, true, nil
}
