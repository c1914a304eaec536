package migrate_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/migrate"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/memstore"
	"github.com/tfpilot/tfpilot/store/pgstore"
)

// statementTracer counts the statements a pgstore sends, and the batch
// inserts among them; it calls onBatch with each batch insert's number
// as the statement starts.
type statementTracer struct {
	statements, batches atomic.Int64
	onBatch             func(n int64)
}

func (s *statementTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.statements.Add(1)
	if strings.Contains(d.SQL, "unnest(") {
		n := s.batches.Add(1)
		if s.onBatch != nil {
			s.onBatch(n)
		}
	}
	return ctx
}

func (s *statementTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// newTracedPostgres is newPostgres whose connections report to tr.
func newTracedPostgres(t *testing.T, tr *statementTracer) *pgstore.Store {
	t.Helper()
	pg := pgstore.NewFromSQL(testenv.TracedPostgresDB(t, tr), nil)
	if err := pg.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return pg
}

// batchSource is the legacy bucket (lenient and raw documents, events,
// deliveries, idempotency records, costs) plus 300 synthetic requests
// with their index entries and events.
func batchSource(t *testing.T) store.Store {
	src := memstore.New(nil)
	for _, it := range layoutItems(t, append(legacyBucket(), syntheticBucket(300)...)) {
		if _, err := src.Import(t.Context(), it); err != nil {
			t.Fatalf("load %s %s: %v", it.Kind, it.Key(), err)
		}
	}
	return src
}

// TestCopy_BatchedIntoPostgres_FewStatementsAndResumesAfterCrashMidBatch:
// Copy into PostgreSQL inserts in batches (far fewer statements than
// items), and a copy cut off while batch inserts are in flight resumes,
// in a second run, to exactly what an uninterrupted copy stores: no item
// lost, none twice, every kind verified.
func TestCopy_BatchedIntoPostgres_FewStatementsAndResumesAfterCrashMidBatch(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src := batchSource(t)
	opts := &migrate.CopyOptions{Concurrency: 4, BatchSize: 50}

	var whole statementTracer
	want, err := migrate.Copy(ctx, src, newTracedPostgres(t, &whole), opts)
	if err != nil || !want.OK() {
		t.Fatalf("uninterrupted Copy = %+v, %v", want, err)
	}
	total := want.Total().Written
	if n := whole.statements.Load(); n*5 > total {
		t.Errorf("Copy of %d items took %d statements; want batches (at most one statement per 5 items)", total, n)
	}

	for _, at := range []int64{1, 4, 9} {
		t.Run("", func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			tr := &statementTracer{onBatch: func(n int64) {
				if n == at {
					cancel() // the crash: this batch and those in flight are cut off
				}
			}}
			dst := newTracedPostgres(t, tr)
			first, err := migrate.Copy(cctx, src, dst, opts)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Copy cut off at batch %d returned %v (%d batches); want context.Canceled", at, err, tr.batches.Load())
			}
			second, err := migrate.Copy(ctx, src, dst, opts)
			if err != nil || !second.OK() || len(second.Mismatches) > 0 {
				t.Fatalf("Copy after the interruption = %+v, %v", second, err)
			}
			f, s := first.Total(), second.Total()
			if s.Written+s.Unchanged != total || s.Unchanged < f.Written || f.Written+s.Written > total {
				t.Errorf("interrupted copy wrote %d, resumed copy wrote %d and found %d in place; want %d in all, none twice",
					f.Written, s.Written, s.Unchanged, total)
			}
			for i, k := range second.Kinds {
				if k.Target != want.Kinds[i].Target || !k.Match() {
					t.Errorf("%s: resumed target %+v, uninterrupted target %+v", k.Kind, k.Target, want.Kinds[i].Target)
				}
			}
		})
	}
}

// TestCopy_RerunIntoPostgres_LooksUpWhatIsStoredInBatches: a copy run
// again over a complete one (what resuming after a crash mostly is)
// finds every item in place, writes nothing, and reads what is stored
// in batches too: far fewer statements than items, not one or two
// look-ups per item.
func TestCopy_RerunIntoPostgres_LooksUpWhatIsStoredInBatches(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src := batchSource(t)
	opts := &migrate.CopyOptions{Concurrency: 4, BatchSize: 50}
	var tr statementTracer
	dst := newTracedPostgres(t, &tr)
	first, err := migrate.Copy(ctx, src, dst, opts)
	if err != nil || !first.OK() {
		t.Fatalf("first Copy = %+v, %v", first, err)
	}
	total := first.Total().Written
	tr.statements.Store(0)
	again, err := migrate.Copy(ctx, src, dst, opts)
	if err != nil || !again.OK() {
		t.Fatalf("second Copy = %+v, %v", again, err)
	}
	if c := again.Total(); c.Written != 0 || c.Unchanged != total {
		t.Errorf("second Copy wrote %d and found %d unchanged; want 0 and %d", c.Written, c.Unchanged, total)
	}
	if n := tr.statements.Load(); n*5 > total {
		t.Errorf("second Copy of %d stored items took %d statements; want batched look-ups (at most one statement per 5 items)", total, n)
	}
}
