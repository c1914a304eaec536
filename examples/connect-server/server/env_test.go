package server_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/examples/connect-server/server"
	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
	"github.com/tfpilot/tfpilot/gen/tfpilot/v1/tfpilotv1connect"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// Tokens of the test identities, one per role.
const (
	adminToken     = "admin-token-0123456789"
	approverToken  = "approver-token-0123456789"
	developerToken = "developer-token-0123456789"
	viewerToken    = "viewer-token-0123456789"
)

// env is a server over real HTTP, an engine over a store and a fake
// GitHub whose runs the test completes by hand.
type env struct {
	t     testing.TB
	fake  *githubtest.Fake
	store tfpilot.Store // the store under the notifying decorator
	hub   *server.Hub
	srv   *httptest.Server
	url   string
	// server and handler are the server under test; pilot its engine.
	server  *server.Server
	handler http.Handler
	pilot   *tfpilot.Pilot
	gh      *githubx.Client
	// admin is a generated Connect client authenticated as admin.
	admin    tfpilotv1connect.RequestServiceClient
	insights tfpilotv1connect.InsightsServiceClient
}

type envOptions struct {
	// watchPoll is the server's WatchPoll; default one hour, so that only
	// published changes wake a watcher.
	watchPoll time.Duration
	// wrap, when set, wraps the store under test (fault injection).
	wrap func(tfpilot.Store) tfpilot.Store
	// authorizer, when set, replaces the default role authorizer.
	authorizer tfpilot.Authorizer
	// policyInfo is the engine's Config.PolicyInfo.
	policyInfo []tfpilot.PolicyInfo
	// logger, when set, replaces the test log (WARN and above).
	logger *slog.Logger
	// github and options, when set, adjust the GitHub client's and the
	// server's options (tracing, metrics, readiness).
	github  func(*githubx.Options)
	options func(*server.Options)
}

func newEnv(t testing.TB, store tfpilot.Store, o envOptions) *env {
	t.Helper()
	fake := githubtest.New(githubtest.Options{})
	t.Cleanup(fake.Close)
	if _, err := fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra",
		Files: map[string]string{"envs/dev/main.tf": "# dev\n", "envs/prod/main.tf": "# prod\n"}}); err != nil {
		t.Fatal(err)
	}
	ghOpts := githubx.Options{BaseURL: fake.URL(), AllowInsecureHTTP: true, Token: "test"}
	if o.github != nil {
		o.github(&ghOpts)
	}
	gh, err := githubx.New(ghOpts)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := tfpilot.NewCatalog(tfpilot.Module{Name: "s3_bucket", Source: "terraform-aws-modules/s3-bucket/aws", Version: "4.1.2",
		Fields: []tfpilot.Field{
			{Name: "bucket", Type: tfpilot.FieldString, Required: true, Pattern: "[a-z0-9-]{3,63}"},
			{Name: "versioning", Type: tfpilot.FieldBool, Default: true},
		}})
	if err != nil {
		t.Fatal(err)
	}
	hub := server.NewHub()
	under := store
	if o.wrap != nil {
		under = o.wrap(store)
	}
	log := slog.New(slog.NewJSONHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if o.logger != nil {
		log = o.logger
	}
	var authz tfpilot.Authorizer = tfpilot.RoleAuthorizer{ProductionEnvironments: []string{"prod"},
		ProductionAllowed: []string{"admin"}, ProductionDestroyAllowed: []string{"admin"}}
	if o.authorizer != nil {
		authz = o.authorizer
	}
	pilot, err := tfpilot.New(server.Notify(under, hub), gh, tfpilot.Config{
		Targets: tfpilot.StaticTargets{
			"payments/dev":  {Owner: "acme", Repo: "infra", EnvPath: "envs/dev"},
			"payments/prod": {Owner: "acme", Repo: "infra", EnvPath: "envs/prod"},
		},
		Catalog:    cat,
		Authorizer: authz,
		Logger:     log,
		PolicyInfo: o.policyInfo,
	})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := server.NewTokens([]server.Token{
		{Login: "admin", Roles: []tfpilot.Role{tfpilot.RoleAdmin}, Token: adminToken},
		{Login: "approver", Roles: []tfpilot.Role{tfpilot.RoleApprover}, Token: approverToken},
		{Login: "developer", Roles: []tfpilot.Role{tfpilot.RoleDeveloper}, Token: developerToken},
		{Login: "viewer", Roles: []tfpilot.Role{tfpilot.RoleViewer}, Token: viewerToken},
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.watchPoll == 0 {
		o.watchPoll = time.Hour
	}
	srvOpts := server.Options{Pilot: pilot, Hub: hub, Tokens: tokens, Logger: log, WatchPoll: o.watchPoll}
	if o.options != nil {
		o.options(&srvOpts)
	}
	srv, err := server.New(srvOpts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Drain()
		hs.Close()
	})
	e := &env{t: t, fake: fake, store: store, hub: hub, srv: hs, url: hs.URL, server: srv, handler: srv.Handler(), pilot: pilot, gh: gh}
	e.admin = e.client(adminToken)
	e.insights = tfpilotv1connect.NewInsightsServiceClient(e.httpClient(adminToken), hs.URL)
	return e
}

// testWriter sends server logs to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// bearer adds an Authorization header to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.token != "" {
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.next.RoundTrip(r)
}

func (e *env) httpClient(token string) *http.Client {
	return &http.Client{Transport: bearer{token: token, next: e.srv.Client().Transport}}
}

// client returns a RequestService client sending token ("" for none).
func (e *env) client(token string, opts ...connect.ClientOption) tfpilotv1connect.RequestServiceClient {
	return tfpilotv1connect.NewRequestServiceClient(e.httpClient(token), e.url, opts...)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// create makes a dev request as admin.
func (e *env) create(bucket string) *pb.Request {
	e.t.Helper()
	res, err := e.admin.Create(ctxT(e.t), connect.NewRequest(createMsg("dev", bucket)))
	if err != nil {
		e.t.Fatalf("Create: %v", err)
	}
	return res.Msg.GetRequest()
}

func createMsg(environment, bucket string) *pb.CreateRequest {
	cfg, _ := structpb.NewStruct(map[string]any{"bucket": bucket})
	return &pb.CreateRequest{Project: "payments", Environment: environment, Module: "s3_bucket", Config: cfg}
}

// finishRun completes the current run of kind on request id in the fake
// GitHub, as the Actions runner would.
func (e *env) finishRun(id string, kind runs.Kind, conclusion string) {
	e.t.Helper()
	r, err := e.store.GetRequest(ctxT(e.t), id)
	if err != nil {
		e.t.Fatal(err)
	}
	a, ok := runs.Current(r.Runs, kind)
	if !ok || a.RunID == 0 {
		e.t.Fatalf("request %s has no %s run to finish: %+v", id, kind, r.Runs)
	}
	if err := e.fake.Complete(a.RunID, conclusion); err != nil {
		e.t.Fatal(err)
	}
}

// sync calls Sync as admin and returns the request.
func (e *env) sync(id string) *pb.Request {
	e.t.Helper()
	res, err := e.admin.Sync(ctxT(e.t), connect.NewRequest(&pb.SyncRequest{Id: id}))
	if err != nil {
		e.t.Fatalf("Sync: %v", err)
	}
	return res.Msg.GetRequest()
}

// codeOf returns err's Connect code, failing the test on a nil error.
func codeOf(t *testing.T, err error) connect.Code {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got none")
	}
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("not a Connect error: %v", err)
	}
	return ce.Code()
}

func newMemstore() tfpilot.Store { return memstore.New(nil) }

func getMsg(id string) *pb.GetRequest { return &pb.GetRequest{Id: id} }
