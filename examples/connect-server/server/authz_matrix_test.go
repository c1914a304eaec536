package server_test

import (
	"context"
	"fmt"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/tfpilot/tfpilot"
)

// TestAuthz_EveryRPCByRoleTargetAndOwnership is the access matrix of the
// reference server: every RPC of the service descriptors × role ×
// protected or unprotected target × the caller's own request or another's,
// each cell with its expected answer: denied (permission_denied) or let
// through to the request's gates (any answer but permission_denied,
// unauthenticated, not_found or internal). A method missing from the
// table fails the test, so a new RPC needs a decision.
func TestAuthz_EveryRPCByRoleTargetAndOwnership(t *testing.T) {
	t.Parallel()
	authz := tfpilot.RoleAuthorizer{
		ProductionEnvironments: []string{"prod"},
		// Every role above viewer may change protected requests; only
		// the admin may destroy there.
		ProductionAllowed:        []string{"developer", "approver", "admin"},
		ProductionDestroyAllowed: []string{"admin"},
	}
	e := newEnv(t, newMemstore(), envOptions{authorizer: authz})
	ctx := ctxT(t)

	roles := []struct {
		role  tfpilot.Role
		token string
	}{
		{tfpilot.RoleViewer, viewerToken}, {tfpilot.RoleDeveloper, developerToken},
		{tfpilot.RoleApprover, approverToken}, {tfpilot.RoleAdmin, adminToken},
	}
	// requests[env][owner] is a request in env created by owner, approved
	// by "reviewer" (so a protected destroy has someone else's approval).
	requests := map[string]map[string]string{}
	for _, env := range []string{"dev", "prod"} {
		requests[env] = map[string]string{}
		for _, owner := range []string{"viewer", "developer", "approver", "admin", "stranger"} {
			creator := tfpilot.Caller{Principal: tfpilot.Principal{Login: "admin", Roles: []tfpilot.Role{tfpilot.RoleAdmin}}}
			r, err := e.pilot.Create(ctx, creator, tfpilot.CreateInput{Project: "payments", Environment: env, Module: "s3_bucket",
				Config: map[string]any{"bucket": fmt.Sprintf("payments-%s-%s", env, owner)}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tfpilot.Mutate(ctx, e.store, r.ID, func(r *tfpilot.Request) error {
				r.CreatedBy = owner
				head := r.PR.HeadSHA
				r.Approval = &tfpilot.Approval{Approved: true, Approvers: []string{"reviewer"}, HeadSHA: head,
					Grants: []tfpilot.ApprovalGrant{{Principal: "reviewer", HeadSHA: head, Source: tfpilot.ApprovalSourceAPI}}}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			requests[env][owner] = r.ID
		}
	}

	rank := map[tfpilot.Role]int{tfpilot.RoleViewer: 1, tfpilot.RoleDeveloper: 2, tfpilot.RoleApprover: 3, tfpilot.RoleAdmin: 4}
	// allowed is the expected answer of a cell.
	allowed := map[protoreflect.Name]func(role tfpilot.Role, protected, own bool) bool{
		"Get":         func(tfpilot.Role, bool, bool) bool { return true },
		"List":        func(tfpilot.Role, bool, bool) bool { return true },
		"ListEvents":  func(tfpilot.Role, bool, bool) bool { return true },
		"Watch":       func(tfpilot.Role, bool, bool) bool { return true },
		"Sync":        func(tfpilot.Role, bool, bool) bool { return true },
		"GetInsights": func(tfpilot.Role, bool, bool) bool { return true },
		// The catalogue is for every caller (ListTargets filters by role).
		"ListModules":  func(tfpilot.Role, bool, bool) bool { return true },
		"GetModule":    func(tfpilot.Role, bool, bool) bool { return true },
		"ListTargets":  func(tfpilot.Role, bool, bool) bool { return true },
		"ListPolicies": func(tfpilot.Role, bool, bool) bool { return true },
		"Create":       func(r tfpilot.Role, _, _ bool) bool { return rank[r] >= 2 },
		// Developers act on their own requests; approvers and admins on any.
		"UpdateConfig": func(r tfpilot.Role, _, own bool) bool { return rank[r] >= 3 || rank[r] == 2 && own },
		"Plan":         func(r tfpilot.Role, _, own bool) bool { return rank[r] >= 3 || rank[r] == 2 && own },
		"Destroy": func(r tfpilot.Role, protected, own bool) bool {
			if protected {
				return r == tfpilot.RoleAdmin // the destroy allow-list
			}
			return rank[r] >= 3 || rank[r] == 2 && own
		},
		// Nobody approves their own request (the target does not allow it).
		"Approve": func(r tfpilot.Role, _, own bool) bool { return rank[r] >= 3 && !own },
		"Merge":   func(r tfpilot.Role, _, _ bool) bool { return rank[r] >= 3 },
		"Apply":   func(r tfpilot.Role, _, _ bool) bool { return rank[r] >= 3 },

		"GetCost": func(tfpilot.Role, bool, bool) bool { return true },
		// Listing the drift-eligible requests is a read.
		"ListDriftEligible": func(tfpilot.Role, bool, bool) bool { return true },
		// A drift check is a plan that changes nothing, and Cancel a
		// change: both as Plan and UpdateConfig. Cancel comes last in
		// the service, so the requests it archives serve no later cell
		// (a second cancel of an archived request is let through).
		"StartDriftCheck": func(r tfpilot.Role, _, own bool) bool { return rank[r] >= 3 || rank[r] == 2 && own },
		"Cancel":          func(r tfpilot.Role, _, own bool) bool { return rank[r] >= 3 || rank[r] == 2 && own },
	}

	cells := 0
	for _, md := range methods() {
		may, ok := allowed[md.Name()]
		if !ok {
			t.Errorf("method %s is not in the access matrix: decide who may call it", md.FullName())
			continue
		}
		for _, rl := range roles {
			for _, env := range []string{"dev", "prod"} {
				for _, own := range []bool{true, false} {
					owner := "stranger"
					if own {
						owner = string(rl.role)
					}
					cells++
					want := may(rl.role, env == "prod", own)
					err := callWith(ctx, e, md, rl.token, requests[env][owner], env)
					code := connect.Code(0)
					if err != nil {
						code = connect.CodeOf(err)
					}
					cell := fmt.Sprintf("%s by %s in %s on %s request", md.Name(), rl.role, env, map[bool]string{true: "own", false: "another's"}[own])
					switch {
					case want && (code == connect.CodePermissionDenied || code == connect.CodeUnauthenticated ||
						code == connect.CodeNotFound || code == connect.CodeInternal || code == connect.CodeUnknown):
						t.Errorf("%s: %v; want let through", cell, err)
					case !want && code != connect.CodePermissionDenied:
						t.Errorf("%s: code %v (%v); want permission_denied", cell, code, err)
					}
				}
			}
		}
	}
	t.Logf("access matrix: %d cells (%d methods × %d roles × 2 targets × 2 owners)", cells, len(methods()), len(roles))
}

// callWith invokes md as token with "id" set to id and, for Create, the
// project, environment and module of a request in env.
func callWith(ctx context.Context, e *env, md protoreflect.MethodDescriptor, token, id, env string) error {
	init := func(spec connect.Spec, msg any) error {
		if m, ok := msg.(*dynamicpb.Message); ok {
			*m = *dynamicpb.NewMessage(md.Output())
		}
		return nil
	}
	url := fmt.Sprintf("%s/%s/%s", e.url, md.Parent().FullName(), md.Name())
	client := connect.NewClient[dynamicpb.Message, dynamicpb.Message](e.httpClient(token), url,
		connect.WithSchema(md), connect.WithResponseInitializer(init))
	in := dynamicpb.NewMessage(md.Input())
	set := func(name, v string) {
		if f := md.Input().Fields().ByName(protoreflect.Name(name)); f != nil && f.Kind() == protoreflect.StringKind {
			in.Set(f, protoreflect.ValueOfString(v))
		}
	}
	set("id", id)
	set("project", "payments")
	set("environment", env)
	set("module", "s3_bucket")
	set("name", "s3_bucket")
	if md.IsStreamingServer() {
		stream, err := client.CallServerStream(ctx, connect.NewRequest(in))
		if err != nil {
			return err
		}
		defer stream.Close()
		if stream.Receive() {
			return nil
		}
		return stream.Err()
	}
	_, err := client.CallUnary(ctx, connect.NewRequest(in))
	return err
}
