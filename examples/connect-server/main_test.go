package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestDemoBinary_RunsTheREADMEsBackstageCalls builds the server, starts
// it with no flags but a free port (demo mode), and runs the curl calls
// of the README's Backstage block as plain HTTP/JSON, as a Backstage
// plugin would: the request must reach STATUS_APPLIED within a minute.
// Then it stops the server with SIGTERM and expects a clean exit.
func TestDemoBinary_RunsTheREADMEsBackstageCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("uses SIGTERM")
	}
	t.Parallel()
	calls := readmeCalls(t)
	srv := startBinary(t, nil, nil)
	vars := srv.vars
	for _, c := range calls {
		c = c.expand(vars)
		switch {
		case strings.HasSuffix(c.url, "/Create"):
			body := c.do(t)
			var res struct{ Request struct{ ID, Status string } }
			json.Unmarshal(body, &res)
			if res.Request.ID == "" || res.Request.Status != "STATUS_PLANNING" {
				t.Fatalf("Create answered %s", body)
			}
			vars["ID"] = res.Request.ID
			if again := c.do(t); !strings.Contains(string(again), res.Request.ID) {
				t.Errorf("Create repeated with its Idempotency-Key made another request: %s", again)
			}
		case strings.HasSuffix(c.url, "/Get"):
			deadline := time.Now().Add(time.Minute)
			for {
				body := c.do(t)
				if strings.Contains(string(body), `"status":"STATUS_APPLIED"`) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not applied within a minute: %s", body)
				}
				time.Sleep(500 * time.Millisecond)
			}
		case strings.HasSuffix(c.url, "/ListEvents"):
			if body := string(c.do(t)); !strings.Contains(body, `"event":"apply_completed"`) {
				t.Errorf("events lack apply_completed: %s", body)
			}
		case strings.HasSuffix(c.url, "/List"):
			if body := string(c.do(t)); !strings.Contains(body, vars["ID"]) {
				t.Errorf("List of applied requests lacks %s: %s", vars["ID"], body)
			}
		case strings.HasSuffix(c.url, "/GetInsights"):
			if body := string(c.do(t)); !strings.Contains(body, `"appliesLast24h":1`) {
				t.Errorf("insights do not count the apply: %s", body)
			}
		case strings.HasSuffix(c.url, "/Destroy"):
			if body := string(c.do(t)); !strings.Contains(body, `"status":"STATUS_DESTROYING"`) {
				t.Errorf("Destroy answered %s", body)
			}
		default:
			t.Fatalf("the README calls %s, which this test does not check: add it", c.url)
		}
	}

	// The simulated GitHub's webhooks reached the endpoint and were
	// accepted (signed with the generated secret).
	res, err := http.Get(vars["TFPILOT_URL"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(metrics), `tfpilot_http_requests_total{code="200",route="/webhooks/github"}`) {
		t.Errorf("no webhook delivery was accepted:\n%s", grepLines(string(metrics), "tfpilot_http_requests_total"))
	}
	if strings.Contains(string(metrics), `route="/webhooks/github"`) && strings.Contains(string(metrics), `code="401",route="/webhooks/github"`) {
		t.Errorf("webhook deliveries were refused:\n%s", grepLines(string(metrics), "tfpilot_http_requests_total"))
	}

	// Without a token the same API answers 401 in Connect's JSON.
	res, err = http.Post(vars["TFPILOT_URL"]+"/tfpilot.v1.RequestService/List", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"code":"unauthenticated"`) {
		t.Errorf("no token: %d %s", res.StatusCode, body)
	}

	srv.stop(t)
}

// runningServer is the binary running in a test.
type runningServer struct {
	cmd    *exec.Cmd
	vars   map[string]string // TFPILOT_URL and TOKEN from the banner
	exited chan error
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// serverBinary builds the server once per test binary and returns its
// path.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tfpilot-server-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tfpilot-server")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// startBinary builds the server once per test binary, starts it on a
// free port with args and extra environment, and waits for its banner.
func startBinary(t *testing.T, args, env []string) *runningServer {
	t.Helper()
	cmd := exec.Command(serverBinary(t), append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(append(os.Environ(), "TFPILOT_LOG_LEVEL=warn"), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := new(lockedBuilder)
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &runningServer{cmd: cmd, exited: make(chan error, 1)}
	go func() { s.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	s.vars = demoVars(t, stdout, s.exited)
	return s
}

// stop sends SIGTERM and expects a clean exit.
func (s *runningServer) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit within 20 s of SIGTERM")
	}
}

type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// demoVars reads the banner until the URL and the token are printed,
// then keeps draining stdout.
func demoVars(t *testing.T, stdout io.Reader, exited <-chan error) map[string]string {
	t.Helper()
	kv := make(chan [2]string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "="); ok && (k == "TFPILOT_URL" || k == "TOKEN") {
				kv <- [2]string{k, v}
			}
		}
	}()
	vars := map[string]string{}
	timeout := time.After(30 * time.Second)
	for len(vars) < 2 {
		select {
		case p := <-kv:
			vars[p[0]] = p[1]
		case err := <-exited:
			t.Fatalf("the server exited before its banner: %v", err)
		case <-timeout:
			t.Fatal("the server printed no TFPILOT_URL and TOKEN within 30 s")
		}
	}
	return vars
}

// curlCall is one curl command of the README.
type curlCall struct {
	url     string
	headers [][2]string
	body    string
}

func (c curlCall) expand(vars map[string]string) curlCall {
	ex := func(s string) string { return os.Expand(s, func(k string) string { return vars[k] }) }
	out := curlCall{url: ex(c.url), body: ex(c.body)}
	for _, h := range c.headers {
		out.headers = append(out.headers, [2]string{h[0], ex(h[1])})
	}
	return out
}

// do posts the call and returns the body of a 200 answer.
func (c curlCall) do(t *testing.T) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, c.url, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range c.headers {
		req.Header.Set(h[0], h[1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !json.Valid(body) {
		t.Fatalf("POST %s: %d %s", c.url, res.StatusCode, body)
	}
	return body
}

// readmeCalls parses the curl commands of the README block marked
// "backstage-calls". Only what the block uses is understood: -s, -H, -d,
// single quotes (literal), double quotes (with \" escapes; $VAR expanded
// later) and backslash-newline continuations.
func readmeCalls(t *testing.T) []curlCall {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- backstage-calls")
	if !ok {
		t.Fatal("README.md has no backstage-calls block")
	}
	_, rest, _ = strings.Cut(rest, "```sh\n")
	block, _, _ := strings.Cut(rest, "```")
	block = strings.ReplaceAll(block, "\\\n", " ")
	var calls []curlCall
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words, err := shellWords(line)
		if err != nil || len(words) == 0 || words[0] != "curl" {
			t.Fatalf("README line %q: not a curl call this test understands (%v)", line, err)
		}
		var c curlCall
		for i := 1; i < len(words); i++ {
			switch w := words[i]; {
			case w == "-s":
			case w == "-H" && i+1 < len(words):
				i++
				k, v, _ := strings.Cut(words[i], ":")
				c.headers = append(c.headers, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
			case w == "-d" && i+1 < len(words):
				i++
				c.body = words[i]
			case !strings.HasPrefix(w, "-") && c.url == "":
				c.url = w
			default:
				t.Fatalf("README line %q: curl option %q not understood", line, w)
			}
		}
		calls = append(calls, c)
	}
	if len(calls) == 0 {
		t.Fatal("the backstage-calls block has no curl calls")
	}
	return calls
}

// shellWords splits a command line as sh would, without expanding
// variables.
func shellWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
	)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t':
			if in {
				words, in = append(words, cur.String()), false
				cur.Reset()
			}
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i, in = i+1+j, true
		case '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\' || s[i+1] == '$') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated double quote")
			}
			in = true
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

func TestShellWords_SplitsLikeSh(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want []string
	}{
		{`curl -s "$URL/x" -d '{"a":"b c"}'`, []string{"curl", "-s", "$URL/x", "-d", `{"a":"b c"}`}},
		{`-d "{\"id\":\"$ID\"}"`, []string{"-d", `{"id":"$ID"}`}},
		{`a'b'"c"  d`, []string{"abc", "d"}},
	}
	for _, c := range cases {
		got, err := shellWords(c.in)
		if err != nil || strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("shellWords(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := shellWords(`"open`); err == nil {
		t.Error("an unterminated quote was accepted")
	}
}
