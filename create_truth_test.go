package tfpilot_test

import (
	"slices"
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/store"
)

func TestCreate_StoredRequestIsAnsweredWhenGitHubFailsLater(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// GitHub refuses to open the pull request (a definitive 422).
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointCreatePull, Kind: githubtest.FaultServerError, Status: 422})
	r, err := e.pilot.Create(e.ctx, dev, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
		Config: map[string]any{"bucket_name": "truthful"}})
	if err != nil {
		t.Fatalf("Create answered %v after storing the request; a client would create a duplicate", err)
	}
	if r.Request == nil || r.ID == "" || r.PR != nil {
		t.Fatalf("Create answered %+v", r)
	}
	if names := eventNames(t, e.store, r.ID); !slices.Contains(names, "provisioning_incomplete") {
		t.Fatalf("events %v lack provisioning_incomplete", names)
	}
	// Sync finishes what is left once GitHub accepts.
	if n := e.fake.PendingFaults(); n != 0 {
		t.Fatalf("%d injected faults did not fire", n)
	}
	e.sync(r.ID)
	e.want(r.ID, lifecycle.Planning)
	if got, _ := e.store.GetRequest(e.ctx, r.ID); got.PR == nil {
		t.Fatal("Sync did not open the pull request")
	}
}

func TestCreate_StalePRIndexEntryIsRepairedNotAFailure(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"memstore", "pgstore"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			var opts []envOption
			if backend == "pgstore" {
				opts = append(opts, withPgstore(t))
			}
			e := newEnv(t, opts...)
			// A row left by an earlier run of the simulator: PR #1 was
			// another request's.
			ref := tfpilot.PRRef{Owner: "acme", Repo: "infra", Number: 1}
			if err := e.store.IndexPR(e.ctx, ref, "req-from-an-earlier-run"); err != nil {
				t.Fatal(err)
			}
			r, err := e.pilot.Create(e.ctx, dev, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
				Config: map[string]any{"bucket_name": "reused"}})
			if err != nil {
				t.Fatalf("Create = %v; a stale index row is not a reason to fail", err)
			}
			if r.PR == nil || r.PR.Number != 1 {
				t.Fatalf("PR = %+v, want #1", r.PR)
			}
			if id, err := e.store.LookupPR(e.ctx, ref); err != nil || id != r.ID {
				t.Fatalf("PR index #1 = %q, %v; want it repaired to %s", id, err, r.ID)
			}
			if names := eventNames(t, e.store, r.ID); !slices.Contains(names, "pr_index_repaired") {
				t.Fatalf("events %v lack pr_index_repaired", names)
			}
			e.want(r.ID, lifecycle.Planning)
		})
	}
}

func TestSync_PRIndexEntryNamingAnotherRequestIsRepaired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.create("indexed")
	ref := tfpilot.PRRef{Owner: "acme", Repo: "infra", Number: r.PR.Number}
	// A stale row: the entry names a request of an earlier run.
	if err := e.store.(store.PRIndexRepairer).ReindexPR(e.ctx, ref, r.ID, "req-from-an-earlier-run"); err != nil {
		t.Fatal(err)
	}
	e.sync(r.ID)
	if id, err := e.store.LookupPR(e.ctx, ref); err != nil || id != r.ID {
		t.Fatalf("PR index after Sync = %q, %v; want %s", id, err, r.ID)
	}
}
