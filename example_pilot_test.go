package tfpilot_test

import (
	"context"
	"fmt"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// Embedding the engine: a catalogue, where each environment's Terraform
// lives, a store and a GitHub client. Here GitHub is the in-process fake
// from githubx/githubtest, as in a test suite.
func ExamplePilot() {
	ctx := context.Background()
	fake := githubtest.New(githubtest.Options{})
	defer fake.Close()
	fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra", Files: map[string]string{"envs/dev/main.tf": "# infra\n"}})
	gh, _ := githubx.New(githubx.Options{BaseURL: fake.URL(), AllowInsecureHTTP: true, Token: "token"})

	catalog, _ := tfpilot.NewCatalog(tfpilot.Module{Name: "s3_bucket", Source: "../../modules/s3-bucket",
		Fields: []tfpilot.Field{{Name: "bucket_name", Type: tfpilot.FieldString, Required: true}}})
	pilot, err := tfpilot.New(memstore.New(nil), gh, tfpilot.Config{
		Catalog:    catalog,
		Targets:    tfpilot.StaticTargets{"payments/dev": {Owner: "acme", Repo: "infra", EnvPath: "envs/dev"}},
		Authorizer: tfpilot.RoleAuthorizer{Developers: []string{"alice"}},
	})
	if err != nil {
		panic(err)
	}
	alice := tfpilot.Caller{Principal: tfpilot.Principal{Login: "alice"}, IdempotencyKey: "portal-form-1"}
	v, err := pilot.Create(ctx, alice, tfpilot.CreateInput{Project: "payments", Environment: "dev", Module: "s3_bucket",
		Config: map[string]any{"bucket_name": "reports"}})
	if err != nil {
		panic(err)
	}
	// Every method answers a View: the document (v.ID, v.PR, ...) with
	// its derived status and when to poll again, as Get would.
	fmt.Println(v.Status, v.BranchName == "tfpilot/"+v.ID, v.PR.Open, v.NextPoll)
	// Output:
	// planning true true 10s
}
