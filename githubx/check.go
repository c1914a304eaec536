package githubx

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tfpilot/tfpilot/runs"
)

// SetupProblem is one way a repository is not ready for tfpilot, found
// by [Client.CheckSetup].
type SetupProblem struct {
	Repo Repo
	// Workflow is the workflow file concerned ("plan.yml"), or "" for the
	// repository itself.
	Workflow string
	// Problem says what is wrong and what GitHub would do about it.
	Problem string
}

// String formats the problem for a person: "acme/infra plan.yml: ...".
func (p SetupProblem) String() string {
	where := p.Repo.Owner + "/" + p.Repo.Name
	if p.Workflow != "" {
		where += " " + p.Workflow
	}
	return where + ": " + p.Problem
}

// CheckSetup verifies that repo is ready for tfpilot on branch base
// (empty: the repository's default branch): that the credentials can
// read it and the base branch exists; that each workflow tfpilot
// dispatches (plan, apply and destroy, as named by Options.Workflows)
// exists and is active; and that each of those, and cleanup and drift
// where present, declares exactly the inputs tfpilot sends (request_id
// and the nonce input, GitHub refusing undeclared inputs and missing
// required ones with 422) and a run-name that carries both (see
// [runs.RunName]), the apply workflow also the saved-plan inputs
// ([InputPlanRunID], [InputPlanDigest]) and the plan workflow the pinned
// commit input ([InputPlanSHA]). It returns every problem found; the error is only for
// a failure that stopped the check (a cancelled context, a rate limit,
// GitHub unavailable). The repository's workflows/ folder holds templates
// that pass.
func (c *Client) CheckSetup(ctx context.Context, repo Repo, base string) ([]SetupProblem, error) {
	const op = "githubx.CheckSetup"
	if !repo.Valid() {
		return nil, invalid(op, "repo is required")
	}
	var problems []SetupProblem
	add := func(wf, format string, args ...any) {
		problems = append(problems, SetupProblem{Repo: repo, Workflow: wf, Problem: fmt.Sprintf(format, args...)})
	}
	r, _, err := c.gh.Repositories.Get(ctx, repo.Owner, repo.Name)
	if err != nil {
		err = wrapErr(op, err)
		if stops(err) {
			return nil, err
		}
		add("", "cannot read the repository (%v): check the name and that the token or App installation has access to it", err)
		return problems, nil
	}
	if base == "" {
		base = r.GetDefaultBranch()
	}
	if _, err := c.branchSHA(ctx, repo, base, true); err != nil {
		if stops(err) {
			return nil, wrapErr(op, err)
		}
		add("", "base branch %q not found (%v)", base, err)
		return problems, nil
	}
	for _, k := range []WorkflowKind{WorkflowPlan, WorkflowApply, WorkflowDestroy, WorkflowCleanup, WorkflowDrift} {
		file := c.workflows.File(k)
		dispatched := k == WorkflowPlan || k == WorkflowApply || k == WorkflowDestroy
		wf, _, err := c.gh.Actions.GetWorkflowByFileName(ctx, repo.Owner, repo.Name, file)
		if err != nil {
			err = wrapErr(op, err)
			switch {
			case stops(err):
				return nil, err
			case errors.Is(err, ErrNotFound) && dispatched:
				add(file, "workflow .github/workflows/%s not found: tfpilot dispatches it for %s (install workflows/%s from tfpilot's repository)", file, k, file)
			case !errors.Is(err, ErrNotFound):
				add(file, "cannot read the workflow (%v)", err)
			}
			continue
		}
		if st := wf.GetState(); st != "active" {
			add(file, "workflow is %s, not active: GitHub refuses to dispatch it", st)
		}
		f, err := c.ReadFile(ctx, repo, ".github/workflows/"+file, base, BypassCache())
		if err != nil {
			if stops(err) {
				return nil, wrapErr(op, err)
			}
			add(file, "cannot read .github/workflows/%s on %s (%v)", file, base, err)
			continue
		}
		for _, p := range checkWorkflowFile(f.Content, c.nonceKey) {
			add(file, "%s", p)
		}
		if k == WorkflowApply {
			for _, p := range checkApplyInputs(f.Content) {
				add(file, "%s", p)
			}
		}
		if k == WorkflowPlan {
			for _, p := range checkPlanInputs(f.Content) {
				add(file, "%s", p)
			}
		}
	}
	return problems, nil
}

// stops reports whether a failure should stop the check rather than be
// reported as a problem of the repository.
func stops(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, ErrRateLimited) || errors.Is(err, ErrUnavailable)
}

var inputExpr = regexp.MustCompile(`\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}`)

// checkPlanInputs returns what is wrong with a plan workflow for the
// input tfpilot sends to a plan pinned to a commit ([InputPlanSHA]): it
// must be declared, or GitHub refuses the re-plan of a merge commit.
func checkPlanInputs(content []byte) []string {
	inputs, ok := dispatchInputs(content)
	if !ok {
		return nil
	}
	if _, ok := inputs[InputPlanSHA]; !ok {
		return []string{fmt.Sprintf(
			"does not declare the input %q that tfpilot sends to plan a merge commit whose tree differs from the planned one: GitHub refuses that plan (422 Unexpected inputs provided); install workflows/plan.yml", InputPlanSHA)}
	}
	return nil
}

// dispatchInputs returns the inputs a workflow file's workflow_dispatch
// declares; false when the file has no such trigger or does not parse
// (checkWorkflowFile reports those).
func dispatchInputs(content []byte) (map[string]yaml.Node, bool) {
	var doc struct {
		On yaml.Node `yaml:"on"`
	}
	if yaml.Unmarshal(content, &doc) != nil {
		return nil, false
	}
	dispatch, ok := findDispatch(&doc.On)
	if !ok {
		return nil, false
	}
	var inputs map[string]yaml.Node
	if dispatch != nil {
		var d struct {
			Inputs yaml.Node `yaml:"inputs"`
		}
		if err := dispatch.Decode(&d); err == nil && d.Inputs.Kind == yaml.MappingNode {
			_ = d.Inputs.Decode(&inputs)
		}
	}
	return inputs, true
}

// checkApplyInputs returns what is wrong with an apply workflow for the
// saved-plan inputs tfpilot sends to it ([InputPlanRunID],
// [InputPlanDigest]): each must be declared, or GitHub refuses the apply.
func checkApplyInputs(content []byte) []string {
	var doc struct {
		On yaml.Node `yaml:"on"`
	}
	if yaml.Unmarshal(content, &doc) != nil {
		return nil // checkWorkflowFile reported it
	}
	dispatch, ok := findDispatch(&doc.On)
	if !ok {
		return nil
	}
	var inputs map[string]yaml.Node
	if dispatch != nil {
		var d struct {
			Inputs yaml.Node `yaml:"inputs"`
		}
		if err := dispatch.Decode(&d); err == nil && d.Inputs.Kind == yaml.MappingNode {
			_ = d.Inputs.Decode(&inputs)
		}
	}
	var problems []string
	for _, name := range []string{InputPlanRunID, InputPlanDigest} {
		if _, ok := inputs[name]; !ok {
			problems = append(problems, fmt.Sprintf(
				"does not declare the input %q that tfpilot sends to apply the approved saved plan: GitHub refuses the apply (422 Unexpected inputs provided); install workflows/apply.yml", name))
		}
	}
	return problems
}

// checkWorkflowFile returns what is wrong with a workflow file for
// tfpilot's dispatch: its workflow_dispatch inputs and its run-name.
func checkWorkflowFile(content []byte, nonceKey string) []string {
	var doc struct {
		RunName string    `yaml:"run-name"`
		On      yaml.Node `yaml:"on"`
	}
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return []string{fmt.Sprintf("not valid YAML: %v", err)}
	}
	dispatch, ok := findDispatch(&doc.On)
	if !ok {
		return []string{"has no workflow_dispatch trigger: tfpilot cannot start it"}
	}
	var inputs map[string]struct {
		Required bool    `yaml:"required"`
		Default  *string `yaml:"default"`
	}
	if dispatch != nil {
		var d struct {
			Inputs yaml.Node `yaml:"inputs"`
		}
		if err := dispatch.Decode(&d); err == nil && d.Inputs.Kind == yaml.MappingNode {
			if err := d.Inputs.Decode(&inputs); err != nil {
				return []string{fmt.Sprintf("workflow_dispatch inputs unreadable: %v", err)}
			}
		}
	}
	var problems []string
	sent := []string{runs.InputRequestID, nonceKey}
	for _, name := range sent {
		if _, ok := inputs[name]; !ok {
			problems = append(problems, fmt.Sprintf(
				"does not declare the input %q that tfpilot sends: GitHub refuses the dispatch (422 Unexpected inputs provided)", name))
		}
	}
	var extra []string
	for name, in := range inputs {
		if name == runs.InputRequestID || name == nonceKey {
			continue
		}
		if in.Required && in.Default == nil {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		problems = append(problems, fmt.Sprintf(
			"requires the input %q, which tfpilot does not send: GitHub refuses the dispatch (422 Required input '%s' not provided)", name, name))
	}
	vals := map[string]string{runs.InputRequestID: "req-check", nonceKey: "nonce-check"}
	title := inputExpr.ReplaceAllStringFunc(doc.RunName, func(m string) string { return vals[inputExpr.FindStringSubmatch(m)[1]] })
	if id, nonce, ok := runs.ParseRunName(title); !ok || id != "req-check" || nonce != "nonce-check" {
		problems = append(problems, fmt.Sprintf(
			"run-name %q does not carry the request and nonce: use run-name: tfpilot ${{ inputs.%s }} ${{ inputs.%s }}, or tfpilot cannot find a run whose dispatch answer was lost",
			doc.RunName, runs.InputRequestID, nonceKey))
	}
	return problems
}

// findDispatch finds workflow_dispatch in a workflow's "on": a string, a
// list of event names, or a map. It returns the trigger's node (nil when
// it has no configuration) and whether it is there.
func findDispatch(on *yaml.Node) (*yaml.Node, bool) {
	switch on.Kind {
	case yaml.ScalarNode:
		return nil, strings.TrimSpace(on.Value) == "workflow_dispatch"
	case yaml.SequenceNode:
		for _, n := range on.Content {
			if n.Value == "workflow_dispatch" {
				return nil, true
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(on.Content); i += 2 {
			if on.Content[i].Value == "workflow_dispatch" {
				return on.Content[i+1], true
			}
		}
	}
	return nil, false
}
