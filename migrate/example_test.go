package migrate_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot/lock"
	"github.com/tfpilot/tfpilot/migrate"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/memstore"
)

func ExampleAudit() {
	ctx := context.Background()
	now := time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)
	s := memstore.New(nil)
	r := &store.Request{ID: "req-1", Project: "payments", Environment: "dev", Module: "s3-bucket"}
	r.Runs.Plan = runs.Op{CurrentAttempt: 3, Attempts: []runs.Attempt{{Attempt: 1}, {Attempt: 2}}}
	r.Lock = &lock.Lock{Holder: "alice", Operation: "plan", ExpiresAt: now.Add(-time.Hour)}
	if _, err := s.CreateRequest(ctx, r); err != nil {
		fmt.Println(err)
		return
	}

	rep, err := migrate.Audit(ctx, s, &migrate.AuditOptions{Now: now})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range rep.Violations {
		fmt.Println(v)
	}
	// Output:
	// req-1 INV-CORE-4 plan: currentAttempt 3 names no attempt (attempts: 1, 2)
	// req-1 LOCK-EXPIRED lock held by "alice" for "plan" expired at 2025-06-01T23:00:00Z
}

func ExampleCopy() {
	ctx := context.Background()
	src, dst := memstore.New(nil), memstore.New(nil)
	for _, id := range []string{"req-1", "req-2"} {
		if _, err := src.CreateRequest(ctx, &store.Request{ID: id, Project: "payments", Environment: "dev", Module: "s3-bucket"}); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := src.IndexPR(ctx, store.PRRef{Owner: "acme", Repo: "infra", Number: 7}, "req-1"); err != nil {
		fmt.Println(err)
		return
	}

	for range 2 {
		res, err := migrate.Copy(ctx, src, dst, &migrate.CopyOptions{Kinds: []store.ItemKind{store.KindRequest, store.KindPRIndex}})
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, k := range res.Kinds {
			fmt.Printf("%s: read %d, written %d, unchanged %d, match %v\n", k.Kind, k.Read, k.Written, k.Unchanged, k.Match())
		}
	}
	// Output:
	// request: read 2, written 2, unchanged 0, match true
	// pr_index: read 1, written 1, unchanged 0, match true
	// request: read 2, written 0, unchanged 2, match true
	// pr_index: read 1, written 0, unchanged 1, match true
}
