package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startHostPostgres initialises a throwaway cluster in a temporary
// directory and starts it on a free loopback port, as the postgres user
// when running as root (initdb refuses root). The cluster is stopped and
// its directory removed by [Main], or by a watchdog when the test binary
// is gone.
func startHostPostgres() (*pgServer, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tfpilot-pg-")
	if err != nil {
		return nil, err
	}
	// The watchdog is up before anything starts, so that no crash from
	// here on leaves a server or a directory behind.
	pidFile := filepath.Join(dir, "data", "postmaster.pid")
	watchdog, err := startWatchdog(fmt.Sprintf(
		"if [ -f '%s' ]; then pid=$(head -n 1 '%s'); kill -QUIT \"$pid\"; while kill -0 \"$pid\" 2>/dev/null; do sleep 0.2; done; fi; rm -rf '%s'",
		pidFile, pidFile, dir))
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	stopWatchdog := func() {
		_ = watchdog.Process.Kill()
		_ = watchdog.Wait()
	}
	fail := func(err error) (*pgServer, error) {
		stopWatchdog()
		os.RemoveAll(dir)
		return nil, err
	}
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "sock")
	var asUser []string
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			return fail(fmt.Errorf("running as root and no postgres user to run initdb as: %w", err))
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		for _, d := range []string{dir, data, sock} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return fail(err)
			}
			if err := os.Chown(d, uid, gid); err != nil {
				return fail(err)
			}
		}
		asUser = []string{"runuser", "-u", "postgres", "--"}
	} else if err := os.MkdirAll(sock, 0o700); err != nil {
		return fail(err)
	}
	run := func(name string, args ...string) error {
		argv := append(slices.Clone(asUser), append([]string{filepath.Join(bin, name)}, args...)...)
		cmd := exec.Command(argv[0], argv[1:]...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(out.String()))
		}
		return nil
	}
	if err := run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		return fail(err)
	}
	// A free port can be taken between our check and the server's
	// bind; try a few.
	var port int
	for attempt := 0; ; attempt++ {
		if port, err = freePort(); err != nil {
			return fail(err)
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, sock)
		err = run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "postgres.log"), "-w", "-t", "60", "-o", opts, "start")
		if err == nil {
			break
		}
		if attempt == 2 {
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			return fail(fmt.Errorf("%w; log: %s", err, bytes.TrimSpace(log)))
		}
	}
	pid, err := postmasterPID(data)
	if err != nil {
		_ = run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
		return fail(err)
	}
	onStop(func() error {
		err := stopPID(pid, syscall.SIGINT, 30*time.Second) // fast shutdown
		if err == nil {
			err = os.RemoveAll(dir)
		}
		stopWatchdog()
		if err != nil {
			return fmt.Errorf("stop host postgres (pid %d, %s): %w", pid, dir, err)
		}
		return nil
	})
	srv, err := connectServer(ProviderHost, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port))
	if err != nil {
		return nil, fmt.Errorf("connect to the cluster started in %s: %w", dir, err)
	}
	return srv, nil
}

// postgresBin finds the directory holding initdb and pg_ctl.
func postgresBin() (string, error) {
	if d := os.Getenv(EnvPostgresBin); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { // newest major version first
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no initdb in /usr/lib/postgresql/*/bin or PATH (set " + EnvPostgresBin + ")")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// postmasterPID reads the server's PID from its data directory.
func postmasterPID(data string) (int, error) {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("postmaster.pid: bad pid %q", line)
	}
	return pid, nil
}

// stopPID sends sig to pid and waits up to timeout for it to exit; then
// it kills it.
func stopPID(pid int, sig syscall.Signal, timeout time.Duration) error {
	if err := syscall.Kill(pid, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return err
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return fmt.Errorf("pid %d did not exit within %v of %v; killed", pid, timeout, sig)
}

// startWatchdog starts a shell in its own session that waits for this
// process to end and then runs cleanup. It survives the test binary
// whatever kills it (a panic, a timeout, SIGKILL), and a signal sent to
// the test's process group does not reach it.
func startWatchdog(cleanup string) (*exec.Cmd, error) {
	return watch(os.Getpid(), cleanup)
}

// watch starts a shell in its own session that runs cleanup once pid is
// gone.
func watch(pid int, cleanup string) (*exec.Cmd, error) {
	script := fmt.Sprintf("while kill -0 %d 2>/dev/null; do sleep 1; done; %s", pid, cleanup)
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}
