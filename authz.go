package tfpilot

import (
	"context"
	"fmt"
	"slices"
)

// Action is something a principal does to a request.
type Action string

// The actions [Authorizer] decides on.
const (
	ActionRead    Action = "read"
	ActionCreate  Action = "create"
	ActionUpdate  Action = "update"
	ActionPlan    Action = "plan"
	ActionApprove Action = "approve"
	ActionMerge   Action = "merge"
	ActionApply   Action = "apply"
	ActionDestroy Action = "destroy"
	ActionSync    Action = "sync"
	// ActionCancel closes a request's pull request and archives it.
	ActionCancel Action = "cancel"
	// ActionDriftCheck dispatches a drift check (a plan that changes
	// nothing) of an applied request.
	ActionDriftCheck Action = "drift_check"
)

// Role is a level of trust. Each role may do what the roles below it may.
type Role string

// Roles, lowest first.
const (
	RoleViewer    Role = "viewer"
	RoleDeveloper Role = "developer"
	RoleApprover  Role = "approver"
	RoleAdmin     Role = "admin"
)

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleDeveloper:
		return 2
	case RoleApprover:
		return 3
	case RoleAdmin:
		return 4
	}
	return 0
}

// Principal is the identity an operation runs as.
type Principal struct {
	// Login is the user's or service's name (a GitHub login, say).
	Login string
	// Roles are roles granted by the caller's identity provider (a
	// token's roles, say), on top of any the [Authorizer] assigns.
	Roles []Role
}

// Authorizer decides whether a principal may perform an action on a
// request. r is nil for [ActionCreate] before the request exists; then
// the request's project and environment are in the proposed document.
// It returns nil, or an error wrapping [ErrPermissionDenied] that says
// why.
type Authorizer interface {
	Authorize(ctx context.Context, p Principal, a Action, r *Request) error
}

// RoleAuthorizer is the default [Authorizer]: roles from configured lists
// and the principal's own roles, ownership of requests, and allow-lists
// for protected (production) environments. It is deliberately simple;
// embedders with other needs implement [Authorizer] themselves.
//
// The defaults, by role (each role may also do what the rows above it
// may):
//
//	role       unprotected environment                 protected environment (ProductionEnvironments)
//	viewer     read, sync                              read, sync
//	developer  create; update, plan, destroy, cancel,  as unprotected, each change also needing
//	           drift_check own or their project's      ProductionAllowed (destroy: ProductionDestroyAllowed)
//	           requests
//	approver   update, plan, destroy, cancel,          as unprotected, each change also needing
//	           drift_check any request; approve,       ProductionAllowed (destroy: ProductionDestroyAllowed)
//	           merge, apply
//	admin      everything                              as approver: the allow-lists are explicit
//
// "Own" means the request's CreatedBy is the login; "their project's"
// means the login is on ProjectMembers for the request's project. In a
// protected environment destroy also needs the request to hold a
// counting approval by someone other than the destroyer. The approval
// rules ([ApprovalRules]) add that the requester's own approval does not
// count unless the target allows it.
type RoleAuthorizer struct {
	Admins     []string
	Approvers  []string
	Developers []string
	// DefaultRole is the role of a login on no list; empty means viewer.
	DefaultRole Role
	// ProjectMembers maps a project to the logins whose developers may
	// update, plan and destroy any of its requests, not only their own.
	ProjectMembers map[string][]string
	// ProductionEnvironments names the protected environments the
	// allow-lists guard, e.g. "prod".
	ProductionEnvironments []string
	// ProductionAllowed guards every change in a protected environment
	// but destroy: create, update, plan, approve, merge and apply.
	// Empty means nobody may.
	ProductionAllowed []string
	// ProductionDestroyAllowed guards destroy in a protected
	// environment. Empty means nobody may destroy there.
	ProductionDestroyAllowed []string
}

// RoleOf returns the highest role p holds.
func (a RoleAuthorizer) RoleOf(p Principal) Role {
	best := a.DefaultRole
	if best.rank() == 0 {
		best = RoleViewer
	}
	consider := func(r Role) {
		if r.rank() > best.rank() {
			best = r
		}
	}
	for _, r := range p.Roles {
		consider(r)
	}
	switch {
	case slices.Contains(a.Admins, p.Login):
		consider(RoleAdmin)
	case slices.Contains(a.Approvers, p.Login):
		consider(RoleApprover)
	case slices.Contains(a.Developers, p.Login):
		consider(RoleDeveloper)
	}
	return best
}

func minRole(act Action) Role {
	switch act {
	case ActionRead:
		return RoleViewer
	case ActionSync:
		return RoleViewer
	case ActionCreate, ActionUpdate, ActionPlan, ActionDestroy, ActionCancel, ActionDriftCheck:
		return RoleDeveloper
	case ActionApprove, ActionMerge, ActionApply:
		return RoleApprover
	}
	return RoleAdmin
}

// Protected reports whether r's environment is protected.
func (a RoleAuthorizer) Protected(r *Request) bool {
	return r != nil && slices.Contains(a.ProductionEnvironments, r.Environment)
}

// Authorize implements [Authorizer].
func (a RoleAuthorizer) Authorize(_ context.Context, p Principal, act Action, r *Request) error {
	if p.Login == "" {
		return fmt.Errorf("%w: no login", ErrUnauthenticated)
	}
	role, need := a.RoleOf(p), minRole(act)
	if role.rank() < need.rank() {
		return fmt.Errorf("%w: %s needs role %s; %q has %s", ErrPermissionDenied, act, need, p.Login, role)
	}
	if r != nil && role == RoleDeveloper {
		switch act {
		case ActionUpdate, ActionPlan, ActionDestroy, ActionCancel, ActionDriftCheck:
			if r.CreatedBy != p.Login && !slices.Contains(a.ProjectMembers[r.Project], p.Login) {
				return fmt.Errorf("%w: %s of %s: developer %q may act only on their own or their project's requests", ErrPermissionDenied, act, r.ID, p.Login)
			}
		}
	}
	if !a.Protected(r) {
		return nil
	}
	switch act {
	case ActionCreate, ActionUpdate, ActionPlan, ActionApprove, ActionMerge, ActionApply, ActionCancel, ActionDriftCheck:
		if !slices.Contains(a.ProductionAllowed, p.Login) {
			return fmt.Errorf("%w: %s in protected environment %q needs %q on the production allow-list", ErrPermissionDenied, act, r.Environment, p.Login)
		}
	case ActionDestroy:
		if !slices.Contains(a.ProductionDestroyAllowed, p.Login) {
			return fmt.Errorf("%w: destroy in protected environment %q needs %q on the production destroy allow-list", ErrPermissionDenied, r.Environment, p.Login)
		}
		if !approvedByOther(r, p.Login) {
			return fmt.Errorf("%w: destroy in protected environment %q needs an approval by someone other than %q", ErrPermissionDenied, r.Environment, p.Login)
		}
	}
	return nil
}

// approvedByOther reports whether r holds a counting approval by a
// principal other than login.
func approvedByOther(r *Request, login string) bool {
	if !ApprovalCounts(r.Approval, r.ApprovalHead()) {
		return false
	}
	return slices.ContainsFunc(r.Approval.Approvers, func(a string) bool { return a != login })
}
