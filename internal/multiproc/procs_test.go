package multiproc

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildBinaries builds the reference server and the fake GitHub once per
// test binary.
func buildBinaries(t *testing.T) (server, fake string) {
	t.Helper()
	dir := t.TempDir()
	server, fake = filepath.Join(dir, "tfpilot-server"), filepath.Join(dir, "fake-github")
	for _, b := range []struct{ out, pkg string }{{server, "../../examples/connect-server"}, {fake, "../../examples/fake-github"}} {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	return server, fake
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proc is a child process the test started, restartable on the same
// arguments (and so the same port).
type proc struct {
	name string
	bin  string
	args []string
	env  []string

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{}
	logs     *tail
	killed   bool     // the test killed the current instance on purpose
	unwanted []string // exits nobody asked for, with the log tail
	starts   int
}

// tail keeps the last lines a process wrote, plus every line holding a
// panic.
type tail struct {
	mu     sync.Mutex
	lines  []string
	panics []string
}

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > 200 {
		t.lines = t.lines[len(t.lines)-200:]
	}
	if strings.Contains(line, "panic") || strings.Contains(line, "goroutine ") && strings.Contains(line, "[running]") {
		t.panics = append(t.panics, line)
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

func (t *tail) panicLines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.panics...)
}

func (p *proc) start(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if p.logs == nil {
		p.logs = &tail{}
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		// Errorf, not Fatalf: start is called from the chaos goroutines.
		t.Errorf("start %s: %v", p.name, err)
		return
	}
	p.starts++
	gen := p.starts
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.logs.add(fmt.Sprintf("[%s#%d] %s", p.name, gen, sc.Text()))
		}
	}()
	exited := make(chan struct{})
	p.cmd, p.exited, p.killed = cmd, exited, false
	go func() {
		err := cmd.Wait()
		pw.Close()
		p.mu.Lock()
		if !p.killed {
			p.unwanted = append(p.unwanted, fmt.Sprintf("%s (start #%d) exited on its own: %v; last log lines:\n%s", p.name, gen, err, lastLines(p.logs.String(), 30)))
		}
		p.mu.Unlock()
		close(exited)
	}()
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// kill sends sig to the current instance and waits for it to exit.
func (p *proc) kill(sig syscall.Signal) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.killed = true
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// alive reports whether the current instance is running.
func (p *proc) alive() bool {
	p.mu.Lock()
	exited := p.exited
	p.mu.Unlock()
	if exited == nil {
		return false
	}
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// isKilled reports whether the test stopped the current instance.
func (p *proc) isKilled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killed
}

func (p *proc) unwantedExits() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.unwanted...)
}

// waitHTTP polls url until it answers 200 or the deadline passes.
func waitHTTP(ctx context.Context, url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %v: %v", url, within, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
