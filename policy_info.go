package tfpilot

import (
	"fmt"
	"slices"
	"strings"
)

// PolicyInfo describes a [PolicyCheck] for people: a portal lists them
// (the reference server's CatalogService.ListPolicies) so that a form can
// say what will be checked. Describe each check of [Config.Policy] with
// one entry of [Config.PolicyInfo]; [NamingRuleInfo] and
// [RegionAllowListInfo] describe the checks this package builds.
type PolicyInfo struct {
	// Name identifies the kind of check, e.g. "naming" or "region".
	Name string
	// Field is the config input checked, without the "config." prefix.
	Field string
	// Description says what the check requires.
	Description string
	// Pattern is a naming rule's pattern, with its placeholders.
	Pattern string
	// Allowed lists the values an allow-list accepts.
	Allowed []string
}

// NamingRuleInfo describes [NamingRule](field, pattern).
func NamingRuleInfo(field, pattern string) PolicyInfo {
	return PolicyInfo{Name: "naming", Field: field, Pattern: pattern,
		Description: fmt.Sprintf("config.%s must match %s in full, where {project}, {environment} and {module} stand for the request's", field, pattern)}
}

// RegionAllowListInfo describes [RegionAllowList](field, regions...).
func RegionAllowListInfo(field string, regions ...string) PolicyInfo {
	return PolicyInfo{Name: "region", Field: field, Allowed: slices.Clone(regions),
		Description: fmt.Sprintf("config.%s, when set, must be one of %s", field, strings.Join(regions, ", "))}
}
