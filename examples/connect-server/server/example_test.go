package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/examples/connect-server/server"
	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
	"github.com/tfpilot/tfpilot/gen/tfpilot/v1/tfpilotv1connect"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// authTransport sends a bearer token with every call.
type authTransport struct{ token string }

func (a authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+a.token)
	return http.DefaultTransport.RoundTrip(r)
}

// Wire the server over an engine, then call it with the generated Go
// client as any Go program would.
func ExampleNew() {
	// A simulated GitHub holding the infra repository.
	fake := githubtest.New(githubtest.Options{})
	defer fake.Close()
	fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra", Files: map[string]string{"envs/dev/main.tf": "\n"}})
	gh, _ := githubx.New(githubx.Options{BaseURL: fake.URL(), AllowInsecureHTTP: true, Token: "t"})

	// The engine over a store wrapped so that Watch hears of changes.
	hub := server.NewHub()
	catalog, _ := tfpilot.NewCatalog(tfpilot.Module{Name: "s3_bucket", Source: "terraform-aws-modules/s3-bucket/aws",
		Fields: []tfpilot.Field{{Name: "bucket", Type: tfpilot.FieldString, Required: true}}})
	pilot, _ := tfpilot.New(server.Notify(memstore.New(nil), hub), gh, tfpilot.Config{
		Targets: tfpilot.StaticTargets{"payments/dev": {Owner: "acme", Repo: "infra", EnvPath: "envs/dev"}},
		Catalog: catalog,
	})
	tokens, _ := server.NewTokens([]server.Token{{Login: "alice", Roles: []tfpilot.Role{tfpilot.RoleDeveloper}, Token: "alice-token-0123456789"}})
	srv, _ := server.New(server.Options{Pilot: pilot, Hub: hub, Tokens: tokens})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	// The client side.
	client := tfpilotv1connect.NewRequestServiceClient(
		&http.Client{Transport: authTransport{token: "alice-token-0123456789"}}, ts.URL)
	config, _ := structpb.NewStruct(map[string]any{"bucket": "payments-dev-reports"})
	req := connect.NewRequest(&pb.CreateRequest{Project: "payments", Environment: "dev", Module: "s3_bucket", Config: config})
	req.Header().Set("Idempotency-Key", "portal-form-42") // a retry creates nothing new
	res, err := client.Create(context.Background(), req)
	if err != nil {
		fmt.Println(connect.CodeOf(err), err)
		return
	}
	r := res.Msg.GetRequest()
	fmt.Println(r.GetStatus(), "pull request", r.GetPullRequest().GetNumber(), "on", r.GetBranchName() == "tfpilot/"+r.GetId())

	_, err = client.Approve(context.Background(), connect.NewRequest(&pb.ApproveRequest{Id: r.GetId()}))
	fmt.Println(connect.CodeOf(err))
	// Output:
	// STATUS_PLANNING pull request 1 on true
	// permission_denied
}
