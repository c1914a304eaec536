package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestHelp_ExitsZeroWithTheUsageOnStdout(t *testing.T) {
	bin := serverBinary(t)
	for _, arg := range []string{"-h", "--help"} {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, arg)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Errorf("%s: %v", arg, err)
		}
		if !strings.Contains(stdout.String(), "-shutdown-timeout") {
			t.Errorf("%s: stdout lacks the usage: %q", arg, stdout.String())
		}
		if stderr.Len() > 0 {
			t.Errorf("%s: %d bytes on stderr, want none", arg, stderr.Len())
		}
	}
	// A bad flag still fails, with the usage on stderr.
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "--no-such-flag")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err == nil {
		t.Error("--no-such-flag exited 0")
	}
	if stdout.Len() > 0 || !strings.Contains(stderr.String(), "-shutdown-timeout") {
		t.Errorf("--no-such-flag: stdout %q, stderr %q; want the usage on stderr only", stdout.String(), stderr.String())
	}
}

func TestParseFlags_HelpReturnsErrHelp(t *testing.T) {
	var stdout, stderr strings.Builder
	_, err := parseFlags([]string{"-h"}, &stdout, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(stdout.String(), "Usage of tfpilot-server") || stderr.Len() > 0 {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}

// envName is the first environment variable a flag's usage names, as
// "(TFPILOT_X" or "(TFPILOT_X, ...".
var envName = regexp.MustCompile(`\(([A-Z][A-Z0-9_]+)[,)]`)

// TestFlags_EveryFlagHasAnEnvironmentVariable walks the FlagSet: the
// README's promise ("every flag has an environment variable") holds when
// each flag's usage names a variable and setting that variable changes
// the flag's default.
func TestFlags_EveryFlagHasAnEnvironmentVariable(t *testing.T) {
	var o options
	fs := newFlagSet(&o)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		m := envName.FindStringSubmatch(f.Usage)
		if m == nil {
			t.Errorf("--%s: its usage names no environment variable: %q", f.Name, f.Usage)
			return
		}
		var want string
		switch f.Value.(flag.Getter).Get().(type) {
		case bool:
			want = "true"
			if f.DefValue == "true" {
				want = "false"
			}
		case time.Duration:
			want = "7m0s"
		case int64, int:
			want = "7"
		default:
			want = "from-env-" + f.Name
		}
		t.Run(f.Name, func(t *testing.T) {
			t.Setenv(m[1], want)
			var o2 options
			if got := newFlagSet(&o2).Lookup(f.Name).DefValue; got != want {
				t.Errorf("with %s=%s, --%s defaults to %q", m[1], want, f.Name, got)
			}
		})
	})
	if n < 20 {
		t.Fatalf("walked %d flags; the FlagSet lost its flags?", n)
	}
}

func TestLogger_DurationsAreHumanReadable(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger("info", &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("waited", "wait", 1500*time.Millisecond)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["wait"] != "1.5s" {
		t.Errorf("wait logged as %#v, want \"1.5s\"", line["wait"])
	}
}

// TestREADME_FileTableNamesOnlyExistingFiles checks the README's table
// of files ("| path | ..."): every `name` in its first column exists here
// or, for the API, at the repository root.
func TestREADME_FileTableNamesOnlyExistingFiles(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile("`([^`]+)`")
	checked := 0
	inFiles := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| path |") {
			inFiles = true
		}
		if !strings.HasPrefix(line, "|") {
			inFiles = false
		}
		if !inFiles || !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.SplitN(line, "|", 3)[1]
		for _, m := range code.FindAllStringSubmatch(first, -1) {
			name := m[1]
			checked++
			if _, err := os.Stat(name); err == nil {
				continue
			}
			if _, err := os.Stat(filepath.Join("..", "..", name)); err == nil {
				continue
			}
			t.Errorf("README names %q, which exists neither here nor at the repository root", name)
		}
	}
	if checked == 0 {
		t.Fatal("found no file table in README.md")
	}
}
