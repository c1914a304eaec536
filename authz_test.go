package tfpilot

import (
	"context"
	"errors"
	"testing"
)

func TestRoleAuthorizer_RolesOwnershipAndProtectedAllowLists(t *testing.T) {
	t.Parallel()
	a := RoleAuthorizer{
		Admins: []string{"root"}, Approvers: []string{"ann"}, Developers: []string{"dev", "member"},
		ProjectMembers:         map[string][]string{"pay": {"member"}},
		ProductionEnvironments: []string{"prod"}, ProductionAllowed: []string{"ann"}, ProductionDestroyAllowed: []string{"root"},
	}
	dev := &Request{ID: "req-1", Environment: "dev", CreatedBy: "dev"}
	prod := &Request{ID: "req-2", Environment: "prod", CreatedBy: "ann", PR: &PullRequest{HeadSHA: "h"},
		Approval: &Approval{Approved: true, Approvers: []string{"ann"}, HeadSHA: "h"}}
	prodSelf := &Request{ID: "req-3", Environment: "prod", CreatedBy: "root", PR: &PullRequest{HeadSHA: "h"},
		Approval: &Approval{Approved: true, Approvers: []string{"root"}, HeadSHA: "h"}}
	other := &Request{ID: "req-4", Project: "pay", Environment: "dev", CreatedBy: "someone"}
	tests := []struct {
		login string
		roles []Role
		act   Action
		r     *Request
		want  error
	}{
		{"", nil, ActionRead, dev, ErrUnauthenticated},
		{"guest", nil, ActionRead, dev, nil},
		{"guest", nil, ActionCreate, nil, ErrPermissionDenied},
		{"dev", nil, ActionCreate, nil, nil},
		{"dev", nil, ActionDestroy, dev, nil},
		{"dev", nil, ActionApprove, dev, ErrPermissionDenied},
		{"dev", nil, ActionApply, dev, ErrPermissionDenied},
		{"ann", nil, ActionApprove, prod, nil},
		{"ann", nil, ActionApply, prod, nil},
		{"ann", nil, ActionDestroy, prod, ErrPermissionDenied},
		{"root", nil, ActionApply, prod, ErrPermissionDenied}, // admins need the allow-list too
		{"root", nil, ActionDestroy, prod, nil},
		{"root", nil, ActionMerge, dev, nil},
		{"tok", []Role{RoleApprover}, ActionMerge, dev, nil}, // role from the token
		{"tok", []Role{"superuser"}, ActionPlan, dev, ErrPermissionDenied},
		{"dev", nil, ActionCreate, prod, ErrPermissionDenied},
		{"dev", nil, ActionDestroy, other, ErrPermissionDenied}, // not theirs
		{"dev", nil, ActionUpdate, other, ErrPermissionDenied},
		{"dev", nil, ActionPlan, other, ErrPermissionDenied},
		{"member", nil, ActionDestroy, other, nil}, // their project's
		{"ann", nil, ActionDestroy, other, nil},    // approvers act on any request
		{"ann", nil, ActionUpdate, prod, nil},
		{"root", nil, ActionUpdate, prod, ErrPermissionDenied}, // update and plan need the allow-list too
		{"root", nil, ActionPlan, prod, ErrPermissionDenied},
		{"ann", nil, ActionPlan, prod, nil},
		{"root", nil, ActionApprove, prod, ErrPermissionDenied},
		{"root", nil, ActionDestroy, prodSelf, ErrPermissionDenied}, // only their own approval
	}
	for _, tt := range tests {
		err := a.Authorize(context.Background(), Principal{Login: tt.login, Roles: tt.roles}, tt.act, tt.r)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			env := "-"
			if tt.r != nil {
				env = tt.r.Environment
			}
			t.Errorf("%s %s in %s: err = %v, want %v", tt.login, tt.act, env, err, tt.want)
		}
	}
}

func TestPolicyChecks(t *testing.T) {
	t.Parallel()
	naming, err := NamingRule("bucket_name", `{project}-{environment}-[a-z0-9-]+`)
	if err != nil {
		t.Fatal(err)
	}
	regions := RegionAllowList("region", "eu-west-1", "eu-central-1")
	r := &Request{Project: "pay.ments", Environment: "dev", Config: map[string]any{"bucket_name": "pay.ments-dev-logs", "region": "eu-west-1"}}
	if v := append(naming(r), regions(r)...); len(v) != 0 {
		t.Fatalf("violations %v", v)
	}
	r.Config = map[string]any{"bucket_name": "payXments-dev-logs", "region": "us-east-1"}
	if v := naming(r); len(v) != 1 || v[0].Field != "config.bucket_name" {
		t.Fatalf("naming: quoted project must not act as a regexp: %v", v)
	}
	if v := regions(r); len(v) != 1 || v[0].Field != "config.region" {
		t.Fatalf("regions: %v", v)
	}
	if _, err := NamingRule("x", "("); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad pattern err = %v", err)
	}
}

// TestNamingRule_NeverPanicsOnInput: a placeholder inside a character
// class is refused when the rule is built, and a check never panics
// whatever the request's values (a fuzz target covers the rest).
func TestNamingRule_NeverPanicsOnInput(t *testing.T) {
	t.Parallel()
	if _, err := NamingRule("bucket", `[{project}a-z]+`); !errors.Is(err, ErrInvalid) {
		t.Fatalf("placeholder in a character class: err = %v, want ErrInvalid", err)
	}
	rule, err := NamingRule("bucket", `{project}-{environment}-[a-z]+`)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a-b", "]", `\`, "(", "x{2", ""} {
		r := &Request{Project: p, Environment: "dev", Config: map[string]any{"bucket": p + "-dev-logs"}}
		if v := rule(r); len(v) != 0 {
			t.Errorf("project %q: %v", p, v)
		}
	}
}

func FuzzNamingRule_NeverPanics(f *testing.F) {
	f.Add(`[{project}a-z]+`, "a-b", "x")
	f.Add(`{project}-{environment}-[a-z0-9-]+`, "pay", "pay-dev-x")
	f.Fuzz(func(t *testing.T, pattern, project, value string) {
		rule, err := NamingRule("f", pattern)
		if err != nil {
			return
		}
		_ = rule(&Request{Project: project, Environment: project, Module: project, Config: map[string]any{"f": value}})
	})
}
