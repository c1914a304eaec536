package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

// receiver records the webhook deliveries posted to it.
type receiver struct {
	mu   sync.Mutex
	got  []http.Header
	body [][]byte
	srv  *httptest.Server
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, req.Header.Clone())
		r.body = append(r.body, b)
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) deliveries() (ids []string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ok = true
	for i, h := range r.got {
		ids = append(ids, h.Get("X-GitHub-Event")+"/"+h.Get("X-GitHub-Delivery"))
		if h.Get("X-Hub-Signature-256") != githubtest.Sign("s3cret", r.body[i]) {
			ok = false
		}
	}
	return ids, ok
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// start builds the command once, starts it on a free port with args and
// returns its base URL.
func start(t *testing.T, args ...string) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fake-github-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "fake-github")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(binPath, append([]string{"--listen", addr}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("exit after SIGTERM: %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("no exit within 10 s of SIGTERM")
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, "listening on http://"+addr) {
		t.Fatalf("banner %q, %v", line, err)
	}
	go io.Copy(io.Discard, out)
	return "http://" + addr
}

func do(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	return resp.StatusCode
}

type runsAnswer struct {
	Runs []debugRun `json:"runs"`
}

func dispatch(t *testing.T, base, nonce string) (int, int64) {
	t.Helper()
	var res struct {
		ID int64 `json:"workflow_run_id"`
	}
	body := fmt.Sprintf(`{"ref":"main","inputs":{"request_id":"req-1","tfpilot_nonce":%q},"return_run_details":true}`, nonce)
	st := do(t, http.MethodPost, base+"/repos/acme/infra/actions/workflows/plan.yml/dispatches", body, &res)
	return st, res.ID
}

// TestFakeGitHub_FansEveryDeliveryOutToEveryTarget: both receivers get
// every delivery, with one delivery id and a valid signature, and the
// debug API reports each target's answer.
func TestFakeGitHub_FansEveryDeliveryOutToEveryTarget(t *testing.T) {
	a, b := newReceiver(t), newReceiver(t)
	base := start(t, "--webhook-secret", "s3cret", "--webhook-target", a.srv.URL, "--webhook-target", b.srv.URL,
		"--queue-delay", "20ms", "--run-delay", "20ms")
	if st, id := dispatch(t, base, "n1"); st != http.StatusOK || id == 0 {
		t.Fatalf("dispatch: %d, run %d", st, id)
	}
	var runs runsAnswer
	deadline := time.Now().Add(30 * time.Second)
	for { // auto mode completes the run: requested, in_progress, completed
		do(t, http.MethodGet, base+"/_debug/runs", "", &runs)
		if len(runs.Runs) == 1 && runs.Runs[0].Status == "completed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run not completed on its own within 30 s: %+v", runs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := runs.Runs[0]; r.Nonce != "n1" || r.RequestID != "req-1" || r.Conclusion != "success" {
		t.Errorf("debug run %+v: want nonce n1, request req-1, success", r)
	}
	if st := do(t, http.MethodPost, base+"/_debug/flush", "", nil); st != http.StatusOK {
		t.Fatalf("flush: %d", st)
	}
	ia, okA := a.deliveries()
	ib, okB := b.deliveries()
	if len(ia) != 3 || strings.Join(ia, ",") != strings.Join(ib, ",") {
		t.Errorf("target A got %v, target B got %v: want the same 3 workflow_run deliveries", ia, ib)
	}
	if !okA || !okB {
		t.Error("a delivery's X-Hub-Signature-256 does not match its body")
	}
	var dl struct{ Deliveries []delivery }
	do(t, http.MethodGet, base+"/_debug/deliveries", "", &dl)
	if len(dl.Deliveries) != 3 {
		t.Fatalf("debug deliveries: %+v", dl)
	}
	for _, d := range dl.Deliveries {
		if len(d.Targets) != 2 || d.Targets[0].Status != http.StatusAccepted || d.Targets[1].Status != http.StatusAccepted {
			t.Errorf("delivery %s targets %+v: want 202 from both", d.ID, d.Targets)
		}
	}
}

// TestFakeGitHub_RunsListLagsDispatch: a new run is missing from the
// run lists for the lag while Get run and the debug API see it.
func TestFakeGitHub_RunsListLagsDispatch(t *testing.T) {
	base := start(t, "--runs-list-lag", "1h", "--auto=false")
	_, id := dispatch(t, base, "n2")
	var list struct {
		Total int `json:"total_count"`
	}
	for _, u := range []string{"/repos/acme/infra/actions/runs", "/repos/acme/infra/actions/workflows/plan.yml/runs"} {
		if st := do(t, http.MethodGet, base+u, "", &list); st != http.StatusOK || list.Total != 0 {
			t.Errorf("GET %s during the lag: %d, %d runs; want 0", u, st, list.Total)
		}
	}
	if st := do(t, http.MethodGet, fmt.Sprintf("%s/repos/acme/infra/actions/runs/%d", base, id), "", nil); st != http.StatusOK {
		t.Errorf("GET run %d during the lag: %d; want 200", id, st)
	}
	if st := do(t, http.MethodPut, base+"/_debug/runs-list-lag", `{"lag":"0s"}`, nil); st != http.StatusOK {
		t.Fatalf("set lag: %d", st)
	}
	if do(t, http.MethodGet, base+"/repos/acme/infra/actions/runs", "", &list); list.Total != 1 {
		t.Errorf("after the lag the list has %d runs; want 1", list.Total)
	}
}

// TestFakeGitHub_InjectsFailedAndAmbiguousDispatches: a server_error
// fault refuses a dispatch without a run; an ambiguous one starts the
// run and loses the answer. Calls are counted.
func TestFakeGitHub_InjectsFailedAndAmbiguousDispatches(t *testing.T) {
	base := start(t, "--auto=false")
	arm := `[{"endpoint":"dispatch","kind":"server_error"},{"endpoint":"dispatch","kind":"ambiguous"}]`
	var pending struct{ Pending int }
	if st := do(t, http.MethodPost, base+"/_debug/faults", arm, &pending); st != http.StatusOK || pending.Pending != 2 {
		t.Fatalf("arm: %d, %+v", st, pending)
	}
	if st, _ := dispatch(t, base, "refused"); st != http.StatusBadGateway {
		t.Errorf("first dispatch: %d; want 502", st)
	}
	if st, _ := dispatch(t, base, "lost"); st != http.StatusInternalServerError {
		t.Errorf("second dispatch: %d; want 500", st)
	}
	var runs runsAnswer
	do(t, http.MethodGet, base+"/_debug/runs", "", &runs)
	if len(runs.Runs) != 1 || runs.Runs[0].Nonce != "lost" {
		t.Errorf("runs %+v: want only the ambiguous dispatch's run", runs.Runs)
	}
	var calls struct{ Calls map[string]int }
	do(t, http.MethodGet, base+"/_debug/calls", "", &calls)
	if calls.Calls[githubtest.EndpointDispatch] != 2 {
		t.Errorf("calls %v: want 2 dispatches", calls.Calls)
	}
	if st := do(t, http.MethodPost, base+"/_debug/faults", `{"kind":"nope"}`, nil); st != http.StatusBadRequest {
		t.Errorf("unknown fault kind: %d; want 400", st)
	}
}

// TestFakeGitHub_ReposFromTheServersConfig: --config with the reference
// server's demo config creates its target repositories with a main.tf
// in each environment folder.
func TestFakeGitHub_ReposFromTheServersConfig(t *testing.T) {
	base := start(t, "--config", "../connect-server/demo.json")
	for _, p := range []string{"envs/dev/main.tf", "envs/prod/main.tf"} {
		if st := do(t, http.MethodGet, base+"/repos/acme/infra/contents/"+p, "", nil); st != http.StatusOK {
			t.Errorf("GET contents %s: %d; want 200", p, st)
		}
	}
}

// TestFakeGitHub_HelpExitsZero: -h prints the flags and succeeds.
func TestFakeGitHub_HelpExitsZero(t *testing.T) {
	start(t) // builds the binary
	for _, arg := range []string{"-h", "--help"} {
		cmd := exec.Command(binPath, arg)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || !strings.Contains(string(out), "-webhook-target") || stderr.Len() > 0 {
			t.Errorf("%s: %v; want exit 0 and the usage on stdout only\nstdout:\n%s\nstderr:\n%s", arg, err, out, stderr.String())
		}
	}
}

// TestRepoSpecs_Table covers --repo parsing and the default repository.
func TestRepoSpecs_Table(t *testing.T) {
	for _, tc := range []struct {
		repos   []string
		want    string
		wantErr bool
	}{
		{nil, "acme/infra", false},
		{[]string{"a/b", "c/d", "a/b"}, "a/b,c/d", false},
		{[]string{"nope"}, "", true},
		{[]string{"a/b/c"}, "", true},
		{[]string{"/b"}, "", true},
	} {
		specs, err := repoSpecs(options{repos: tc.repos})
		if (err != nil) != tc.wantErr {
			t.Errorf("%v: err %v", tc.repos, err)
			continue
		}
		var names []string
		for _, s := range specs {
			names = append(names, s.Owner+"/"+s.Name)
		}
		if got := strings.Join(names, ","); !tc.wantErr && got != tc.want {
			t.Errorf("%v: %s; want %s", tc.repos, got, tc.want)
		}
	}
}

// TestFakeGitHub_DeadTargetDelaysNobody: a target that refuses
// connections (a killed replica) gets errors recorded, and the live
// target still gets every delivery.
func TestFakeGitHub_DeadTargetDelaysNobody(t *testing.T) {
	live := newReceiver(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String() + "/webhooks/github"
	l.Close()
	base := start(t, "--webhook-secret", "s3cret", "--webhook-target", dead, "--webhook-target", live.srv.URL, "--auto=false")
	for _, n := range []string{"a", "b", "c"} {
		dispatch(t, base, n)
	}
	do(t, http.MethodPost, base+"/_debug/flush", "", nil)
	if ids, _ := live.deliveries(); len(ids) != 3 {
		t.Errorf("live target got %v; want 3 deliveries", ids)
	}
	var dl struct{ Deliveries []delivery }
	do(t, http.MethodGet, base+"/_debug/deliveries", "", &dl)
	for _, d := range dl.Deliveries {
		if d.Targets[0].Error == "" || d.Targets[0].Status != 0 || d.Targets[1].Status != http.StatusAccepted {
			t.Errorf("delivery %s targets %+v: want an error at the dead target and 202 at the live one", d.ID, d.Targets)
		}
	}
}

// TestFakeGitHub_PublicURLNamesTheLinks: with --public-url, a log
// download (a redirect, as on GitHub) and contents' download_url point
// at the address the servers reach the fake at, as in compose.yaml,
// not at a loopback listener of the fake's own; a malformed one is
// refused at start.
func TestFakeGitHub_PublicURLNamesTheLinks(t *testing.T) {
	base := start(t, "--public-url", "http://fake-github.internal:8090")
	var file struct {
		DownloadURL string `json:"download_url"`
	}
	if st := do(t, http.MethodGet, base+"/repos/acme/infra/contents/envs/dev/main.tf", "", &file); st != http.StatusOK {
		t.Fatalf("GET contents: %d", st)
	}
	if !strings.HasPrefix(file.DownloadURL, "http://fake-github.internal:8090/") {
		t.Errorf("download_url %q: want it under --public-url", file.DownloadURL)
	}
	if _, err := parseFlags([]string{"--public-url", "fake-github:8090"}, io.Discard, io.Discard); err == nil {
		t.Error("--public-url without a scheme was accepted")
	}
}
