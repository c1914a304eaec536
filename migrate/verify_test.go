package migrate_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/migrate"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/pgstore"
)

// TestCopy_VerificationReadsTheTargetBack: the target's side of the
// final comparison is read back from the target, not taken from what
// the copy sent it: a PostgreSQL target that stores one request
// differently from what it was given (a trigger rewrites the row) is
// reported, with that request named, although every import succeeded.
func TestCopy_VerificationReadsTheTargetBack(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src := batchSource(t)
	dsn := testenv.PostgresDSN(t)
	dst, err := pgstore.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	if err := dst.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		CREATE FUNCTION tamper() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.id = 'req-000007' THEN
				NEW.doc := NEW.doc || '{"module": "tampered"}';
				NEW.raw := NULL;
			END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER tamper BEFORE INSERT ON tfpilot_requests FOR EACH ROW EXECUTE FUNCTION tamper();`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := migrate.Copy(ctx, src, dst, &migrate.CopyOptions{Concurrency: 4, BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() || len(res.Mismatches) != 1 || res.Mismatches[0].Kind != store.KindRequest || res.Mismatches[0].Key != "req-000007" {
		t.Fatalf("Copy into a target that rewrote req-000007: OK %v, mismatches %+v; want that request named", res.OK(), res.Mismatches)
	}
	for _, k := range res.Kinds {
		if k.Kind != store.KindRequest && !k.Match() {
			t.Errorf("%s: source %+v, target %+v; want a match", k.Kind, k.Source, k.Target)
		}
	}
}
