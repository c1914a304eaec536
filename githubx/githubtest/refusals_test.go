package githubtest_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

// TestRefusals_UseGitHubsDocumentedErrorShapes pins the bodies of the
// fake's refusals to GitHub's. Each case names its source: the schema in
// GitHub's OpenAPI description (@octokit/openapi 23.0.2,
// generated/api.github.com.json: every 422 here is
// components/responses/validation_failed, schema validation-error, which
// requires message and documentation_url) and the body GitHub was seen to
// send, quoted in the public issue named.
func TestRefusals_UseGitHubsDocumentedErrorShapes(t *testing.T) {
	t.Parallel()
	type req struct {
		method, path string
		body         any
	}
	cases := []struct {
		name, source string
		setup        func(t *testing.T, f *githubtest.Fake)
		req          req
		want         map[string]any // the body, exactly
	}{
		{
			name:   "duplicate pull request",
			source: "pulls/create 422; body quoted in google/go-github#1441 and github/VisualStudio#453",
			setup:  func(t *testing.T, f *githubtest.Fake) { openPR(t, f, "req-1") },
			req:    req{"POST", "/repos/acme/infra/pulls", map[string]any{"title": "t", "head": "req-1", "base": "main"}},
			want: map[string]any{"message": "Validation Failed", "status": "422",
				"documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
				"errors": []any{map[string]any{"resource": "PullRequest", "code": "custom",
					"message": "A pull request already exists for acme:req-1."}}},
		},
		{
			name:   "pull request from a branch that does not exist",
			source: "pulls/create 422; body quoted in spdx/spdx-online-tools#425",
			req:    req{"POST", "/repos/acme/infra/pulls", map[string]any{"title": "t", "head": "nope", "base": "main"}},
			want: map[string]any{"message": "Validation Failed", "status": "422",
				"documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
				"errors":            []any{map[string]any{"resource": "PullRequest", "field": "head", "code": "invalid"}}},
		},
		{
			name:   "pull request without a title",
			source: "pulls/create 422; validation-error code missing_field (docs.github.com/rest troubleshooting: client errors)",
			setup: func(t *testing.T, f *githubtest.Fake) {
				if _, err := f.As("dev").Push("acme", "infra", "req-1", "c", map[string]string{"a.tf": "a\n"}); err != nil {
					t.Fatal(err)
				}
			},
			req: req{"POST", "/repos/acme/infra/pulls", map[string]any{"head": "req-1", "base": "main"}},
			want: map[string]any{"message": "Validation Failed", "status": "422",
				"documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
				"errors":            []any{map[string]any{"resource": "PullRequest", "field": "title", "code": "missing_field"}}},
		},
		{
			name:   "dispatch with an undeclared input",
			source: "actions/create-workflow-dispatch 422; body quoted in convictional/trigger-workflow-and-wait#4 and benc-uk/workflow-dispatch#80",
			req: req{"POST", "/repos/acme/infra/actions/workflows/plan.yml/dispatches", map[string]any{"ref": "main",
				"inputs": map[string]any{"request_id": "req-1", "tfpilot_nonce": "n-1", "nonce": "n-1", "extra": "x"}}},
			want: map[string]any{"message": `Unexpected inputs provided: ["extra","nonce"]`, "status": "422",
				"documentation_url": "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event"},
		},
		{
			name:   "dispatch without a required input",
			source: "actions/create-workflow-dispatch 422: \"Required input 'x' not provided\"",
			req: req{"POST", "/repos/acme/infra/actions/workflows/plan.yml/dispatches", map[string]any{"ref": "main",
				"inputs": map[string]any{"tfpilot_nonce": "n-1"}}},
			want: map[string]any{"message": "Required input 'request_id' not provided", "status": "422",
				"documentation_url": "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event"},
		},
		{
			name:   "dispatch on a ref that does not exist",
			source: "actions/create-workflow-dispatch 422; body quoted in convictional/trigger-workflow-and-wait#44",
			req: req{"POST", "/repos/acme/infra/actions/workflows/plan.yml/dispatches", map[string]any{"ref": "nope",
				"inputs": map[string]any{"request_id": "req-1", "tfpilot_nonce": "n-1"}}},
			want: map[string]any{"message": "No ref found for: nope", "status": "422",
				"documentation_url": "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := newFake(t, githubtest.Options{})
			if tc.setup != nil {
				tc.setup(t, f)
			}
			a := call(t, f, tc.req.method, tc.req.path, tc.req.body)
			if a.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422 (%s)", a.status, a.body)
			}
			var got map[string]any
			if err := json.Unmarshal(a.body, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("body\n %s\nwant (source: %s)\n %v", a.body, tc.source, tc.want)
			}
			if len(f.Runs("acme", "infra")) != 0 {
				t.Fatal("a refused dispatch created a run")
			}
		})
	}
}

// TestDispatch_DeclaredInputsAndDefaults: a workflow's declared inputs
// decide what a dispatch may send; an omitted input with a default gets
// it (GitHub: "Any default properties configured in the workflow file will
// be used when inputs are omitted", actions/create-workflow-dispatch).
func TestDispatch_DeclaredInputsAndDefaults(t *testing.T) {
	t.Parallel()
	f, _ := newFake(t, githubtest.Options{})
	if _, err := f.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "other", Workflows: []githubtest.Workflow{
		{File: "none.yml", Name: "None", Inputs: []githubtest.WorkflowInput{}},
		{File: "env.yml", Name: "Env", Inputs: []githubtest.WorkflowInput{{Name: "env", Default: "dev"}, {Name: "request_id", Required: true}}},
	}}); err != nil {
		t.Fatal(err)
	}
	a := call(t, f, "POST", "/repos/acme/other/actions/workflows/none.yml/dispatches",
		map[string]any{"ref": "main", "inputs": map[string]any{"request_id": "r"}})
	if a.status != http.StatusUnprocessableEntity {
		t.Fatalf("a workflow without inputs accepted one: %d", a.status)
	}
	if a := call(t, f, "POST", "/repos/acme/other/actions/workflows/none.yml/dispatches", map[string]any{"ref": "main"}); a.status != http.StatusNoContent {
		t.Fatalf("no inputs: %d %s", a.status, a.body)
	}
	if a := call(t, f, "POST", "/repos/acme/other/actions/workflows/env.yml/dispatches",
		map[string]any{"ref": "main", "inputs": map[string]any{"request_id": "r"}}); a.status != http.StatusNoContent {
		t.Fatalf("env.yml: %d %s", a.status, a.body)
	}
	runs := f.Runs("acme", "other")
	if len(runs) != 2 || runs[1].Inputs["env"] != "dev" || runs[1].Inputs["request_id"] != "r" {
		t.Fatalf("runs %+v", runs)
	}
}
