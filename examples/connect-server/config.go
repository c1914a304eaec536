package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/examples/connect-server/server"
)

// fileConfig is the server's configuration file (--config): where each
// project/environment's Terraform lives, the module catalogue, naming and
// region policies, and who may do what.
type fileConfig struct {
	// Targets maps "project/environment" to its infra repository folder.
	Targets map[string]tfpilot.Target `json:"targets"`
	// Modules is the catalogue.
	Modules []tfpilot.Module `json:"modules"`
	// Policy holds optional checks run on create and update.
	Policy struct {
		// Naming maps a config field to a pattern (see tfpilot.NamingRule).
		Naming map[string]string `json:"naming"`
		// Regions restricts the "region" field, when set.
		Regions []string `json:"regions"`
	} `json:"policy"`
	// Authorizer configures role lists and production allow-lists (see
	// tfpilot.RoleAuthorizer). Token roles add to it.
	Authorizer tfpilot.RoleAuthorizer `json:"authorizer"`
	// Reviewers maps GitHub logins to tfpilot logins, so that a review on
	// GitHub approves as that principal (with the roles its token has).
	// A reviewer on no entry approves nothing (see tfpilot.ApprovalRules).
	Reviewers map[string]string `json:"reviewers"`
}

//go:embed demo.json
var demoConfig []byte

func loadConfig(path string) (fileConfig, error) {
	b := demoConfig
	if path != "" {
		var err error
		if b, err = os.ReadFile(path); err != nil {
			return fileConfig{}, err
		}
	}
	var c fileConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return fileConfig{}, fmt.Errorf("config %s: %w", orDemo(path), err)
	}
	if len(c.Targets) == 0 || len(c.Modules) == 0 {
		return fileConfig{}, fmt.Errorf("config %s: needs at least one target and one module", orDemo(path))
	}
	return c, nil
}

func orDemo(path string) string {
	if path == "" {
		return "(built-in demo)"
	}
	return path
}

// engineConfig builds the engine's catalogue, targets, policy and
// authorizer from the file.
func (c fileConfig) engineConfig() (tfpilot.Config, error) {
	cat, err := tfpilot.NewCatalog(c.Modules...)
	if err != nil {
		return tfpilot.Config{}, fmt.Errorf("config modules: %w", err)
	}
	cfg := tfpilot.Config{Targets: tfpilot.StaticTargets(c.Targets), Catalog: cat, Authorizer: c.Authorizer}
	for gh, login := range c.Reviewers {
		if cfg.Reviewers == nil {
			cfg.Reviewers = map[string]tfpilot.Principal{}
		}
		cfg.Reviewers[gh] = tfpilot.Principal{Login: login}
	}
	for field, pattern := range c.Policy.Naming {
		rule, err := tfpilot.NamingRule(field, pattern)
		if err != nil {
			return tfpilot.Config{}, fmt.Errorf("config policy: %w", err)
		}
		cfg.Policy = append(cfg.Policy, rule)
		cfg.PolicyInfo = append(cfg.PolicyInfo, tfpilot.NamingRuleInfo(field, pattern))
	}
	if len(c.Policy.Regions) > 0 {
		cfg.Policy = append(cfg.Policy, tfpilot.RegionAllowList("region", c.Policy.Regions...))
		cfg.PolicyInfo = append(cfg.PolicyInfo, tfpilot.RegionAllowListInfo("region", c.Policy.Regions...))
	}
	return cfg, nil
}

// withTokenRoles gives each mapped reviewer the roles of the API tokens
// with the same login, as the API would.
func withTokenRoles(reviewers map[string]tfpilot.Principal, tokens []server.Token) {
	for gh, p := range reviewers {
		for _, t := range tokens {
			if t.Login == p.Login {
				p.Roles = append(p.Roles, t.Roles...)
			}
		}
		reviewers[gh] = p
	}
}
