package tfpilot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Target is where a project/environment's Terraform lives.
type Target struct {
	// Owner and Repo name the infra repository.
	Owner string
	Repo  string
	// Base is the branch pull requests merge into. Default "main".
	Base string
	// EnvPath is the environment's folder, e.g. "envs/dev".
	EnvPath string
	// File is the file tfpilot writes its blocks into, relative to
	// EnvPath. Default "tfpilot.tf".
	File string
	// AllowSelfApproval lets a requester's own approval count for their
	// request in this target. Default false: someone else must approve.
	AllowSelfApproval bool
}

func (t Target) path() string {
	f := t.File
	if f == "" {
		f = "tfpilot.tf"
	}
	if t.EnvPath == "" {
		return f
	}
	return t.EnvPath + "/" + f
}

func (t Target) base() string {
	if t.Base == "" {
		return "main"
	}
	return t.Base
}

// Targets resolves the [Target] of a project and environment.
type Targets interface {
	Target(project, environment string) (Target, error)
}

// StaticTargets is a [Targets] from a map keyed "project/environment".
type StaticTargets map[string]Target

// Target implements [Targets]. An unknown pair is an [ErrInvalid] error.
func (s StaticTargets) Target(project, environment string) (Target, error) {
	t, ok := s[project+"/"+environment]
	if !ok || t.Owner == "" || t.Repo == "" {
		return Target{}, invalid("environment", fmt.Sprintf("no infra repository is configured for %s/%s", project, environment))
	}
	return t, nil
}

// TargetKey names a target: a project and one of its environments.
type TargetKey struct {
	Project     string
	Environment string
}

// TargetLister is implemented by [Targets] that can list the pairs they
// know, so that [Pilot.CreateTargets] can tell a portal where a caller
// may create requests. [StaticTargets] implements it.
type TargetLister interface {
	TargetKeys() []TargetKey
}

// TargetKeys implements [TargetLister]: every configured pair, sorted by
// project then environment.
func (s StaticTargets) TargetKeys() []TargetKey {
	out := make([]TargetKey, 0, len(s))
	for k, t := range s {
		project, env, ok := strings.Cut(k, "/")
		if !ok || t.Owner == "" || t.Repo == "" {
			continue
		}
		out = append(out, TargetKey{Project: project, Environment: env})
	}
	slices.SortFunc(out, func(a, b TargetKey) int {
		return cmp.Or(cmp.Compare(a.Project, b.Project), cmp.Compare(a.Environment, b.Environment))
	})
	return out
}

// TargetInfo is a target as a portal shows it to a caller who may create
// requests there.
type TargetInfo struct {
	Project     string
	Environment string
	// Protected reports a protected (production) environment, where
	// each change needs the allow-lists (see [RoleAuthorizer]).
	Protected bool
	// AllowSelfApproval reports whether a requester's own approval
	// counts in this target.
	AllowSelfApproval bool
	// Approvers are the known logins that may approve a request in the
	// target: those named by a [RoleAuthorizer]'s lists and by
	// [Config.Reviewers], each checked with the Authorizer. Logins that
	// hold a role only through their token are not known here.
	Approvers []string
}

// ErrTargetsNotListable is returned by [Pilot.CreateTargets] when the
// configured [Targets] do not implement [TargetLister].
var ErrTargetsNotListable = errors.New("the configured targets cannot be listed")

// Catalog returns the module catalogue the engine validates requests
// against (for portals: [Module.JSONSchema] of each module).
func (p *Pilot) Catalog() *Catalog { return p.cfg.Catalog }

// Policies describes the policy checks the engine runs on create and
// update ([Config.PolicyInfo]).
func (p *Pilot) Policies() []PolicyInfo { return slices.Clone(p.cfg.PolicyInfo) }

// CreateTargets returns the targets in which who may create requests, as
// the Authorizer decides for a request of who's in each, sorted by
// project then environment.
func (p *Pilot) CreateTargets(ctx context.Context, who Principal) ([]TargetInfo, error) {
	lister, ok := p.cfg.Targets.(TargetLister)
	if !ok {
		return nil, fmt.Errorf("%w (%T does not implement TargetLister)", ErrTargetsNotListable, p.cfg.Targets)
	}
	var out []TargetInfo
	for _, k := range lister.TargetKeys() {
		t, err := p.cfg.Targets.Target(k.Project, k.Environment)
		if err != nil {
			continue
		}
		draft := &Request{Project: k.Project, Environment: k.Environment, CreatedBy: who.Login}
		err = p.cfg.Authorizer.Authorize(ctx, who, ActionCreate, draft)
		switch {
		case errors.Is(err, ErrPermissionDenied):
			continue
		case err != nil:
			return nil, err
		}
		info := TargetInfo{Project: k.Project, Environment: k.Environment, AllowSelfApproval: t.AllowSelfApproval}
		if pr, ok := p.cfg.Authorizer.(interface{ Protected(*Request) bool }); ok {
			info.Protected = pr.Protected(draft)
		}
		for _, c := range p.approverCandidates() {
			if p.cfg.Authorizer.Authorize(ctx, c, ActionApprove, &Request{Project: k.Project, Environment: k.Environment}) == nil {
				info.Approvers = append(info.Approvers, c.Login)
			}
		}
		out = append(out, info)
	}
	return out, nil
}

// approverCandidates are the principals the configuration names: a role
// authorizer's lists and the reviewers, one per login, sorted.
func (p *Pilot) approverCandidates() []Principal {
	byLogin := map[string]Principal{}
	add := func(ps ...Principal) {
		for _, pr := range ps {
			if pr.Login == "" {
				continue
			}
			have := byLogin[pr.Login]
			have.Login = pr.Login
			have.Roles = append(have.Roles, pr.Roles...)
			byLogin[pr.Login] = have
		}
	}
	var ra *RoleAuthorizer
	switch a := p.cfg.Authorizer.(type) {
	case RoleAuthorizer:
		ra = &a
	case *RoleAuthorizer:
		ra = a
	}
	if ra != nil {
		for _, l := range slices.Concat(ra.Admins, ra.Approvers, ra.ProductionAllowed) {
			add(Principal{Login: l})
		}
	}
	for _, r := range p.cfg.Reviewers {
		add(r)
	}
	out := make([]Principal, 0, len(byLogin))
	for _, pr := range byLogin {
		out = append(out, pr)
	}
	slices.SortFunc(out, func(a, b Principal) int { return cmp.Compare(a.Login, b.Login) })
	return out
}
