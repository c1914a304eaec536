package tfpilot_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// oneTarget is a Targets that cannot list its pairs.
type oneTarget struct{}

func (oneTarget) Target(string, string) (tfpilot.Target, error) {
	return tfpilot.Target{Owner: "acme", Repo: "infra", EnvPath: "envs/dev"}, nil
}

func newCatalogPilot(t *testing.T, targets tfpilot.Targets) *tfpilot.Pilot {
	t.Helper()
	cat, err := tfpilot.NewCatalog(tfpilot.Module{Name: "m", Source: "s"})
	if err != nil {
		t.Fatal(err)
	}
	gh, err := githubx.New(githubx.Options{BaseURL: "http://127.0.0.1:1/", AllowInsecureHTTP: true, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := tfpilot.New(memstore.New(nil), gh, tfpilot.Config{Targets: targets, Catalog: cat,
		Authorizer: tfpilot.RoleAuthorizer{Admins: []string{"root"}, Approvers: []string{"ann"}, Developers: []string{"dev"},
			ProductionEnvironments: []string{"prod"}, ProductionAllowed: []string{"root"}},
		Reviewers: map[string]tfpilot.Principal{"gh-bob": {Login: "bob", Roles: []tfpilot.Role{tfpilot.RoleApprover}}}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCreateTargets_AreThoseTheAuthorizerLetsTheCallerCreateIn: the
// targets answered are exactly the configured pairs for which the
// Authorizer allows create, each with the configured logins (lists and
// reviewers) it lets approve there.
func TestCreateTargets_AreThoseTheAuthorizerLetsTheCallerCreateIn(t *testing.T) {
	t.Parallel()
	p := newCatalogPilot(t, tfpilot.StaticTargets{
		"pay/dev":  {Owner: "acme", Repo: "infra", EnvPath: "envs/dev", AllowSelfApproval: true},
		"pay/prod": {Owner: "acme", Repo: "infra", EnvPath: "envs/prod"},
		"ops/dev":  {Owner: "acme", Repo: "ops", EnvPath: "dev"},
		"bad/dev":  {}, // no repository: not a target
	})
	for _, c := range []struct {
		login string
		want  []string
	}{
		{"nobody", nil},
		{"dev", []string{"ops/dev", "pay/dev"}},
		{"root", []string{"ops/dev", "pay/dev", "pay/prod"}},
	} {
		ts, err := p.CreateTargets(context.Background(), tfpilot.Principal{Login: c.login})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tg := range ts {
			got = append(got, tg.Project+"/"+tg.Environment)
			wantApprovers := []string{"ann", "bob", "root"}
			if tg.Environment == "prod" {
				wantApprovers = []string{"root"}
			}
			if !slices.Equal(tg.Approvers, wantApprovers) || tg.Protected != (tg.Environment == "prod") ||
				tg.AllowSelfApproval != (tg.Project == "pay" && tg.Environment == "dev") {
				t.Errorf("%s: %+v; want approvers %v", c.login, tg, wantApprovers)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: targets %v, want %v", c.login, got, c.want)
		}
	}
	if _, err := newCatalogPilot(t, oneTarget{}).CreateTargets(context.Background(), tfpilot.Principal{Login: "root"}); !errors.Is(err, tfpilot.ErrTargetsNotListable) {
		t.Errorf("Targets without TargetLister: %v, want ErrTargetsNotListable", err)
	}
}

func ExampleModule_JSONSchema() {
	cat, _ := tfpilot.NewCatalog(tfpilot.Module{Name: "queue", Source: "example/queue", Fields: []tfpilot.Field{
		{Name: "name", Type: tfpilot.FieldString, Required: true, Pattern: "[a-z-]+"},
		{Name: "fifo", Type: tfpilot.FieldBool, Default: false},
	}})
	m, _ := cat.Module("queue")
	schema, err := m.JSONSchema()
	if err != nil {
		panic(err)
	}
	fmt.Println(string(schema))
	// Output:
	// {"$id":"urn:tfpilot:module:queue","$schema":"https://json-schema.org/draft/2020-12/schema","additionalProperties":false,"properties":{"fifo":{"anyOf":[{"enum":[true,"1","t","T","TRUE","true","True",false,"0","f","F","FALSE","false","False"]},{"type":"null"},{"const":""}],"default":false},"name":{"anyOf":[{"pattern":"^(?:[a-z-]+)$","type":"string"}]}},"required":["name"],"title":"queue","type":"object"}
}
