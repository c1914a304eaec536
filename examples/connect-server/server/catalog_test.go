package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"connectrpc.com/connect"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/examples/connect-server/server"
	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
	"github.com/tfpilot/tfpilot/gen/tfpilot/v1/tfpilotv1connect"
)

func (e *env) catalog(token string, opts ...connect.ClientOption) tfpilotv1connect.CatalogServiceClient {
	return tfpilotv1connect.NewCatalogServiceClient(e.httpClient(token), e.url, opts...)
}

// TestCatalog_ModulesCarryTheValidatorsRulesAndSchema: ListModules and
// GetModule answer the engine's catalogue, each module with its fields'
// rules and a JSON Schema that accepts a config Create accepts and
// refuses one Create refuses.
func TestCatalog_ModulesCarryTheValidatorsRulesAndSchema(t *testing.T) {
	t.Parallel()
	e := newEnv(t, newMemstore(), envOptions{})
	ctx := ctxT(t)
	for _, proto := range [][]connect.ClientOption{nil, {connect.WithProtoJSON()}, {connect.WithGRPCWeb()}} {
		list, err := e.catalog(viewerToken, proto...).ListModules(ctx, connect.NewRequest(&pb.ListModulesRequest{}))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(list.Msg.GetModules()); n != 1 {
			t.Fatalf("%d modules, want 1", n)
		}
	}
	res, err := e.catalog(viewerToken).GetModule(ctx, connect.NewRequest(&pb.GetModuleRequest{Name: "s3_bucket"}))
	if err != nil {
		t.Fatal(err)
	}
	m := res.Msg.GetModule()
	if m.GetSource() != "terraform-aws-modules/s3-bucket/aws" || m.GetVersion() != "4.1.2" || len(m.GetFields()) != 2 {
		t.Fatalf("module %v", m)
	}
	bucket, versioning := m.GetFields()[0], m.GetFields()[1]
	if bucket.GetName() != "bucket" || bucket.GetType() != pb.FieldType_FIELD_TYPE_STRING || !bucket.GetRequired() || bucket.GetPattern() != "[a-z0-9-]{3,63}" {
		t.Errorf("bucket field %v", bucket)
	}
	if versioning.GetType() != pb.FieldType_FIELD_TYPE_BOOL || !versioning.GetDefaultValue().GetBoolValue() {
		t.Errorf("versioning field %v", versioning)
	}

	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(m.GetJsonSchema())))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("urn:s3_bucket", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("urn:s3_bucket")
	if err != nil {
		t.Fatal(err)
	}
	for i, cfg := range []string{`{"bucket":"payments-dev-schema"}`, `{"bucket":"Not Valid"}`, `{"bucket":"payments-dev-x","versioning":"maybe"}`, `{}`} {
		var in any
		_ = json.Unmarshal([]byte(cfg), &in)
		serr := schema.Validate(in)
		cm := createMsg("dev", "x")
		cfgStruct, err := structpb.NewStruct(in.(map[string]any))
		if err != nil {
			t.Fatal(err)
		}
		cm.Config = cfgStruct
		_, cerr := e.admin.Create(ctx, connect.NewRequest(cm))
		if (serr == nil) != (cerr == nil) {
			t.Errorf("config %d %s: schema says %v, Create says %v", i, cfg, serr, cerr)
		}
	}

	_, err = e.catalog(viewerToken).GetModule(ctx, connect.NewRequest(&pb.GetModuleRequest{Name: "nope"}))
	if c := codeOf(t, err); c != connect.CodeNotFound {
		t.Errorf("GetModule of an unknown module: %s, want not_found", c)
	}
	if r := errorInfo(t, err).GetReason(); r != "NOT_FOUND" {
		t.Errorf("reason %q, want NOT_FOUND", r)
	}
}

// TestCatalog_ListTargetsAnswersWhereTheCallerMayCreate: each role sees
// the targets its Authorizer lets it create in (the protected one only
// on the production allow-list), with the logins that may approve there.
func TestCatalog_ListTargetsAnswersWhereTheCallerMayCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, newMemstore(), envOptions{authorizer: tfpilot.RoleAuthorizer{
		Admins: []string{"admin"}, Approvers: []string{"approver", "carol"}, Developers: []string{"developer"},
		ProductionEnvironments: []string{"prod"}, ProductionAllowed: []string{"admin", "carol"}}})
	ctx := ctxT(t)
	want := map[string][]string{
		viewerToken:    nil,
		developerToken: {"payments/dev"},
		approverToken:  {"payments/dev"},
		adminToken:     {"payments/dev", "payments/prod"},
	}
	for token, targets := range want {
		res, err := e.catalog(token).ListTargets(ctx, connect.NewRequest(&pb.ListTargetsRequest{}))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tg := range res.Msg.GetTargets() {
			got = append(got, tg.GetProject()+"/"+tg.GetEnvironment())
			wantApprovers, wantProtected := []string{"admin", "approver", "carol"}, false
			if tg.GetEnvironment() == "prod" {
				wantApprovers, wantProtected = []string{"admin", "carol"}, true
			}
			if !slices.Equal(tg.GetApprovers(), wantApprovers) || tg.GetProtected() != wantProtected {
				t.Errorf("target %v: approvers %v protected %v, want %v %v", got, tg.GetApprovers(), tg.GetProtected(), wantApprovers, wantProtected)
			}
		}
		if !slices.Equal(got, targets) {
			t.Errorf("token %s…: targets %v, want %v", token[:6], got, targets)
		}
	}
}

// TestCatalog_ListPoliciesDescribesTheEnginesChecks answers the engine's
// policy descriptions, sorted by field.
func TestCatalog_ListPoliciesDescribesTheEnginesChecks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, newMemstore(), envOptions{policyInfo: []tfpilot.PolicyInfo{
		tfpilot.RegionAllowListInfo("region", "eu-west-1", "eu-central-1"),
		tfpilot.NamingRuleInfo("bucket", "{project}-{environment}-[a-z0-9-]+"),
	}})
	res, err := e.catalog(viewerToken).ListPolicies(ctxT(t), connect.NewRequest(&pb.ListPoliciesRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	ps := res.Msg.GetPolicies()
	if len(ps) != 2 || ps[0].GetName() != "naming" || ps[0].GetPattern() != "{project}-{environment}-[a-z0-9-]+" ||
		ps[1].GetName() != "region" || !slices.Equal(ps[1].GetAllowedValues(), []string{"eu-west-1", "eu-central-1"}) {
		t.Fatalf("policies %v", ps)
	}
}

// errorInfo returns the google.rpc.ErrorInfo detail of a Connect error.
func errorInfo(t *testing.T, err error) *errdetails.ErrorInfo {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("not a Connect error: %v", err)
	}
	for _, d := range ce.Details() {
		if v, derr := d.Value(); derr == nil {
			if info, ok := v.(*errdetails.ErrorInfo); ok {
				if info.GetDomain() != server.ErrorDomain {
					t.Errorf("ErrorInfo domain %q, want %q", info.GetDomain(), server.ErrorDomain)
				}
				return info
			}
		}
	}
	t.Fatalf("no ErrorInfo detail in %v", err)
	return nil
}
