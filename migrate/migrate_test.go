package migrate_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tfpilot/tfpilot/migrate"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// stores makes the two ends of a migration test: a source holding
// [legacyBucket] and a function returning empty targets. memStores is the
// in-memory pair; s3ToPostgres (s3pg_test.go) is the real one.
type stores func(t *testing.T) (src store.Store, newTarget func() store.Store)

func memStores(t *testing.T) (store.Store, func() store.Store) {
	src := memstore.New(nil)
	for _, it := range layoutItems(t, legacyBucket()) {
		if _, err := src.Import(t.Context(), it); err != nil {
			t.Fatalf("load %s %s: %v", it.Kind, it.Key(), err)
		}
	}
	return src, func() store.Store { return memstore.New(nil) }
}

func TestMigrate_LegacyBucket(t *testing.T) {
	t.Parallel()
	testMigrateLegacyBucket(t, memStores)
}

func TestMigrate_InterruptedCopyEndsAsOneUninterrupted(t *testing.T) {
	t.Parallel()
	testInterruptedCopy(t, memStores)
}

// testMigrateLegacyBucket audits the source, dry-runs, copies, checks
// that everything arrived, audits the target and copies again.
func testMigrateLegacyBucket(t *testing.T, newStores stores) {
	ctx := t.Context()
	src, newTarget := newStores(t)
	dst := newTarget()
	objs := legacyBucket()
	total := int64(len(layoutItems(t, objs)))

	rep, err := migrate.Audit(ctx, src, &migrate.AuditOptions{Now: auditNow})
	if err != nil {
		t.Fatalf("Audit(source): %v", err)
	}
	checkPlanted(t, rep)
	if rep.Requests != 10 || rep.ArchivedRequests != 1 || !rep.IndexesExported || rep.RunIndexEntries != 20 || rep.PRIndexEntries != 8 {
		t.Errorf("audit counted %d requests, %d archived, %d run and %d PR index entries (exported %v); want 10, 1, 20, 8, true",
			rep.Requests, rep.ArchivedRequests, rep.RunIndexEntries, rep.PRIndexEntries, rep.IndexesExported)
	}

	dry, err := migrate.Copy(ctx, src, dst, &migrate.CopyOptions{DryRun: true})
	if err != nil {
		t.Fatalf("Copy(dry run): %v", err)
	}
	if got := dry.Total(); got.Read != total || got.Written != total || got.Unchanged != 0 || got.Conflicts != 0 {
		t.Errorf("dry run counts %+v; want %d read and to be written", got, total)
	}
	for _, k := range dry.Kinds {
		if k.Target.Count != 0 {
			t.Errorf("dry run wrote %d %s items", k.Target.Count, k.Kind)
		}
	}

	var progress []migrate.Progress
	var mu sync.Mutex
	res, err := migrate.Copy(ctx, src, dst, &migrate.CopyOptions{ProgressEvery: 5, Progress: func(p migrate.Progress) {
		mu.Lock()
		defer mu.Unlock()
		progress = append(progress, p)
	}})
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if !res.OK() {
		t.Errorf("Copy result not OK: %+v", res)
	}
	if got := res.Total(); got.Read != total || got.Written != total {
		t.Errorf("Copy counts %+v; want all %d read and written", got, total)
	}
	for _, k := range res.Kinds {
		if !k.Match() || k.Source.Count != k.Read {
			t.Errorf("%s: source %+v, target %+v after reading %d", k.Kind, k.Source, k.Target, k.Read)
		}
	}
	done := 0
	for _, p := range progress {
		if p.Done {
			done++
		}
	}
	if done != len(store.ItemKinds()) || len(progress) <= done {
		t.Errorf("progress reported %d times, %d of them done; want periodic reports and one done per kind", len(progress), done)
	}

	checkArrived(ctx, t, objs, dst)

	rep, err = migrate.Audit(ctx, dst, &migrate.AuditOptions{Now: auditNow})
	if err != nil {
		t.Fatalf("Audit(target): %v", err)
	}
	checkPlanted(t, rep)

	again, err := migrate.Copy(ctx, src, dst, nil)
	if err != nil {
		t.Fatalf("Copy again: %v", err)
	}
	if got := again.Total(); got.Written != 0 || got.Unchanged != total || !again.OK() {
		t.Errorf("second Copy counts %+v (ok %v); want nothing written, %d unchanged", got, again.OK(), total)
	}
}

// cancellingTarget cancels a context on its after-th import.
type cancellingTarget struct {
	store.Store
	after  int64
	n      atomic.Int64
	cancel context.CancelFunc
}

func (c *cancellingTarget) Import(ctx context.Context, it store.Item) (bool, error) {
	if c.n.Add(1) == c.after {
		c.cancel()
	}
	return c.Store.(store.Importer).Import(ctx, it)
}

func (c *cancellingTarget) Export(ctx context.Context, kind store.ItemKind, fn func(store.Item) error) error {
	return c.Store.(store.Exporter).Export(ctx, kind, fn)
}

func testInterruptedCopy(t *testing.T, newStores stores) {
	ctx := t.Context()
	src, newTarget := newStores(t)
	whole := newTarget()
	want, err := migrate.Copy(ctx, src, whole, nil)
	if err != nil || !want.OK() {
		t.Fatalf("uninterrupted Copy = %+v, %v", want, err)
	}
	total := want.Total().Written
	for _, after := range []int64{1, total / 2, total - 1} {
		t.Run("", func(t *testing.T) {
			dst := newTarget()
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			first, err := migrate.Copy(cctx, src, &cancellingTarget{Store: dst, after: after, cancel: cancel}, &migrate.CopyOptions{Concurrency: 3})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Copy cancelled at import %d returned %v; want context.Canceled", after, err)
			}
			if first.Total().Written >= total {
				t.Fatalf("Copy cancelled at import %d still wrote all %d items", after, total)
			}
			second, err := migrate.Copy(ctx, src, dst, nil)
			if err != nil || !second.OK() {
				t.Fatalf("Copy after the interruption = %+v, %v", second, err)
			}
			// An import cut off by the cancellation may have been stored
			// without being counted, so the first run's count is a lower
			// bound; what it counted, the second finds in place.
			f, s := first.Total(), second.Total()
			if s.Written+s.Unchanged != total || s.Unchanged < f.Written || f.Written+s.Written > total {
				t.Errorf("interrupted copy wrote %d, resumed copy wrote %d and found %d in place; want %d in all, none twice",
					f.Written, s.Written, s.Unchanged, total)
			}
			for i, k := range second.Kinds {
				if k.Target != want.Kinds[i].Target {
					t.Errorf("%s: resumed target %+v, uninterrupted target %+v", k.Kind, k.Target, want.Kinds[i].Target)
				}
			}
		})
	}
}

func TestCopy_ConflictIsReportedNotOverwritten(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src, newTarget := memStores(t)
	dst := newTarget().(*memstore.Store)
	r, err := src.GetRequest(ctx, "req-ok")
	if err != nil {
		t.Fatal(err)
	}
	r.Module = "edited-in-target"
	if _, err := dst.Import(ctx, store.Item{Kind: store.KindRequest, Request: r}); err != nil {
		t.Fatal(err)
	}
	for _, dryRun := range []bool{true, false} {
		res, err := migrate.Copy(ctx, src, dst, &migrate.CopyOptions{DryRun: dryRun})
		if err != nil {
			t.Fatalf("Copy(dry run %v): %v", dryRun, err)
		}
		if res.OK() || len(res.Conflicts) != 1 || res.Conflicts[0].Kind != store.KindRequest || res.Conflicts[0].Key != "req-ok" ||
			!strings.Contains(res.Conflicts[0].Detail, "already exists") {
			t.Errorf("Copy(dry run %v) conflicts %+v, ok %v; want one on request req-ok", dryRun, res.Conflicts, res.OK())
		}
	}
	got, _ := dst.GetRequest(ctx, "req-ok")
	if got.Module != "edited-in-target" {
		t.Errorf("Copy overwrote the target's request: module %q", got.Module)
	}
	res, _ := migrate.Copy(ctx, src, dst, nil)
	if res.Kinds[0].Match() {
		t.Errorf("requests match although the target holds a different req-ok")
	}
}

// plainStore hides every optional extension of a store.
type plainStore struct{ store.Store }

func TestCopy_NeedsExportAndImport(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	mem := memstore.New(nil)
	for _, tc := range []struct {
		name     string
		src, dst store.Store
		dryRun   bool
	}{
		{"source without Exporter", plainStore{mem}, memstore.New(nil), false},
		{"target without Exporter", mem, plainStore{memstore.New(nil)}, false},
		{"target without Importer", mem, struct {
			store.Store
			store.Exporter
		}{mem, mem}, false},
	} {
		if _, err := migrate.Copy(ctx, tc.src, tc.dst, &migrate.CopyOptions{DryRun: tc.dryRun}); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s: Copy = %v; want errors.ErrUnsupported", tc.name, err)
		}
	}
	if _, err := migrate.Copy(ctx, mem, struct {
		store.Store
		store.Exporter
	}{mem, mem}, &migrate.CopyOptions{DryRun: true}); err != nil {
		t.Errorf("dry run into a target without Importer: %v", err)
	}
	if _, err := migrate.Copy(ctx, mem, mem, &migrate.CopyOptions{Kinds: []store.ItemKind{"bogus"}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Copy of an unknown kind = %v; want ErrInvalid", err)
	}
}

func TestAudit_WithoutExporterChecksLiveRequestsOneWay(t *testing.T) {
	t.Parallel()
	src, _ := memStores(t)
	rep, err := migrate.Audit(t.Context(), plainStore{src}, &migrate.AuditOptions{Now: auditNow})
	if err != nil {
		t.Fatal(err)
	}
	if rep.IndexesExported || rep.Requests != 10 || rep.ArchivedRequests != 0 {
		t.Errorf("audit without export: %d requests, %d archived, indexes exported %v; want 10, 0, false", rep.Requests, rep.ArchivedRequests, rep.IndexesExported)
	}
	// The entries that point at the wrong request or none are only seen
	// from the index side.
	var want []migrate.Violation
	for _, v := range plantedViolations {
		if v.RequestID == "req-ghost" || v.RequestID == "req-ok" {
			continue
		}
		want = append(want, v)
	}
	got := make([]migrate.Violation, len(rep.Violations))
	for i, v := range rep.Violations {
		got[i] = migrate.Violation{RequestID: v.RequestID, Invariant: v.Invariant, Kind: v.Kind}
	}
	if len(got) != len(want) {
		t.Errorf("audit without export found %v; want %v", got, want)
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("violation %d = %v; want %v", i, got[i], want[i])
		}
	}
}

// failingLookups is a store whose run index cannot be read.
type failingLookups struct{ *memstore.Store }

var errUnreadable = errors.New("unreadable")

func (failingLookups) LookupRun(context.Context, runs.Kind, int64) (string, error) {
	return "", errUnreadable
}

func TestAudit_StoreErrorIsAnErrorNotAFinding(t *testing.T) {
	t.Parallel()
	src, _ := memStores(t)
	_, err := migrate.Audit(t.Context(), failingLookups{src.(*memstore.Store)}, &migrate.AuditOptions{Now: auditNow, Concurrency: 3})
	if !errors.Is(err, errUnreadable) {
		t.Errorf("Audit over an unreadable run index = %v; want an error wrapping %v", err, errUnreadable)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := migrate.Audit(ctx, src, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Audit with a cancelled context = %v; want context.Canceled", err)
	}
}
