//go:build ignore

// gen_openapi extracts, from GitHub's published OpenAPI description, the
// response schemas of the operations the fake serves, reduced to what a
// response must carry: each object's required properties (recursively),
// their types and nullability, and the alternatives of oneOf/anyOf/allOf.
// TestResponses_CarryTheRequiredPropertiesOfGitHubsSchema checks the
// fake's answers against the result.
//
// Regenerate (from githubx/githubtest):
//
//	npm pack @octokit/openapi@23.0.2 && tar xzf octokit-openapi-23.0.2.tgz
//	go run gen_openapi.go -spec package/generated/api.github.com.json > testdata/openapi/responses.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// operations lists the operations the fake serves (routes.go) by
// operationId, with the success status whose body is checked.
var operations = map[string]string{
	"apps/create-installation-access-token": "201",
	"repos/get":                             "200",
	"git/get-ref":                           "200",
	"git/create-ref":                        "201",
	"git/update-ref":                        "200",
	"git/create-blob":                       "201",
	"git/get-blob":                          "200",
	"git/create-tree":                       "201",
	"git/get-tree":                          "200",
	"git/create-commit":                     "201",
	"git/get-commit":                        "200",
	"repos/get-content":                     "200",
	"pulls/create":                          "201",
	"pulls/list":                            "200",
	"pulls/get":                             "200",
	"pulls/update":                          "200",
	"pulls/merge":                           "200",
	"pulls/list-reviews":                    "200",
	"pulls/create-review":                   "200",
	"actions/create-workflow-dispatch":      "200",
	"actions/list-workflow-runs":            "200",
	"actions/list-workflow-runs-for-repo":   "200",
	"actions/get-workflow-run":              "200",
	"actions/list-jobs-for-workflow-run":    "200",
	"actions/get-job-for-workflow-run":      "200",
	"actions/get-workflow":                  "200",
	"actions/list-repo-workflows":           "200",
}

var errorSchemas = []string{"basic-error", "validation-error", "validation-error-simple"}

type doc struct {
	Info       struct{ Version string } `json:"info"`
	Paths      map[string]map[string]json.RawMessage
	Components struct {
		Schemas map[string]json.RawMessage
	}
}

var spec doc

func main() {
	path := flag.String("spec", "", "generated/api.github.com.json of @octokit/openapi")
	flag.Parse()
	b, err := os.ReadFile(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := map[string]any{"source": "@octokit/openapi generated/api.github.com.json (GitHub REST API description " + spec.Info.Version + ")"}
	ops := map[string]any{}
	for p, methods := range spec.Paths {
		for m, raw := range methods {
			var op struct {
				OperationID string `json:"operationId"`
				Responses   map[string]struct {
					Content map[string]struct {
						Schema json.RawMessage
					}
				}
			}
			if json.Unmarshal(raw, &op) != nil {
				continue
			}
			status, ok := operations[op.OperationID]
			if !ok {
				continue
			}
			r, ok := op.Responses[status]
			if !ok {
				fmt.Fprintf(os.Stderr, "%s: no %s response\n", op.OperationID, status)
				os.Exit(1)
			}
			ops[op.OperationID] = map[string]any{"method": strings.ToUpper(m), "path": p, "status": status,
				"schema": reduce(r.Content["application/json"].Schema, 0)}
		}
	}
	for id := range operations {
		if _, ok := ops[id]; !ok {
			fmt.Fprintf(os.Stderr, "operation %s not in the description\n", id)
			os.Exit(1)
		}
	}
	out["operations"] = ops
	errs := map[string]any{}
	for _, name := range errorSchemas {
		errs[name] = reduce(json.RawMessage(`{"$ref":"#/components/schemas/`+name+`"}`), 0)
	}
	out["errors"] = errs
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type schema struct {
	Ref        string                     `json:"$ref"`
	Type       any                        `json:"type"`
	Nullable   bool                       `json:"nullable"`
	Required   []string                   `json:"required"`
	Properties map[string]json.RawMessage `json:"properties"`
	Items      json.RawMessage            `json:"items"`
	OneOf      []json.RawMessage          `json:"oneOf"`
	AnyOf      []json.RawMessage          `json:"anyOf"`
	AllOf      []json.RawMessage          `json:"allOf"`
}

// reduce keeps type, nullable, required properties (recursively), items
// and the alternatives. Depth bounds recursive schemas.
func reduce(raw json.RawMessage, depth int) map[string]any {
	if len(raw) == 0 || depth > 12 {
		return map[string]any{}
	}
	var s schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return map[string]any{}
	}
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		r := reduce(spec.Components.Schemas[name], depth+1)
		if s.Nullable {
			r["nullable"] = true
		}
		return r
	}
	out := map[string]any{}
	if s.Type != nil {
		out["type"] = s.Type
	}
	if s.Nullable {
		out["nullable"] = true
	}
	if len(s.Required) > 0 {
		req := append([]string(nil), s.Required...)
		sort.Strings(req)
		out["required"] = req
		props := map[string]any{}
		for _, k := range req {
			if p, ok := s.Properties[k]; ok {
				props[k] = reduce(p, depth+1)
			}
		}
		out["properties"] = props
	}
	if len(s.Items) > 0 {
		out["items"] = reduce(s.Items, depth+1)
	}
	for key, alts := range map[string][]json.RawMessage{"oneOf": s.OneOf, "anyOf": s.AnyOf, "allOf": s.AllOf} {
		if len(alts) == 0 {
			continue
		}
		list := make([]any, len(alts))
		for i, a := range alts {
			list[i] = reduce(a, depth+1)
		}
		out[key] = list
	}
	return out
}
