package composetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/internal/testenv"
)

// The tokens compose.yaml gives the local cluster.
const (
	devToken      = "local-dev-token-000001"
	approverToken = "local-approver-token-01"
	apiPrefix     = "/tfpilot.v1.RequestService/"
)

// env is what scripts/test-containers provides (see the package doc).
type env struct {
	root, docker, compose, goImage, pgImage, s3Image string
}

func need(t *testing.T) env {
	t.Helper()
	e := env{
		docker:  os.Getenv("TFPILOT_TEST_DOCKER"),
		compose: os.Getenv("TFPILOT_TEST_COMPOSE"),
		goImage: os.Getenv("TFPILOT_TEST_GO_IMAGE"),
		pgImage: os.Getenv("TFPILOT_TEST_POSTGRES_IMAGE"),
		s3Image: os.Getenv("TFPILOT_TEST_S3_IMAGE"),
	}
	var missing []string
	for name, v := range map[string]string{"DOCKER_HOST": os.Getenv("DOCKER_HOST"), "TFPILOT_TEST_COMPOSE": e.compose,
		"TFPILOT_TEST_GO_IMAGE": e.goImage, "TFPILOT_TEST_POSTGRES_IMAGE": e.pgImage, "TFPILOT_TEST_S3_IMAGE": e.s3Image} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if e.docker == "" {
		e.docker = "docker"
	}
	if len(missing) > 0 {
		testenv.Unavailable(t, testenv.Docker, fmt.Sprintf("%s not set; scripts/test-containers sets them", strings.Join(missing, ", ")))
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	e.root = filepath.Join(wd, "..", "..")
	if _, err := os.Stat(filepath.Join(e.root, "Dockerfile")); err != nil {
		t.Fatalf("no Dockerfile at the repository root: %v", err)
	}
	return e
}

// run runs a command in the repository root and returns its combined
// output.
func (e env) run(ctx context.Context, extraEnv []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = e.root
	cmd.Env = append(os.Environ(), extraEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func randomSuffix(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// buildImage builds one target of the Dockerfile as a user does, with
// the build stage on the local Go image and modules from this machine's
// proxy (the classic builder, host network: the engine scripts/test-
// containers starts has no NAT).
func (e env) buildImage(ctx context.Context, t *testing.T, target, tag string) {
	t.Helper()
	proxy := os.Getenv("GOPROXY")
	if proxy == "" {
		out, err := exec.CommandContext(ctx, "go", "env", "GOPROXY").Output()
		if err != nil {
			t.Fatalf("go env GOPROXY: %v", err)
		}
		proxy = strings.TrimSpace(string(out))
	}
	out, err := e.run(ctx, []string{"DOCKER_BUILDKIT=0"}, e.docker, "build", "--network", "host", "-q",
		"--build-arg", "GO_IMAGE="+e.goImage, "--build-arg", "GOPROXY="+proxy,
		"--target", target, "-t", tag, ".")
	if err != nil {
		t.Fatalf("docker build --target %s: %v\n%s", target, err, tail(out, 40))
	}
	t.Cleanup(func() { _, _ = e.run(context.Background(), nil, e.docker, "image", "rm", "-f", tag) })
}

// TestDockerfile_ImagesAreStaticNonRootAndClusterReachesApplied builds
// the two images from the Dockerfile and protects what they promise — a
// non-root user, no shell or other tools beside the binaries, -h answered
// with status 0 — then brings compose.yaml's cluster up with them and
// drives one request from create to applied through both replicas, which
// share one PostgreSQL and one fake GitHub: the plan and the apply each
// ran once.
func TestDockerfile_ImagesAreStaticNonRootAndClusterReachesApplied(t *testing.T) {
	e := need(t)
	// A cold build of the server in the image takes minutes on two cores.
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	suffix := randomSuffix(t)
	serverImage := "tfpilot-test/server:" + suffix
	fakeImage := "tfpilot-test/fake-github:" + suffix
	e.buildImage(ctx, t, "server", serverImage)
	e.buildImage(ctx, t, "fake-github", fakeImage)

	t.Run("image", func(t *testing.T) {
		for _, c := range []struct{ image, helpWants string }{{serverImage, "-postgres-dsn"}, {fakeImage, "-webhook-target"}} {
			user, err := e.run(ctx, nil, e.docker, "image", "inspect", "-f", "{{.Config.User}}", c.image)
			if err != nil || strings.TrimSpace(user) != "65532:65532" {
				t.Errorf("%s: user %q (%v), want 65532:65532 (non-root)", c.image, strings.TrimSpace(user), err)
			}
			if out, err := e.run(ctx, nil, e.docker, "run", "--rm", "--entrypoint", "/bin/sh", c.image, "-c", "true"); err == nil {
				t.Errorf("%s: /bin/sh ran (%s); the image should hold nothing but the binaries", c.image, out)
			}
			out, err := e.run(ctx, nil, e.docker, "run", "--rm", c.image, "-h")
			if err != nil || !strings.Contains(out, c.helpWants) {
				t.Errorf("%s -h: %v, want status 0 and the flags:\n%s", c.image, err, tail(out, 10))
			}
		}
		// The server image also carries the migration command.
		if out, err := e.run(ctx, nil, e.docker, "run", "--rm", "--entrypoint", "/usr/local/bin/tfpilot-migrate", serverImage, "help"); !strings.Contains(out, "copy") {
			t.Errorf("tfpilot-migrate in the server image: %v\n%s", err, tail(out, 10))
		}
	})

	t.Run("cluster", func(t *testing.T) {
		portA, portB, fakePort, s3Port := freePort(t), freePort(t), freePort(t), freePort(t)
		project := "tfpilot-test-" + suffix
		composeEnv := []string{
			"TFPILOT_IMAGE=" + serverImage, "TFPILOT_FAKE_GITHUB_IMAGE=" + fakeImage,
			"TFPILOT_POSTGRES_IMAGE=" + e.pgImage, "TFPILOT_S3_IMAGE=" + e.s3Image,
			fmt.Sprintf("TFPILOT_PORT_A=%d", portA), fmt.Sprintf("TFPILOT_PORT_B=%d", portB),
			fmt.Sprintf("FAKE_GITHUB_PORT=%d", fakePort), fmt.Sprintf("S3_PORT=%d", s3Port),
		}
		compose := func(ctx context.Context, args ...string) (string, error) {
			return e.run(ctx, composeEnv, e.compose, append([]string{"-p", project, "-f", "compose.yaml"}, args...)...)
		}
		t.Cleanup(func() {
			cctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			if t.Failed() {
				logs, _ := compose(cctx, "logs", "--no-color", "--tail", "40")
				t.Logf("compose logs:\n%s", logs)
			}
			if out, err := compose(cctx, "down", "-v", "--remove-orphans"); err != nil {
				t.Logf("compose down: %v\n%s", err, out)
			}
		})
		if out, err := compose(ctx, "up", "-d", "--no-build"); err != nil {
			t.Fatalf("compose up: %v\n%s", err, tail(out, 40))
		}
		a := fmt.Sprintf("http://127.0.0.1:%d", portA)
		b := fmt.Sprintf("http://127.0.0.1:%d", portB)
		for _, u := range []string{a, b} {
			if err := waitReady(ctx, u+"/readyz", 3*time.Minute); err != nil {
				t.Fatalf("replica %s never became ready: %v", u, err)
			}
		}

		var created answer
		body := `{"project":"payments","environment":"dev","module":"s3_bucket","config":{"bucket":"payments-dev-compose"}}`
		if err := call(ctx, a, "Create", devToken, "compose-create-1", body, &created); err != nil {
			t.Fatalf("Create on replica a: %v", err)
		}
		id := created.Request.ID
		status := drive(ctx, []string{a, b}, id, 4*time.Minute)
		if status != "STATUS_APPLIED" {
			t.Fatalf("request %s ended %s, want STATUS_APPLIED", id, status)
		}

		var runs struct {
			Runs []struct {
				Workflow   string `json:"workflow"`
				RequestID  string `json:"requestId"`
				Conclusion string `json:"conclusion"`
			} `json:"runs"`
		}
		if err := getJSON(ctx, fmt.Sprintf("http://127.0.0.1:%d/_debug/runs", fakePort), &runs); err != nil {
			t.Fatalf("the fake's debug API: %v", err)
		}
		per := map[string]int{}
		for _, r := range runs.Runs {
			if r.RequestID == id {
				per[r.Workflow]++
			}
		}
		for _, wf := range []string{"plan.yml", "apply.yml"} {
			if per[wf] != 1 {
				t.Errorf("%s ran %d times for %s, want exactly once (runs: %v)", wf, per[wf], id, per)
			}
		}
	})
}

type answer struct {
	Request struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"request"`
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// call posts a Connect JSON call to one replica.
func call(ctx context.Context, base, method, token, key, body string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+apiPrefix+method, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		e := &apiError{}
		if json.Unmarshal(b, e) != nil || e.Code == "" {
			return fmt.Errorf("%s: HTTP %d: %s", method, resp.StatusCode, b)
		}
		return e
	}
	return json.Unmarshal(b, out)
}

// drive moves id to applied as a client would, alternating replicas:
// approve, merge and apply as soon as each is allowed. It returns the
// last status seen.
func drive(ctx context.Context, replicas []string, id string, within time.Duration) string {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	body := fmt.Sprintf(`{"id":%q}`, id)
	status, lastErr := "", ""
	for i := 0; ctx.Err() == nil; i++ {
		base := replicas[i%len(replicas)]
		var a answer
		if err := call(ctx, base, "Get", approverToken, "", body, &a); err != nil {
			lastErr = "Get: " + err.Error()
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		status = a.Request.Status
		step := map[string]string{"STATUS_PLAN_READY": "Approve", "STATUS_APPROVED": "Merge", "STATUS_MERGED": "Apply"}[status]
		switch status {
		case "STATUS_APPLIED", "STATUS_FAILED":
			return status
		}
		if step != "" {
			var out answer
			if err := call(ctx, base, step, approverToken, step+"-"+id, body, &out); err != nil {
				lastErr = step + ": " + err.Error()
			}
		}
		sleep(ctx, 500*time.Millisecond)
	}
	return status + " (deadline; last error: " + lastErr + ")"
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func getJSON(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// waitReady polls url until it answers 200.
func waitReady(ctx context.Context, url string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	last := errors.New("no answer yet")
	for ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		last = err
		sleep(ctx, time.Second)
	}
	return last
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
