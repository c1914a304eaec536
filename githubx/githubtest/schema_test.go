package githubtest_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

// openAPISubset is testdata/openapi/responses.json: the response schemas
// of the operations the fake serves, extracted from GitHub's published
// OpenAPI description (@octokit/openapi 23.0.2,
// generated/api.github.com.json) by gen_openapi.go, reduced to required
// properties, types and nullability.
type openAPISubset struct {
	Source     string
	Operations map[string]struct {
		Method, Path, Status string
		Schema               map[string]any
	}
	Errors map[string]map[string]any
}

func loadOpenAPISubset(t *testing.T) openAPISubset {
	t.Helper()
	b, err := os.ReadFile("testdata/openapi/responses.json")
	if err != nil {
		t.Fatal(err)
	}
	var s openAPISubset
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// conform reports where v breaks schema s: a missing required property, a
// null that is not nullable, a value of the wrong type.
func conform(at string, v any, s map[string]any) []string {
	if all, ok := s["allOf"].([]any); ok {
		var errs []string
		for _, a := range all {
			errs = append(errs, conform(at, v, a.(map[string]any))...)
		}
		return errs
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		alts, ok := s[key].([]any)
		if !ok {
			continue
		}
		var best []string
		for i, a := range alts {
			errs := conform(at, v, a.(map[string]any))
			if len(errs) == 0 {
				return nil
			}
			if i == 0 || len(errs) < len(best) {
				best = errs
			}
		}
		return best
	}
	if v == nil {
		if s["nullable"] == true || s["type"] == nil {
			return nil
		}
		return []string{at + ": null, schema says " + fmt.Sprint(s["type"]) + " (not nullable)"}
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want object", at, v)}
		}
		var errs []string
		props, _ := s["properties"].(map[string]any)
		req, _ := s["required"].([]any)
		for _, k := range req {
			name := k.(string)
			pv, present := m[name]
			if !present {
				errs = append(errs, at+"."+name+": required, missing")
				continue
			}
			if ps, ok := props[name].(map[string]any); ok {
				errs = append(errs, conform(at+"."+name, pv, ps)...)
			}
		}
		return errs
	case "array":
		list, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want array", at, v)}
		}
		items, _ := s["items"].(map[string]any)
		var errs []string
		for i, it := range list {
			errs = append(errs, conform(fmt.Sprintf("%s[%d]", at, i), it, items)...)
		}
		return errs
	case "string":
		if _, ok := v.(string); !ok {
			return []string{fmt.Sprintf("%s: %T, want string", at, v)}
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != math.Trunc(f) {
			return []string{fmt.Sprintf("%s: %v, want integer", at, v)}
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return []string{fmt.Sprintf("%s: %T, want number", at, v)}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return []string{fmt.Sprintf("%s: %T, want boolean", at, v)}
		}
	}
	return nil
}

// TestResponses_CarryTheRequiredPropertiesOfGitHubsSchema drives every
// operation the fake serves through a request's life (branch, blob, tree,
// commit, ref update, contents, pull request, review, dispatch, queued and
// completed runs and jobs, merge) and checks each answer, and each error
// answer, against GitHub's published schema (see [openAPISubset]). Queued
// jobs need a started_at, file contents _links and download_url: the
// schema's required properties, which githubx does not read but a client
// generated from the description would.
func TestResponses_CarryTheRequiredPropertiesOfGitHubsSchema(t *testing.T) {
	t.Parallel()
	spec := loadOpenAPISubset(t)
	f, _ := newFake(t, githubtest.Options{})
	got := map[string][]any{} // operationId → answers
	do := func(op string, want int, method, path string, body any) map[string]any {
		t.Helper()
		a := call(t, f, method, path, body)
		if a.status != want {
			t.Fatalf("%s %s: %d, want %d (%s)", method, path, a.status, want, a.body)
		}
		var v any
		if err := json.Unmarshal(a.body, &v); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		got[op] = append(got[op], v)
		m, _ := v.(map[string]any)
		return m
	}
	const r = "/repos/acme/infra"
	do("repos/get", 200, "GET", r, nil)
	main := do("git/get-ref", 200, "GET", r+"/git/ref/heads/main", nil)
	base := main["object"].(map[string]any)["sha"].(string)
	do("git/create-ref", 201, "POST", r+"/git/refs", map[string]any{"ref": "refs/heads/req-1", "sha": base})
	blob := do("git/create-blob", 201, "POST", r+"/git/blobs", map[string]any{"content": base64.StdEncoding.EncodeToString([]byte("x\n")), "encoding": "base64"})
	do("git/get-blob", 200, "GET", r+"/git/blobs/"+blob["sha"].(string), nil)
	baseCommit := do("git/get-commit", 200, "GET", r+"/git/commits/"+base, nil)
	tree := do("git/create-tree", 201, "POST", r+"/git/trees", map[string]any{
		"base_tree": baseCommit["tree"].(map[string]any)["sha"],
		"tree":      []any{map[string]any{"path": "envs/dev/req-1.tf", "mode": "100644", "type": "blob", "sha": blob["sha"]}}})
	do("git/get-tree", 200, "GET", r+"/git/trees/"+tree["sha"].(string), nil)
	commit := do("git/create-commit", 201, "POST", r+"/git/commits", map[string]any{
		"message": "Add req-1", "tree": tree["sha"], "parents": []any{base}})
	do("git/update-ref", 200, "PATCH", r+"/git/refs/heads/req-1", map[string]any{"sha": commit["sha"]})
	file := do("repos/get-content", 200, "GET", r+"/contents/envs/dev/req-1.tf?ref=req-1", nil)
	if dl, _ := file["download_url"].(string); true {
		a := call(t, f, "GET", strings.TrimPrefix(dl, strings.TrimSuffix(f.URL(), "/")), nil)
		if a.status != 200 || string(a.body) != "x\n" {
			t.Fatalf("download_url %s: %d %q", dl, a.status, a.body)
		}
	}
	do("repos/get-content", 200, "GET", r+"/contents/envs/dev?ref=req-1", nil)
	pr := do("pulls/create", 201, "POST", r+"/pulls", map[string]any{"title": "req-1", "head": "req-1", "base": "main"})
	n := fmt.Sprint(pr["number"])
	do("pulls/list", 200, "GET", r+"/pulls?state=open", nil)
	do("pulls/get", 200, "GET", r+"/pulls/"+n, nil)
	do("pulls/update", 200, "PATCH", r+"/pulls/"+n, map[string]any{"body": "plan below"})
	do("pulls/create-review", 200, "POST", r+"/pulls/"+n+"/reviews", map[string]any{"event": "COMMENT", "body": "looks fine"})
	if err := f.As("alice").Approve("acme", "infra", int(pr["number"].(float64))); err != nil {
		t.Fatal(err)
	}
	do("pulls/list-reviews", 200, "GET", r+"/pulls/"+n+"/reviews", nil)
	do("actions/list-repo-workflows", 200, "GET", r+"/actions/workflows", nil)
	do("actions/get-workflow", 200, "GET", r+"/actions/workflows/plan.yml", nil)
	run := do("actions/create-workflow-dispatch", 200, "POST", r+"/actions/workflows/plan.yml/dispatches", map[string]any{
		"ref": "req-1", "return_run_details": true, "inputs": map[string]any{"request_id": "req-1", "tfpilot_nonce": "n-1"}})
	id := fmt.Sprint(int64(run["workflow_run_id"].(float64)))
	readRun := func() {
		do("actions/list-workflow-runs", 200, "GET", r+"/actions/workflows/plan.yml/runs?event=workflow_dispatch", nil)
		do("actions/list-workflow-runs-for-repo", 200, "GET", r+"/actions/runs", nil)
		do("actions/get-workflow-run", 200, "GET", r+"/actions/runs/"+id, nil)
		jobs := do("actions/list-jobs-for-workflow-run", 200, "GET", r+"/actions/runs/"+id+"/jobs", nil)
		job := jobs["jobs"].([]any)[0].(map[string]any)
		do("actions/get-job-for-workflow-run", 200, "GET", r+"/actions/jobs/"+fmt.Sprint(int64(job["id"].(float64))), nil)
	}
	readRun() // queued
	runID := int64(run["workflow_run_id"].(float64))
	if _, err := f.Advance(runID); err != nil {
		t.Fatal(err)
	}
	readRun() // in progress
	if err := f.Complete(runID, "success"); err != nil {
		t.Fatal(err)
	}
	readRun() // completed
	do("pulls/merge", 200, "PUT", r+"/pulls/"+n+"/merge", map[string]any{"sha": commit["sha"]})

	var problems []string
	var ops []string
	for op := range spec.Operations {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		answers, ok := got[op]
		if !ok {
			if op != "apps/create-installation-access-token" { // see TestAppToken_* in transport tests
				problems = append(problems, op+": not exercised")
			}
			continue
		}
		for i, v := range answers {
			problems = append(problems, conform(fmt.Sprintf("%s#%d", op, i), v, spec.Operations[op].Schema)...)
		}
	}

	// Error answers: 404 is basic-error, 422 validation-error.
	errAnswers := []struct {
		schema       string
		method, path string
		body         any
	}{
		{"basic-error", "GET", r + "/pulls/999", nil},
		{"validation-error", "POST", r + "/pulls", map[string]any{"title": "again", "head": "req-2", "base": "main"}},
		{"validation-error", "POST", r + "/git/refs", map[string]any{"ref": "refs/heads/main", "sha": base}},
		{"validation-error", "POST", r + "/actions/workflows/plan.yml/dispatches", map[string]any{"ref": "main", "inputs": map[string]any{"nonce": "x"}}},
	}
	for _, e := range errAnswers {
		a := call(t, f, e.method, e.path, e.body)
		var v any
		if err := json.Unmarshal(a.body, &v); err != nil {
			t.Fatalf("%s %s: %v", e.method, e.path, err)
		}
		problems = append(problems, conform(e.method+" "+e.path+" "+fmt.Sprint(a.status), v, spec.Errors[e.schema])...)
	}
	if len(problems) > 0 {
		t.Fatalf("answers that break GitHub's schema (%s):\n  %s", spec.Source, strings.Join(problems, "\n  "))
	}
}
