package githubx_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/githubx"
)

// GitHub's error bodies, as documented and as GitHub sends them. Every
// 422 of the operations githubx calls is components/responses/
// validation_failed in GitHub's OpenAPI description (@octokit/openapi
// 23.0.2, generated/api.github.com.json): schema validation-error, with
// required "message" and "documentation_url" and an optional errors[] of
// {resource, field, code, message}; "code" is one of missing,
// missing_field, invalid, already_exists, unprocessable or custom
// (docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api).
var githubErrorShapes = []struct {
	name, source string
	status       int
	body         string
	call         func(c *githubx.Client, t *testing.T) error
	want         error
	wantMsg      string // a part of Error.Message
}{
	{
		name: "duplicate pull request",
		// Body as GitHub answers it: google/go-github#1441 and
		// github/VisualStudio#453 quote it ("code":"custom", the reason
		// only in errors[].message).
		source: "google/go-github#1441, github/VisualStudio#453",
		status: 422,
		body: `{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom",` +
			`"message":"A pull request already exists for acme:req-1."}],` +
			`"documentation_url":"https://docs.github.com/rest/pulls/pulls#create-a-pull-request","status":"422"}`,
		call: func(c *githubx.Client, t *testing.T) error {
			_, err := c.OpenPR(ctx(t), repo, githubx.NewPR{Title: "t", Head: "req-1", Base: "main"})
			return err
		},
		want:    githubx.ErrAlreadyExists,
		wantMsg: "A pull request already exists for acme:req-1.",
	},
	{
		name:   "already_exists code without a message",
		source: "validation error codes, docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api",
		status: 422,
		body: `{"message":"Validation Failed","errors":[{"resource":"Reference","field":"ref","code":"already_exists"}],` +
			`"documentation_url":"https://docs.github.com/rest/git/refs#create-a-reference"}`,
		call: func(c *githubx.Client, t *testing.T) error {
			_, err := c.OpenPR(ctx(t), repo, githubx.NewPR{Title: "t", Head: "req-1", Base: "main"})
			return err
		},
		want:    githubx.ErrAlreadyExists,
		wantMsg: "Reference.ref already_exists",
	},
	{
		name:   "invalid head",
		source: "spdx/spdx-online-tools#425, microsoft/vscode-pull-request-github#1149",
		status: 422,
		body: `{"message":"Validation Failed","errors":[{"resource":"PullRequest","field":"head","code":"invalid"}],` +
			`"documentation_url":"https://docs.github.com/rest/pulls/pulls#create-a-pull-request"}`,
		call: func(c *githubx.Client, t *testing.T) error {
			_, err := c.OpenPR(ctx(t), repo, githubx.NewPR{Title: "t", Head: "req-1", Base: "main"})
			return err
		},
		want:    githubx.ErrInvalid,
		wantMsg: "PullRequest.head invalid",
	},
	{
		name:   "undeclared dispatch input",
		source: "convictional/trigger-workflow-and-wait#4, benc-uk/workflow-dispatch#80",
		status: 422,
		body: `{"message":"Unexpected inputs provided: [\"tfpilot_nonce\"]",` +
			`"documentation_url":"https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event","status":"422"}`,
		call: func(c *githubx.Client, t *testing.T) error {
			_, err := c.Dispatch(ctx(t), repo, githubx.DispatchRequest{Workflow: "plan.yml", Ref: "main", Nonce: "n-1"})
			return err
		},
		want:    githubx.ErrInvalid,
		wantMsg: `Unexpected inputs provided: ["tfpilot_nonce"]`,
	},
	{
		name:   "reference already exists",
		source: "git/create-ref 422 (validation_failed) as GitHub words it",
		status: 422,
		body:   `{"message":"Reference already exists","documentation_url":"https://docs.github.com/rest/git/refs#create-a-reference","status":"422"}`,
		call: func(c *githubx.Client, t *testing.T) error {
			_, err := c.OpenPR(ctx(t), repo, githubx.NewPR{Title: "t", Head: "req-1", Base: "main"})
			return err
		},
		want:    githubx.ErrAlreadyExists,
		wantMsg: "Reference already exists",
	},
}

// TestErrors_ClassifiedFromGitHubsDocumentedShape pins how githubx reads
// GitHub's real error bodies: the reason of a validation failure is in
// errors[], not in the top-level message, so a duplicate pull request is
// ErrAlreadyExists (which keeps OpenPR replay-safe) and not ErrInvalid.
func TestErrors_ClassifiedFromGitHubsDocumentedShape(t *testing.T) {
	t.Parallel()
	for _, tc := range githubErrorShapes {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet { // OpenPR's look-up of the existing PR
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`[]`))
					return
				}
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			t.Cleanup(srv.Close)
			c, err := githubx.New(githubx.Options{BaseURL: srv.URL + "/", Token: "t", MaxRetries: -1, AllowInsecureHTTP: true})
			if err != nil {
				t.Fatal(err)
			}
			err = tc.call(c, t)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v (source: %s)", err, tc.want, tc.source)
			}
			var ge *githubx.Error
			if !errors.As(err, &ge) || ge.StatusCode != tc.status || !strings.Contains(ge.Message, tc.wantMsg) {
				t.Fatalf("error %#v: want status %d and message containing %q", ge, tc.status, tc.wantMsg)
			}
		})
	}
}
