package tfpilot

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// PolicyCheck inspects a request about to be created or updated (its
// Config already validated against the module) and reports violations.
// Checks are pure; the engine runs every configured check and reports all
// violations together.
type PolicyCheck func(r *Request) []FieldViolation

// NamingRule requires the string config field to match pattern in full.
// The pattern may use {project}, {environment} and {module}, which are
// replaced by the request's (regexp-quoted) values, e.g.
// `{project}-{environment}-[a-z0-9-]+`. A pattern that does not compile
// is an error wrapping [ErrInvalid].
func NamingRule(field, pattern string) (PolicyCheck, error) {
	if _, err := regexp.Compile(expandNaming(pattern, &Request{})); err != nil {
		return nil, fmt.Errorf("%w: naming rule for %q: %v", ErrInvalid, field, err)
	}
	return func(r *Request) []FieldViolation {
		v, ok := r.Config[field].(string)
		if !ok {
			return nil
		}
		re := regexp.MustCompile(`^(?:` + expandNaming(pattern, r) + `)$`)
		if re.MatchString(v) {
			return nil
		}
		return []FieldViolation{{"config." + field, fmt.Sprintf("%q does not follow the naming rule %s", v, pattern)}}
	}, nil
}

func expandNaming(pattern string, r *Request) string {
	return strings.NewReplacer(
		"{project}", regexp.QuoteMeta(r.Project),
		"{environment}", regexp.QuoteMeta(r.Environment),
		"{module}", regexp.QuoteMeta(r.Module),
	).Replace(pattern)
}

// RegionAllowList requires the config field (e.g. "region"), when set,
// to be one of regions.
func RegionAllowList(field string, regions ...string) PolicyCheck {
	regions = slices.Clone(regions)
	return func(r *Request) []FieldViolation {
		v, ok := r.Config[field].(string)
		if !ok || slices.Contains(regions, v) {
			return nil
		}
		return []FieldViolation{{"config." + field, fmt.Sprintf("region %q is not allowed; allowed: %s", v, strings.Join(regions, ", "))}}
	}
}
