package tfpilot_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store/memstore"
	"github.com/tfpilot/tfpilot/store/pgstore"
)

// env is a Pilot over a real memstore and a real githubx client talking
// to the githubtest fake, all on one manual clock.
type env struct {
	t     testing.TB
	ctx   context.Context
	clock *githubtest.ManualClock
	fake  *githubtest.Fake
	gh    *githubx.Client
	store tfpilot.Store
	pilot *tfpilot.Pilot
}

var (
	dev      = tfpilot.Caller{Principal: tfpilot.Principal{Login: "dana"}}
	approver = tfpilot.Caller{Principal: tfpilot.Principal{Login: "abe"}}
	viewer   = tfpilot.Caller{Principal: tfpilot.Principal{Login: "vic"}}
)

const baseFile = `# Managed partly by people.
terraform {
  required_version = ">= 1.5"
}

# tfpilot:begin/other-request
module "s3_bucket_other_request" {
  source = "../../modules/s3-bucket"

  bucket_name = "other"
}
# tfpilot:end/other-request
`

func catalog(t testing.TB) *tfpilot.Catalog {
	c, err := tfpilot.NewCatalog(tfpilot.Module{
		Name: "s3_bucket", Source: "../../modules/s3-bucket", Version: "1.0.0",
		Fields: []tfpilot.Field{
			{Name: "bucket_name", Type: tfpilot.FieldString, Required: true, Pattern: `[a-z0-9-]{3,63}`},
			{Name: "versioning", Type: tfpilot.FieldBool, Default: true},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type envOption func(*tfpilot.Config, *tfpilot.Store)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	clock := githubtest.NewManualClock(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	fake := githubtest.New(githubtest.Options{Clock: clock})
	t.Cleanup(fake.Close)
	if _, err := fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra",
		Files: map[string]string{"envs/dev/tfpilot.tf": baseFile, "README.md": "infra\n"}}); err != nil {
		t.Fatal(err)
	}
	gh, err := githubx.New(githubx.Options{BaseURL: fake.URL(), AllowInsecureHTTP: true, Token: "test-token", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var store tfpilot.Store = memstore.New(&memstore.Options{Now: clock.Now})
	cfg := tfpilot.Config{
		Targets: tfpilot.StaticTargets{"payments/dev": {Owner: "acme", Repo: "infra", EnvPath: "envs/dev"}},
		Catalog: catalog(t),
		Authorizer: tfpilot.RoleAuthorizer{
			Developers: []string{"dana"}, Approvers: []string{"abe"},
		},
		// GitHub logins of the fake's reviewers; "mallory" reviews on
		// GitHub but maps to no principal.
		Reviewers: map[string]tfpilot.Principal{"abe": {Login: "abe"}, "dana": {Login: "dana"}},
		Now:       clock.Now,
	}
	for _, o := range opts {
		o(&cfg, &store)
	}
	p, err := tfpilot.New(store, gh, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: context.Background(), clock: clock, fake: fake, gh: gh, store: store, pilot: p}
}

func (e *env) create(bucket string) *tfpilot.Request {
	e.t.Helper()
	r, err := e.pilot.Create(e.ctx, dev, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
		Config: map[string]any{"bucket_name": bucket}})
	if err != nil {
		e.t.Fatalf("Create: %v", err)
	}
	return r.Request
}

func (e *env) status(id string) lifecycle.Status {
	e.t.Helper()
	v, err := e.pilot.Get(e.ctx, dev.Principal, id)
	if err != nil {
		e.t.Fatalf("Get: %v", err)
	}
	return v.Status
}

func (e *env) sync(id string) *tfpilot.Request {
	e.t.Helper()
	r, err := e.pilot.Sync(e.ctx, dev, id)
	if err != nil {
		e.t.Fatalf("Sync: %v", err)
	}
	return r.Request
}

// finish completes the current attempt of kind on the fake with
// conclusion and syncs.
func (e *env) finish(id string, kind runs.Kind, conclusion string) *tfpilot.Request {
	e.t.Helper()
	r, err := e.store.GetRequest(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	a, ok := runs.Current(r.Runs, kind)
	if !ok || a.RunID == 0 {
		e.t.Fatalf("no %s run to finish: %+v", kind, r.Runs.Op(kind))
	}
	if err := e.fake.Complete(a.RunID, conclusion); err != nil {
		e.t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	return e.sync(id)
}

func (e *env) want(id string, s lifecycle.Status) {
	e.t.Helper()
	if got := e.status(id); got != s {
		e.t.Fatalf("status = %s, want %s", got, s)
	}
}

// runsOf counts the fake's runs of one workflow file.
func (e *env) runsOf(file string) []githubtest.Run {
	var out []githubtest.Run
	for _, r := range e.fake.Runs("acme", "infra") {
		if r.WorkflowFile == file {
			out = append(out, r)
		}
	}
	return out
}

// nthWriteFailingStore fails the write calls whose 1-based number fail names,
// and counts every write. It wraps a real store.
type nthWriteFailingStore struct {
	tfpilot.Store
	armed  atomic.Bool
	writes atomic.Int64
	fail   int64
}

// hit counts a write while armed and fails the fail-th one.
func (s *nthWriteFailingStore) hit() error {
	if !s.armed.Load() {
		return nil
	}
	if n := s.writes.Add(1); n == s.fail {
		return fmt.Errorf("write %d: %w", n, errInjected)
	}
	return nil
}

func withNthWriteFailing(fs **nthWriteFailingStore, fail int64) envOption {
	return func(_ *tfpilot.Config, s *tfpilot.Store) {
		*fs = &nthWriteFailingStore{Store: *s, fail: fail}
		*s = *fs
	}
}

func (s *nthWriteFailingStore) CreateRequest(ctx context.Context, r *tfpilot.Request) (*tfpilot.Request, error) {
	if err := s.hit(); err != nil {
		return nil, err
	}
	return s.Store.CreateRequest(ctx, r)
}

func (s *nthWriteFailingStore) UpdateRequest(ctx context.Context, r *tfpilot.Request) (*tfpilot.Request, error) {
	if err := s.hit(); err != nil {
		return nil, err
	}
	return s.Store.UpdateRequest(ctx, r)
}

func (s *nthWriteFailingStore) IndexRun(ctx context.Context, k runs.Kind, id int64, req string) error {
	if err := s.hit(); err != nil {
		return err
	}
	return s.Store.IndexRun(ctx, k, id, req)
}

func (s *nthWriteFailingStore) IndexPR(ctx context.Context, pr tfpilot.PRRef, req string) error {
	if err := s.hit(); err != nil {
		return err
	}
	return s.Store.IndexPR(ctx, pr, req)
}

func (s *nthWriteFailingStore) AppendEvent(ctx context.Context, ev tfpilot.Event) (tfpilot.Event, error) {
	if err := s.hit(); err != nil {
		return tfpilot.Event{}, err
	}
	return s.Store.AppendEvent(ctx, ev)
}

func (s *nthWriteFailingStore) PutIdempotency(ctx context.Context, rec tfpilot.IdempotencyRecord) error {
	if err := s.hit(); err != nil {
		return err
	}
	return s.Store.PutIdempotency(ctx, rec)
}

// slowStore adds latency to reads and writes of a real store, the way a
// networked database would, so that concurrent operations overlap.
type slowStore struct {
	tfpilot.Store
	delay time.Duration
}

func (s slowStore) GetRequest(ctx context.Context, id string) (*tfpilot.Request, error) {
	time.Sleep(s.delay)
	return s.Store.GetRequest(ctx, id)
}

func (s slowStore) UpdateRequest(ctx context.Context, r *tfpilot.Request) (*tfpilot.Request, error) {
	time.Sleep(s.delay)
	return s.Store.UpdateRequest(ctx, r)
}

// withPgstore replaces the memstore with a pgstore on a fresh database
// (skipped, or failed under TFPILOT_TEST_REQUIRE=postgres, without one).
func withPgstore(t testing.TB) envOption {
	return func(cfg *tfpilot.Config, s *tfpilot.Store) {
		ctx := context.Background()
		ps, err := pgstore.Open(ctx, testenv.PostgresDSN(t), &pgstore.Options{Now: cfg.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ps.Close() })
		if err := ps.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		*s = ps
	}
}

func withSlowStore(d time.Duration) envOption {
	return func(_ *tfpilot.Config, s *tfpilot.Store) { *s = slowStore{Store: *s, delay: d} }
}

// overlapBackends are the stores the concurrency tests run on: memstore
// with a millisecond of latency per call (so concurrent calls overlap)
// and PostgreSQL.
var overlapBackends = []struct {
	name string
	opt  func(t *testing.T) envOption
}{
	{"memstore", func(*testing.T) envOption { return withSlowStore(time.Millisecond) }},
	{"pgstore", func(t *testing.T) envOption { return withPgstore(t) }},
}
