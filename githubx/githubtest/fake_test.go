package githubtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/webhook/webhooktest"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newFake(t *testing.T, opts githubtest.Options) (*githubtest.Fake, *githubtest.ManualClock) {
	t.Helper()
	clock := githubtest.NewManualClock(t0)
	if opts.Clock == nil {
		opts.Clock = clock
	}
	f := githubtest.New(opts)
	t.Cleanup(f.Close)
	if _, err := f.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra",
		Files: map[string]string{"README.md": "infra\n", "envs/dev/main.tf": "# dev\n"}}); err != nil {
		t.Fatal(err)
	}
	return f, clock
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func call(t *testing.T, f *githubtest.Fake, method, path string, body any, hdr ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.URL()+strings.TrimPrefix(path, "/"), rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer test-token")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{status: -1}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b}
}

// openPR pushes a branch with a change and opens a pull request for it.
func openPR(t *testing.T, f *githubtest.Fake, branch string) int {
	t.Helper()
	if _, err := f.As("dev").Push("acme", "infra", branch, "change", map[string]string{"envs/dev/" + branch + ".tf": "x\n"}); err != nil {
		t.Fatal(err)
	}
	a := call(t, f, "POST", "/repos/acme/infra/pulls", map[string]any{"title": "t", "head": branch, "base": "main"})
	if a.status != http.StatusCreated {
		t.Fatalf("create PR: %d %s", a.status, a.body)
	}
	var pr struct{ Number int }
	_ = json.Unmarshal(a.body, &pr)
	return pr.Number
}

func TestConditionalGet_UnchangedPullRequestSpendsZeroUnits(t *testing.T) {
	t.Parallel()
	f, clock := newFake(t, githubtest.Options{})
	n := openPR(t, f, "feature")
	first := call(t, f, "GET", "/repos/acme/infra/pulls/1", nil)
	etag := first.header.Get("ETag")
	if first.status != 200 || etag == "" {
		t.Fatalf("first GET: %d etag %q", first.status, etag)
	}
	spent := f.RateLimitSpent()
	again := call(t, f, "GET", "/repos/acme/infra/pulls/1", nil, "If-None-Match", etag)
	if again.status != http.StatusNotModified || len(again.body) != 0 {
		t.Fatalf("conditional GET: %d %q, want 304 and no body", again.status, again.body)
	}
	if got := f.RateLimitSpent(); got != spent {
		t.Fatalf("304 spent %d units, want 0", got-spent)
	}
	clock.Advance(time.Minute)
	if err := f.As("reviewer").Approve("acme", "infra", n); err != nil {
		t.Fatal(err)
	}
	// A review moves the PR's updated_at: the ETag changes and the next
	// conditional GET costs a unit.
	changed := call(t, f, "GET", "/repos/acme/infra/pulls/1", nil, "If-None-Match", etag)
	if changed.status != 200 || f.RateLimitSpent() != spent+1 {
		t.Fatalf("changed PR: %d, spent %d", changed.status, f.RateLimitSpent()-spent)
	}
}

func TestRateLimit_ExhaustedBudgetAnswers403UntilReset(t *testing.T) {
	t.Parallel()
	f, clock := newFake(t, githubtest.Options{RateLimit: 3})
	for i := 0; i < 3; i++ {
		if a := call(t, f, "GET", "/repos/acme/infra", nil); a.status != 200 {
			t.Fatalf("call %d: %d", i, a.status)
		}
	}
	a := call(t, f, "GET", "/repos/acme/infra", nil)
	if a.status != http.StatusForbidden || a.header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("over budget: %d remaining %q", a.status, a.header.Get("X-RateLimit-Remaining"))
	}
	for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Used", "X-RateLimit-Reset", "X-RateLimit-Resource"} {
		if a.header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	clock.Advance(time.Hour)
	if a := call(t, f, "GET", "/repos/acme/infra", nil); a.status != 200 || a.header.Get("X-RateLimit-Remaining") != "2" {
		t.Fatalf("after reset: %d remaining %q", a.status, a.header.Get("X-RateLimit-Remaining"))
	}
}

func TestFaults_EachKindAnswersAsGitHubWould(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		fault      githubtest.Fault
		wantStatus int
		applied    bool
	}{
		{"server error", githubtest.Fault{Kind: githubtest.FaultServerError, Status: 503}, 503, false},
		{"too many requests", githubtest.Fault{Kind: githubtest.FaultTooManyRequests, RetryAfter: 2 * time.Second}, 429, false},
		{"secondary limit", githubtest.Fault{Kind: githubtest.FaultSecondaryRateLimit, RetryAfter: 3 * time.Second}, 403, false},
		{"latency", githubtest.Fault{Kind: githubtest.FaultLatency, Delay: 10 * time.Millisecond}, 204, true},
		{"ambiguous", githubtest.Fault{Kind: githubtest.FaultAmbiguous}, 500, true},
		{"ambiguous drop", githubtest.Fault{Kind: githubtest.FaultAmbiguous, Drop: true}, -1, true},
		{"connection reset", githubtest.Fault{Kind: githubtest.FaultConnectionReset}, -1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := newFake(t, githubtest.Options{})
			tc.fault.Endpoint = githubtest.EndpointDispatch
			f.InjectFault(tc.fault)
			a := call(t, f, "POST", "/repos/acme/infra/actions/workflows/plan.yml/dispatches",
				map[string]any{"ref": "main", "inputs": map[string]any{"request_id": "req-1", "tfpilot_nonce": "n1"}})
			if a.status != tc.wantStatus {
				t.Fatalf("status %d, want %d (%s)", a.status, tc.wantStatus, a.body)
			}
			if tc.fault.RetryAfter > 0 && a.header.Get("Retry-After") == "" {
				t.Errorf("no Retry-After")
			}
			if got := len(f.Runs("acme", "infra")); (got == 1) != tc.applied {
				t.Fatalf("runs = %d, applied want %v", got, tc.applied)
			}
			if f.PendingFaults() != 0 {
				t.Fatalf("fault not consumed")
			}
		})
	}
}

func TestDispatch_ReturnRunDetailsAndRunNameCarryNonce(t *testing.T) {
	t.Parallel()
	for _, legacy := range []bool{false, true} {
		f, _ := newFake(t, githubtest.Options{LegacyDispatch: legacy})
		a := call(t, f, "POST", "/repos/acme/infra/actions/workflows/apply.yml/dispatches",
			map[string]any{"ref": "main", "return_run_details": true,
				"inputs": map[string]any{"request_id": "req-1", "tfpilot_nonce": "abc"}})
		runs := f.Runs("acme", "infra")
		if len(runs) != 1 || runs[0].DisplayTitle != "tfpilot req-1 abc" || runs[0].Inputs["tfpilot_nonce"] != "abc" {
			t.Fatalf("runs = %+v", runs)
		}
		if legacy {
			if a.status != http.StatusNoContent {
				t.Fatalf("legacy dispatch: %d", a.status)
			}
			continue
		}
		var d struct {
			WorkflowRunID int64  `json:"workflow_run_id"`
			RunURL        string `json:"run_url"`
			HTMLURL       string `json:"html_url"`
		}
		if err := json.Unmarshal(a.body, &d); err != nil || a.status != 200 || d.WorkflowRunID != runs[0].ID || d.RunURL == "" || d.HTMLURL == "" {
			t.Fatalf("dispatch answer %d %s", a.status, a.body)
		}
	}
}

func TestMerge_RefusesStaleHeadAndConflicts(t *testing.T) {
	t.Parallel()
	f, _ := newFake(t, githubtest.Options{})
	n := openPR(t, f, "feature")
	pr, _ := f.PR("acme", "infra", n)
	if _, err := f.As("dev").Push("acme", "infra", "feature", "more", map[string]string{"README.md": "feature\n"}); err != nil {
		t.Fatal(err)
	}
	a := call(t, f, "PUT", "/repos/acme/infra/pulls/1/merge", map[string]any{"sha": pr.HeadSHA})
	if a.status != http.StatusConflict {
		t.Fatalf("stale head merge: %d %s", a.status, a.body)
	}
	// main changes README differently: the PR conflicts.
	if _, err := f.As("dev").Push("acme", "infra", "main", "main", map[string]string{"README.md": "main\n"}); err != nil {
		t.Fatal(err)
	}
	a = call(t, f, "PUT", "/repos/acme/infra/pulls/1/merge", map[string]any{})
	if a.status != http.StatusMethodNotAllowed {
		t.Fatalf("conflicting merge: %d %s", a.status, a.body)
	}
}

func TestUpdateRef_RefusesNonFastForward(t *testing.T) {
	t.Parallel()
	f, _ := newFake(t, githubtest.Options{})
	base, _ := f.Branch("acme", "infra", "main")
	if _, err := f.As("dev").Push("acme", "infra", "main", "ahead", map[string]string{"a": "1"}); err != nil {
		t.Fatal(err)
	}
	a := call(t, f, "PATCH", "/repos/acme/infra/git/refs/heads/main", map[string]any{"sha": base})
	if a.status != http.StatusUnprocessableEntity {
		t.Fatalf("non-fast-forward: %d", a.status)
	}
	a = call(t, f, "PATCH", "/repos/acme/infra/git/refs/heads/main", map[string]any{"sha": base, "force": true})
	if a.status != http.StatusOK {
		t.Fatalf("forced: %d", a.status)
	}
}

func TestAuto_RunsCompleteOnTheClockWithPerWorkflowConclusion(t *testing.T) {
	t.Parallel()
	f, clock := newFake(t, githubtest.Options{Auto: &githubtest.Auto{
		QueueDelay: time.Second, RunDelay: 5 * time.Second, Poll: time.Hour,
		Conclusions: map[string]string{"apply.yml": "failure"}}})
	for _, wf := range []string{"plan.yml", "apply.yml"} {
		call(t, f, "POST", "/repos/acme/infra/actions/workflows/"+wf+"/dispatches", map[string]any{"ref": "main",
			"inputs": map[string]any{"request_id": "req-1", "tfpilot_nonce": "n-" + wf}})
	}
	f.Tick()
	if r := f.Runs("acme", "infra"); r[0].Status != "queued" {
		t.Fatalf("before delay: %s", r[0].Status)
	}
	clock.Advance(time.Second)
	f.Tick()
	if r := f.Runs("acme", "infra"); r[0].Status != "in_progress" {
		t.Fatalf("after queue delay: %s", r[0].Status)
	}
	clock.Advance(5 * time.Second)
	f.Tick()
	r := f.Runs("acme", "infra")
	if r[0].Conclusion != "success" || r[1].Conclusion != "failure" {
		t.Fatalf("conclusions %q %q", r[0].Conclusion, r[1].Conclusion)
	}
}

// receiver records signed deliveries.
type receiver struct {
	mu   sync.Mutex
	got  []http.Header
	body [][]byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.got = append(rc.got, r.Header.Clone())
	rc.body = append(rc.body, b)
	rc.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func keys(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestWebhookPayloads_MatchFixtureKeySets(t *testing.T) {
	t.Parallel()
	rc := &receiver{}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)
	f, _ := newFake(t, githubtest.Options{WebhookURL: hook.URL, WebhookSecret: "s3cret"})
	n := openPR(t, f, "feature")
	if _, err := f.As("dev").Push("acme", "infra", "feature", "again", map[string]string{"b": "2"}); err != nil {
		t.Fatal(err)
	}
	if err := f.As("reviewer").Approve("acme", "infra", n); err != nil {
		t.Fatal(err)
	}
	a := call(t, f, "POST", "/repos/acme/infra/actions/workflows/plan.yml/dispatches", map[string]any{"ref": "feature",
		"inputs": map[string]any{"request_id": "req-1", "tfpilot_nonce": "n1"}})
	if a.status != http.StatusNoContent {
		t.Fatalf("dispatch %d", a.status)
	}
	run := f.Runs("acme", "infra")[0]
	if err := f.Complete(run.ID, "success"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.As("reviewer").Merge("acme", "infra", n); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	// Every delivery reached the receiver, signed.
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var seen []string
	for i, h := range rc.got {
		if h.Get("X-Hub-Signature-256") != githubtest.Sign("s3cret", rc.body[i]) || h.Get("X-GitHub-Delivery") == "" {
			t.Errorf("delivery %d badly signed", i)
		}
		var p map[string]any
		_ = json.Unmarshal(rc.body[i], &p)
		seen = append(seen, h.Get("X-GitHub-Event")+"."+p["action"].(string))
	}
	want := []string{"pull_request.opened", "pull_request.synchronize", "pull_request_review.submitted",
		"workflow_run.requested", "workflow_run.in_progress", "workflow_run.completed", "pull_request.closed"}
	if strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Fatalf("deliveries %v, want %v", seen, want)
	}

	// Key sets match GitHub's real payloads. organization and installation
	// appear only for organisation repositories and App installations.
	optional := map[string]bool{"organization": true, "installation": true}
	paths := [][]string{{}, {"repository"}, {"sender"}, {"workflow_run"}, {"workflow"},
		{"workflow_run", "repository"}, {"workflow_run", "head_commit"}, {"workflow_run", "actor"},
		{"pull_request"}, {"pull_request", "head"}, {"pull_request", "base"}, {"pull_request", "base", "repo"},
		{"pull_request", "_links"}, {"review"}, {"review", "_links"}}
	for i, name := range seen {
		raw, err := webhooktest.ReadFixture(name + ".json")
		if errors.Is(err, fs.ErrNotExist) {
			continue // no fixture for workflow_run.in_progress
		}
		var fixture, ours map[string]any
		if err := json.Unmarshal(raw, &fixture); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(rc.body[i], &ours)
		for _, p := range paths {
			fv, ov := any(fixture), any(ours)
			for _, k := range p {
				fm, _ := fv.(map[string]any)
				fv = fm[k]
				if om, ok := ov.(map[string]any); ok {
					ov = om[k]
				}
			}
			if _, ok := fv.(map[string]any); !ok {
				continue
			}
			fk, ok := keys(fv), keys(ov)
			var missing, extra []string
			set := map[string]bool{}
			for _, k := range ok {
				set[k] = true
			}
			for _, k := range fk {
				if !set[k] && !(len(p) == 0 && optional[k]) {
					missing = append(missing, k)
				}
				delete(set, k)
			}
			for k := range set {
				extra = append(extra, k)
			}
			if len(missing) > 0 || len(extra) > 0 {
				t.Errorf("%s %v: missing %v, extra %v", name, p, missing, extra)
			}
		}
	}
}

func TestRedeliver_SendsTheSameDeliveryAgain(t *testing.T) {
	t.Parallel()
	rc := &receiver{}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)
	f, _ := newFake(t, githubtest.Options{})
	f.SetWebhook(hook.URL, "later-secret") // the receiver started after the fake
	openPR(t, f, "feature")
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.Flush(c); err != nil {
		t.Fatal(err)
	}
	first := f.Deliveries()[0]
	if err := f.Redeliver(first.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.Flush(c); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) != 2 || rc.got[1].Get("X-GitHub-Delivery") != first.ID || !bytes.Equal(rc.body[0], rc.body[1]) {
		t.Fatalf("got %d deliveries; redelivery id %q, want %q", len(rc.got), rc.got[len(rc.got)-1].Get("X-GitHub-Delivery"), first.ID)
	}
	if rc.got[0].Get("X-Hub-Signature-256") != githubtest.Sign("later-secret", rc.body[0]) {
		t.Fatal("not signed with the secret set by SetWebhook")
	}
	if err := f.Redeliver("no-such-id"); !errors.Is(err, githubtest.ErrNotFound) {
		t.Fatalf("Redeliver unknown: %v", err)
	}
}

func TestHandler_ServesTheSameStateOnAnotherListener(t *testing.T) {
	t.Parallel()
	f, _ := newFake(t, githubtest.Options{})
	other := httptest.NewServer(f.Handler())
	t.Cleanup(other.Close)
	req, _ := http.NewRequest("GET", other.URL+"/repos/acme/infra/contents/README.md", nil)
	req.Header.Set("Authorization", "Bearer x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || f.CallCount(githubtest.EndpointGetContents) != 1 {
		t.Fatalf("status %d, calls %d", resp.StatusCode, f.CallCount(githubtest.EndpointGetContents))
	}
	if a := call(t, f, "GET", "/no/such/route", nil); a.status != 404 || !strings.Contains(string(a.body), "Not Found") {
		t.Fatalf("unknown route: %d %s", a.status, a.body)
	}
}
