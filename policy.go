package tfpilot

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// PolicyCheck inspects a request about to be created or updated (its
// Config already validated against the module) and reports violations.
// Checks are pure; the engine runs every configured check and reports all
// violations together.
type PolicyCheck func(r *Request) []FieldViolation

// NamingRule requires the string config field to match pattern in full.
// The pattern may use {project}, {environment} and {module}, which are
// replaced by the request's (regexp-quoted) values, e.g.
// `{project}-{environment}-[a-z0-9-]+`. A pattern that does not compile,
// or that places a placeholder where a quoted value breaks it (inside a
// character class, say), is an error wrapping [ErrInvalid]. The check
// never panics: each project/environment/module combination is compiled
// once (a bounded cache), and a value that still fails to compile is
// reported as a violation.
func NamingRule(field, pattern string) (PolicyCheck, error) {
	if _, err := regexp.Compile(expandNaming(pattern, &Request{})); err != nil {
		return nil, fmt.Errorf("%w: naming rule for %q: %v", ErrInvalid, field, err)
	}
	// Values that break a pattern where quoting does not protect them
	// (QuoteMeta leaves "-", which makes a range inside a class).
	for _, v := range []string{"z-a", `a-z]\.^$*+?()[{}|`} {
		probe := &Request{Project: v, Environment: v, Module: v}
		if _, err := regexp.Compile(expandNaming(pattern, probe)); err != nil {
			return nil, fmt.Errorf("%w: naming rule for %q: a placeholder is where a value breaks the pattern (inside a character class?): %v", ErrInvalid, field, err)
		}
	}
	var (
		mu    sync.Mutex
		cache = map[[3]string]*regexp.Regexp{}
	)
	compiled := func(r *Request) (*regexp.Regexp, error) {
		key := [3]string{r.Project, r.Environment, r.Module}
		mu.Lock()
		defer mu.Unlock()
		if re, ok := cache[key]; ok {
			return re, nil
		}
		re, err := regexp.Compile(`^(?:` + expandNaming(pattern, r) + `)$`)
		if err != nil {
			return nil, err
		}
		if len(cache) < maxNamingCache {
			cache[key] = re
		}
		return re, nil
	}
	return func(r *Request) []FieldViolation {
		v, ok := r.Config[field].(string)
		if !ok {
			return nil
		}
		re, err := compiled(r)
		if err != nil {
			return []FieldViolation{{Field: "config." + field, Description: fmt.Sprintf("the naming rule %s cannot be applied: %v", pattern, err)}}
		}
		if re.MatchString(v) {
			return nil
		}
		return []FieldViolation{{Field: "config." + field, Description: fmt.Sprintf("%q does not follow the naming rule %s", v, pattern)}}
	}, nil
}

// maxNamingCache bounds the compiled patterns a naming rule keeps.
const maxNamingCache = 1024

// RegionAllowList requires the config field (e.g. "region"), when set,
// to be one of regions.
func RegionAllowList(field string, regions ...string) PolicyCheck {
	regions = slices.Clone(regions)
	return func(r *Request) []FieldViolation {
		v, ok := r.Config[field].(string)
		if !ok || slices.Contains(regions, v) {
			return nil
		}
		return []FieldViolation{{Field: "config." + field, Description: fmt.Sprintf("region %q is not allowed; allowed: %s", v, strings.Join(regions, ", "))}}
	}
}

func expandNaming(pattern string, r *Request) string {
	return strings.NewReplacer(
		"{project}", regexp.QuoteMeta(r.Project),
		"{environment}", regexp.QuoteMeta(r.Environment),
		"{module}", regexp.QuoteMeta(r.Module),
	).Replace(pattern)
}
