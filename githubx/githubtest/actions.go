package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Workflow describes a GitHub Actions workflow of a fake repository.
type Workflow struct {
	// File is the workflow's file name under .github/workflows, such as
	// "plan.yml". Dispatch addresses the workflow by it (or by its id).
	File string
	// Name is the workflow's name; runs carry it in their "name" field.
	Name string
	// RunName is the workflow's run-name expression; a run's
	// "display_title" is it with each "${{ inputs.X }}" replaced by the
	// dispatch input X. Default [DefaultRunName]. A run name that comes
	// out empty (or only slashes) falls back to Name, as on GitHub.
	RunName string
	// Jobs are the job names each run gets. Default ["terraform"].
	Jobs []string
	// Conclusion is the conclusion a run reaches when advanced without one
	// being chosen. Default "success".
	Conclusion string
	// Inputs are the workflow_dispatch inputs the workflow declares (its
	// on.workflow_dispatch.inputs). As on GitHub, a dispatch that sends an
	// input not declared here, or omits a required one without a default,
	// is refused with 422, and an omitted input with a default gets it.
	// Nil means [DefaultInputs] (the inputs tfpilot sends), plus
	// [ApplyInputs] for "apply.yml" and [PlanInputs] for "plan.yml"; an empty,
	// non-nil slice declares no inputs.
	Inputs []WorkflowInput
}

// WorkflowInput is one declared workflow_dispatch input.
type WorkflowInput struct {
	Name     string
	Required bool
	// Default is the value a dispatch that omits the input gets.
	Default string
}

// DefaultInputs returns the inputs tfpilot's workflows declare: request_id
// and tfpilot_nonce, both required (see the repository's workflows/).
func DefaultInputs() []WorkflowInput {
	return []WorkflowInput{{Name: "request_id", Required: true}, {Name: "tfpilot_nonce", Required: true}}
}

// ApplyInputs returns the optional inputs tfpilot's apply workflow
// declares beyond [DefaultInputs]: plan_run_id and plan_digest, the saved
// plan to apply (see the repository's workflows/apply.yml).
func ApplyInputs() []WorkflowInput {
	return []WorkflowInput{{Name: "plan_run_id"}, {Name: "plan_digest"}} // githubx.InputPlanRunID, githubx.InputPlanDigest
}

// PlanInputs returns the optional input tfpilot's plan workflow declares
// beyond [DefaultInputs]: plan_sha, the commit a pinned plan checks out
// (see the repository's workflows/plan.yml). A workflow that declares it
// behaves, in its runs' job logs, as that template does: it reports the
// commit it planned ("tfpilot-planned-commit: <sha>"), plan_sha when
// given, else the run's head.
func PlanInputs() []WorkflowInput {
	return []WorkflowInput{{Name: planSHAInput}} // githubx.InputPlanSHA
}

const planSHAInput = "plan_sha"

func (w *workflow) inputs() []WorkflowInput {
	if w.Inputs == nil {
		switch w.File {
		case "apply.yml":
			return append(DefaultInputs(), ApplyInputs()...)
		case "plan.yml":
			return append(DefaultInputs(), PlanInputs()...)
		}
		return DefaultInputs()
	}
	return w.Inputs
}

// declares reports whether w declares the dispatch input name.
func (w *workflow) declares(name string) bool {
	for _, in := range w.inputs() {
		if in.Name == name {
			return true
		}
	}
	return false
}

// checkInputs applies GitHub's rules for a dispatch's inputs and returns
// them with defaults filled in, or the message GitHub refuses them with:
// "Unexpected inputs provided: [...]" for undeclared inputs (sorted, as a
// JSON list) and "Required input 'x' not provided" for a missing one.
func (w *workflow) checkInputs(sent map[string]string) (map[string]string, string) {
	declared := map[string]WorkflowInput{}
	for _, in := range w.inputs() {
		declared[in.Name] = in
	}
	var unexpected []string
	for k := range sent {
		if _, ok := declared[k]; !ok {
			unexpected = append(unexpected, k)
		}
	}
	if len(unexpected) > 0 {
		sort.Strings(unexpected)
		list, _ := json.Marshal(unexpected)
		return nil, "Unexpected inputs provided: " + string(list)
	}
	out := make(map[string]string, len(declared))
	for k, v := range sent {
		out[k] = v
	}
	for _, in := range w.inputs() {
		if _, ok := out[in.Name]; ok {
			continue
		}
		if in.Default != "" {
			out[in.Name] = in.Default
			continue
		}
		if in.Required {
			return nil, "Required input '" + in.Name + "' not provided"
		}
	}
	return out, ""
}

// DefaultRunName is the run-name convention tfpilot workflows follow:
//
//	run-name: tfpilot ${{ inputs.request_id }} ${{ inputs.tfpilot_nonce }}
//
// so a run can be found by the dispatch nonce in its display title.
const DefaultRunName = "tfpilot ${{ inputs.request_id }} ${{ inputs.tfpilot_nonce }}"

// DefaultWorkflows returns the workflows a tfpilot infra repository has:
// plan.yml, apply.yml, destroy.yml, cleanup.yml and drift-plan.yml, all
// with [DefaultRunName].
func DefaultWorkflows() []Workflow {
	return []Workflow{
		{File: "plan.yml", Name: "Plan"},
		{File: "apply.yml", Name: "Apply"},
		{File: "destroy.yml", Name: "Destroy"},
		{File: "cleanup.yml", Name: "Cleanup"},
		{File: "drift-plan.yml", Name: "Drift plan"},
	}
}

type workflow struct {
	Workflow
	id      int64
	created time.Time
	runs    int
}

func (w *workflow) path() string { return ".github/workflows/" + w.File }

func (w *workflow) conclusion() string {
	if w.Conclusion == "" {
		return "success"
	}
	return w.Conclusion
}

type run struct {
	id           int64
	wf           *workflow
	number       int
	displayTitle string
	event        string
	status       string
	conclusion   string
	headBranch   string
	headSHA      string
	inputs       map[string]string
	actor        string
	created      time.Time
	updated      time.Time
	started      time.Time
	jobs         []int64
	planned      string // conclusion chosen ahead (SetConclusion / Auto)
}

type job struct {
	id         int64
	runID      int64
	name       string
	status     string
	conclusion string
	started    time.Time
	completed  time.Time
	logs       string
}

// Run is the fake's view of a workflow run, for assertions.
type Run struct {
	ID           int64
	Owner, Repo  string
	WorkflowFile string
	Name         string
	DisplayTitle string
	Event        string
	Status       string
	Conclusion   string
	HeadBranch   string
	HeadSHA      string
	Inputs       map[string]string
	Jobs         []int64
}

var runNameExpr = regexp.MustCompile(`\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}`)

func evalRunName(wf *workflow, inputs map[string]string) string {
	tmpl := wf.RunName
	if tmpl == "" {
		tmpl = DefaultRunName
	}
	out := runNameExpr.ReplaceAllStringFunc(tmpl, func(m string) string {
		return inputs[runNameExpr.FindStringSubmatch(m)[1]]
	})
	if strings.Trim(out, "/ ") == "" {
		return wf.Name
	}
	return out
}

func (rp *repo) workflowByID(id string) *workflow {
	for _, w := range rp.workflows {
		if w.File == id || strconv.FormatInt(w.id, 10) == id {
			return w
		}
	}
	return nil
}

func (f *Fake) findRunLocked(runID int64) (*repo, *run) {
	for _, rp := range f.repos {
		if r, ok := rp.runs[runID]; ok {
			return rp, r
		}
	}
	return nil, nil
}

func (f *Fake) snapshotRun(rp *repo, r *run) Run {
	in := make(map[string]string, len(r.inputs))
	for k, v := range r.inputs {
		in[k] = v
	}
	return Run{ID: r.id, Owner: rp.owner, Repo: rp.name, WorkflowFile: r.wf.File, Name: r.wf.Name,
		DisplayTitle: r.displayTitle, Event: r.event, Status: r.status, Conclusion: r.conclusion,
		HeadBranch: r.headBranch, HeadSHA: r.headSHA, Inputs: in, Jobs: append([]int64(nil), r.jobs...)}
}

// Run returns a run by id.
func (f *Fake) Run(runID int64) (Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp, r := f.findRunLocked(runID)
	if r == nil {
		return Run{}, ErrNotFound
	}
	return f.snapshotRun(rp, r), nil
}

// Runs returns the runs of a repository, oldest first.
func (f *Fake) Runs(owner, name string) []Run {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.repoLocked(owner, name)
	if rp == nil {
		return nil
	}
	out := make([]Run, 0, len(rp.runs))
	for _, r := range rp.runs {
		out = append(out, f.snapshotRun(rp, r))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// SetConclusion chooses the conclusion a run will reach when it is next
// advanced to completed (by [Fake.Advance] or the automatic simulator).
func (f *Fake) SetConclusion(runID int64, conclusion string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, r := f.findRunLocked(runID)
	if r == nil {
		return ErrNotFound
	}
	r.planned = conclusion
	return nil
}

// SetJobLogs replaces the log text of every job of a run.
func (f *Fake) SetJobLogs(runID int64, logs string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp, r := f.findRunLocked(runID)
	if r == nil {
		return ErrNotFound
	}
	for _, id := range r.jobs {
		rp.jobs[id].logs = logs
	}
	return nil
}

// Advance moves a run one step: queued → in_progress, or in_progress →
// completed with its planned conclusion (see [Fake.SetConclusion]; default
// the workflow's Conclusion). It sends the workflow_run webhook of the new
// state and returns the new status.
func (f *Fake) Advance(runID int64) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp, r := f.findRunLocked(runID)
	if r == nil {
		return "", ErrNotFound
	}
	switch r.status {
	case "queued":
		f.startRunLocked(rp, r)
	case "in_progress":
		f.completeRunLocked(rp, r, "")
	default:
		return r.status, fmt.Errorf("githubtest: advance run %d: already %s", runID, r.status)
	}
	return r.status, nil
}

// Complete moves a run to completed with conclusion (e.g. "success",
// "failure", "cancelled"), passing through in_progress if it was queued.
func (f *Fake) Complete(runID int64, conclusion string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp, r := f.findRunLocked(runID)
	if r == nil {
		return ErrNotFound
	}
	if r.status == "completed" {
		return fmt.Errorf("githubtest: complete run %d: already completed", runID)
	}
	if r.status == "queued" {
		f.startRunLocked(rp, r)
	}
	f.completeRunLocked(rp, r, conclusion)
	return nil
}

func (f *Fake) startRunLocked(rp *repo, r *run) {
	now := f.clock.Now()
	r.status, r.started, r.updated = "in_progress", now, now
	for _, id := range r.jobs {
		j := rp.jobs[id]
		j.status, j.started = "in_progress", now
	}
	f.sendRunEventLocked(rp, r, "in_progress")
}

func (f *Fake) completeRunLocked(rp *repo, r *run, conclusion string) {
	if conclusion == "" {
		conclusion = r.planned
	}
	if conclusion == "" {
		conclusion = r.wf.conclusion()
	}
	now := f.clock.Now()
	r.status, r.conclusion, r.updated = "completed", conclusion, now
	for _, id := range r.jobs {
		j := rp.jobs[id]
		j.status, j.conclusion, j.completed = "completed", conclusion, now
		if j.started.IsZero() {
			j.started = now
		}
	}
	f.sendRunEventLocked(rp, r, "completed")
}

// dispatchLocked creates a run of wf on branch. It is what a
// workflow_dispatch does.
func (f *Fake) dispatchLocked(rp *repo, wf *workflow, branch string, inputs map[string]string) *run {
	now := f.clock.Now()
	wf.runs++
	r := &run{id: f.newID(), wf: wf, number: wf.runs, event: "workflow_dispatch", status: "queued",
		headBranch: branch, headSHA: rp.refs[branch], inputs: inputs, actor: f.opts.Login,
		created: now, updated: now}
	r.displayTitle = evalRunName(wf, inputs)
	names := wf.Jobs
	if len(names) == 0 {
		names = []string{"terraform"}
	}
	for _, n := range names {
		j := &job{id: f.newID(), runID: r.id, name: n, status: "queued"}
		j.logs = fmt.Sprintf("##[group]Run %s\n%s for %s at %s\n##[endgroup]\n", n, wf.Name, branch, r.headSHA)
		if wf.declares(planSHAInput) {
			planned := inputs[planSHAInput]
			if planned == "" {
				planned = r.headSHA
			}
			j.logs += "tfpilot-planned-commit: " + planned + "\n"
		}
		rp.jobs[j.id] = j
		r.jobs = append(r.jobs, j.id)
	}
	rp.runs[r.id] = r
	f.sendRunEventLocked(rp, r, "requested")
	return r
}

func (f *Fake) handleDispatch(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Ref              string         `json:"ref"`
		Inputs           map[string]any `json:"inputs"`
		ReturnRunDetails bool           `json:"return_run_details"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError(err.Error()))
		return
	}
	f.lockedRepo(w, r, func(rp *repo) answer {
		wf := rp.workflowByID(r.PathValue("workflow"))
		if wf == nil {
			return notFound()
		}
		branch := strings.TrimPrefix(body.Ref, "refs/heads/")
		if _, ok := rp.refs[branch]; !ok || branch == "" {
			return jsonAnswer(http.StatusUnprocessableEntity, simpleError(docDispatch, "No ref found for: "+body.Ref))
		}
		if len(body.Inputs) > 25 {
			return jsonAnswer(http.StatusUnprocessableEntity, simpleError(docDispatch, "you may only define up to 25 `inputs` for a `workflow_dispatch` event"))
		}
		sent := make(map[string]string, len(body.Inputs))
		for k, v := range body.Inputs {
			sent[k] = fmt.Sprint(v)
		}
		inputs, refusal := wf.checkInputs(sent)
		if refusal != "" {
			return jsonAnswer(http.StatusUnprocessableEntity, simpleError(docDispatch, refusal))
		}
		run := f.dispatchLocked(rp, wf, branch, inputs)
		details := map[string]any{
			"workflow_run_id": run.id,
			"run_url":         f.apiURL(rp, "actions/runs/"+strconv.FormatInt(run.id, 10)),
			"html_url":        f.htmlURL(rp, "actions/runs/"+strconv.FormatInt(run.id, 10)),
		}
		legacy := f.opts.LegacyDispatch
		if body.ReturnRunDetails && !legacy {
			return jsonAnswer(http.StatusOK, details)
		}
		return answer{status: http.StatusNoContent}
	})
}

func (f *Fake) runJSON(rp *repo, r *run) map[string]any {
	id := strconv.FormatInt(r.id, 10)
	c := rp.commitOf(r.headSHA)
	var headCommit any
	if c != nil {
		who := map[string]any{"name": c.author, "email": c.author + "@users.noreply.github.com"}
		headCommit = map[string]any{"id": r.headSHA, "tree_id": c.tree, "message": c.message,
			"timestamp": ts(c.at), "author": who, "committer": who}
	}
	var conclusion any
	if r.conclusion != "" {
		conclusion = r.conclusion
	}
	started := r.started
	if started.IsZero() {
		started = r.created
	}
	return map[string]any{
		"id": r.id, "name": r.wf.Name, "node_id": nodeID("WorkflowRun", r.id),
		"head_branch": r.headBranch, "head_sha": r.headSHA, "path": r.wf.path(),
		"display_title": r.displayTitle, "run_number": r.number, "event": r.event,
		"status": r.status, "conclusion": conclusion, "workflow_id": r.wf.id,
		"check_suite_id": r.id + 1, "check_suite_node_id": nodeID("CheckSuite", r.id+1),
		"url": f.apiURL(rp, "actions/runs/"+id), "html_url": f.htmlURL(rp, "actions/runs/"+id),
		"pull_requests": []any{}, "created_at": ts(r.created), "updated_at": ts(r.updated),
		"actor": f.userJSON(r.actor), "triggering_actor": f.userJSON(r.actor),
		"run_attempt": 1, "run_started_at": ts(started),
		"jobs_url":             f.apiURL(rp, "actions/runs/"+id+"/jobs"),
		"logs_url":             f.apiURL(rp, "actions/runs/"+id+"/logs"),
		"check_suite_url":      f.apiURL(rp, "check-suites/"+strconv.FormatInt(r.id+1, 10)),
		"artifacts_url":        f.apiURL(rp, "actions/runs/"+id+"/artifacts"),
		"cancel_url":           f.apiURL(rp, "actions/runs/"+id+"/cancel"),
		"rerun_url":            f.apiURL(rp, "actions/runs/"+id+"/rerun"),
		"previous_attempt_url": nil,
		"workflow_url":         f.apiURL(rp, "actions/workflows/"+strconv.FormatInt(r.wf.id, 10)),
		"head_commit":          headCommit,
		"repository":           f.repoMinimalJSON(rp),
		"head_repository":      f.repoMinimalJSON(rp),
	}
}

func (f *Fake) workflowJSON(rp *repo, wf *workflow) map[string]any {
	id := strconv.FormatInt(wf.id, 10)
	return map[string]any{
		"id": wf.id, "node_id": nodeID("Workflow", wf.id), "name": wf.Name, "path": wf.path(),
		"state": "active", "created_at": ts(wf.created), "updated_at": ts(wf.created),
		"url":       f.apiURL(rp, "actions/workflows/"+id),
		"html_url":  f.htmlURL(rp, "blob/"+rp.defaultBranch+"/"+wf.path()),
		"badge_url": f.htmlURL(rp, "workflows/"+wf.Name+"/badge.svg"),
	}
}

func (f *Fake) handleListWorkflows(w http.ResponseWriter, r *http.Request) {
	f.lockedRepo(w, r, func(rp *repo) answer {
		list := make([]map[string]any, 0, len(rp.workflows))
		for _, wf := range rp.workflows {
			list = append(list, f.workflowJSON(rp, wf))
		}
		start, end, link := pageBounds(r, len(list))
		return withLink(jsonAnswer(http.StatusOK, map[string]any{"total_count": len(list), "workflows": list[start:end]}), link)
	})
}

func (f *Fake) handleGetWorkflow(w http.ResponseWriter, r *http.Request) {
	f.lockedRepo(w, r, func(rp *repo) answer {
		wf := rp.workflowByID(r.PathValue("workflow"))
		if wf == nil {
			return notFound()
		}
		return jsonAnswer(http.StatusOK, f.workflowJSON(rp, wf))
	})
}

func (f *Fake) handleListRuns(w http.ResponseWriter, r *http.Request) {
	f.lockedRepo(w, r, func(rp *repo) answer {
		var wf *workflow
		if id := r.PathValue("workflow"); id != "" {
			if wf = rp.workflowByID(id); wf == nil {
				return notFound()
			}
		}
		q := r.URL.Query()
		var after, before time.Time
		if c := q.Get("created"); c != "" {
			switch {
			case strings.HasPrefix(c, ">="):
				after, _ = time.Parse(time.RFC3339, c[2:])
			case strings.HasPrefix(c, "<="):
				before, _ = time.Parse(time.RFC3339, c[2:])
			}
		}
		ids := make([]int64, 0, len(rp.runs))
		for id := range rp.runs {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] > ids[j] }) // newest first
		list := []map[string]any{}
		for _, id := range ids {
			run := rp.runs[id]
			switch {
			case wf != nil && run.wf != wf,
				q.Get("branch") != "" && run.headBranch != q.Get("branch"),
				q.Get("event") != "" && run.event != q.Get("event"),
				q.Get("head_sha") != "" && run.headSHA != q.Get("head_sha"),
				q.Get("status") != "" && run.status != q.Get("status") && run.conclusion != q.Get("status"),
				!after.IsZero() && run.created.Before(after),
				!before.IsZero() && run.created.After(before),
				f.lagHidesLocked(run):
				continue
			}
			list = append(list, f.runJSON(rp, run))
		}
		start, end, link := pageBounds(r, len(list))
		return withLink(jsonAnswer(http.StatusOK, map[string]any{"total_count": len(list), "workflow_runs": list[start:end]}), link)
	})
}

func (f *Fake) routeRun(r *http.Request) (*repo, *run) {
	rp := f.routeRepo(r)
	if rp == nil {
		return nil, nil
	}
	id, err := strconv.ParseInt(r.PathValue("run_id"), 10, 64)
	if err != nil || rp.runs[id] == nil {
		return nil, nil
	}
	return rp, rp.runs[id]
}

func (f *Fake) handleGetRun(w http.ResponseWriter, r *http.Request) {
	f.locked(w, func() answer {
		rp, run := f.routeRun(r)
		if run == nil {
			return notFound()
		}
		return jsonAnswer(http.StatusOK, f.runJSON(rp, run))
	})
}

func (f *Fake) jobJSON(rp *repo, r *run, j *job) map[string]any {
	id := strconv.FormatInt(j.id, 10)
	var conclusion any
	if j.conclusion != "" {
		conclusion = j.conclusion
	}
	// GitHub's job schema requires started_at (a string, not null): a
	// queued job carries its creation time there.
	started := j.started
	if started.IsZero() {
		started = r.created
	}
	step := map[string]any{"name": "Run " + j.name, "status": j.status, "conclusion": conclusion,
		"number": 1, "started_at": ts(j.started), "completed_at": ts(j.completed)}
	return map[string]any{
		"id": j.id, "run_id": r.id, "run_url": f.apiURL(rp, "actions/runs/"+strconv.FormatInt(r.id, 10)),
		"node_id": nodeID("CheckRun", j.id), "head_sha": r.headSHA, "head_branch": r.headBranch,
		"url": f.apiURL(rp, "actions/jobs/"+id), "html_url": f.htmlURL(rp, "actions/runs/"+strconv.FormatInt(r.id, 10)+"/job/"+id),
		"status": j.status, "conclusion": conclusion, "created_at": ts(r.created),
		"started_at": ts(started), "completed_at": ts(j.completed), "name": j.name,
		"steps": []any{step}, "check_run_url": f.apiURL(rp, "check-runs/"+id),
		"labels": []string{"ubuntu-latest"}, "runner_id": 1, "runner_name": "fake-runner",
		"runner_group_id": 1, "runner_group_name": "GitHub Actions", "workflow_name": r.wf.Name,
		"run_attempt": 1,
	}
}

func (f *Fake) handleListJobs(w http.ResponseWriter, r *http.Request) {
	f.locked(w, func() answer {
		rp, run := f.routeRun(r)
		if run == nil {
			return notFound()
		}
		list := make([]map[string]any, 0, len(run.jobs))
		for _, id := range run.jobs {
			list = append(list, f.jobJSON(rp, run, rp.jobs[id]))
		}
		start, end, link := pageBounds(r, len(list))
		return withLink(jsonAnswer(http.StatusOK, map[string]any{"total_count": len(list), "jobs": list[start:end]}), link)
	})
}

func (f *Fake) routeJob(r *http.Request) (*repo, *job) {
	rp := f.routeRepo(r)
	if rp == nil {
		return nil, nil
	}
	id, err := strconv.ParseInt(r.PathValue("job_id"), 10, 64)
	if err != nil || rp.jobs[id] == nil {
		return nil, nil
	}
	return rp, rp.jobs[id]
}

func (f *Fake) handleGetJob(w http.ResponseWriter, r *http.Request) {
	f.locked(w, func() answer {
		rp, j := f.routeJob(r)
		if j == nil {
			return notFound()
		}
		return jsonAnswer(http.StatusOK, f.jobJSON(rp, rp.runs[j.runID], j))
	})
}

func (f *Fake) handleJobLogs(w http.ResponseWriter, r *http.Request) {
	f.locked(w, func() answer {
		_, j := f.routeJob(r)
		if j == nil {
			return notFound()
		}
		return answer{status: http.StatusFound}.withHeader("Location", fmt.Sprintf("%s/_fake/logs/%d", f.linkBase(), j.id))
	})
}

func (f *Fake) handleLogDownload(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("job_id"), 10, 64)
	f.locked(w, func() answer {
		var logs string
		found := false
		if err == nil {
			for _, rp := range f.repos {
				if j, ok := rp.jobs[id]; ok {
					logs, found = j.logs, true
				}
			}
		}
		if !found {
			return plainNotFound()
		}
		return textAnswer([]byte(logs))
	})
}
