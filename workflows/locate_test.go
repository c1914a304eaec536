package workflows_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/hclblocks"
)

// locateScript returns the script of the step that finds the block.
func locateScript(t *testing.T, file string) string {
	t.Helper()
	for _, s := range load(t, file).Jobs["locate"].Steps {
		if s.Run != "" {
			return s.Run
		}
	}
	t.Fatalf("%s: no locate script", file)
	return ""
}

// gitRepo makes a repository holding an environment file with the block
// of req-abc written by hclblocks (as the engine writes it), plus another
// request's block, and commits it.
func gitRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := []byte("terraform {}\n")
	for _, id := range []string{"req-abc", "req-other"} {
		block, err := hclblocks.RenderModule(hclblocks.Module{Name: "s3_bucket_" + strings.ReplaceAll(id, "-", "_"),
			Source: "../../modules/s3-bucket", Inputs: map[string]any{"bucket_name": id}})
		if err != nil {
			t.Fatal(err)
		}
		if src, err = hclblocks.Upsert(src, id, block); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "envs", "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "envs", "dev", "tfpilot.tf"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "init", "-q")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-q", "-m", "blocks")
	return dir
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// runLocate runs a template's locate script as GitHub's runner would
// (bash -e, GITHUB_OUTPUT a file) and returns its outputs.
func runLocate(t *testing.T, file, dir, requestID string) (map[string]string, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "output")
	cmd := exec.Command("bash", "-e", "-c", locateScript(t, file))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "REQUEST_ID="+requestID, "GITHUB_OUTPUT="+out)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return nil, &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: stderr.Bytes()}
	}
	b, _ := os.ReadFile(out)
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		got[k] = v
	}
	return got, nil
}

// TestLocate_FindsTheBlockByItsMarkers runs each template's locate script
// on a repository written by hclblocks: it finds the environment directory
// and the module of exactly the requested block, refuses ids that are not
// plain words (inputs are data, not code), and fails clearly when the
// block is absent. cleanup.yml also finds a block the cleanup pull request
// already removed, in history.
func TestLocate_FindsTheBlockByItsMarkers(t *testing.T) {
	t.Parallel()
	for _, bin := range []string{"bash", "git", "awk", "grep"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed: %v", bin, err)
		}
	}
	files := githubx.DefaultWorkflows()
	for _, k := range kinds {
		file := files.File(k)
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			dir := gitRepo(t)
			got, err := runLocate(t, file, dir, "req-abc")
			if err != nil || got["env_dir"] != "envs/dev" || got["module"] != "s3_bucket_req_abc" {
				t.Fatalf("locate req-abc = %v, %v", got, err)
			}
			for _, bad := range []string{"", "req-abc; rm -rf /", "$(id)", "../x", "req abc"} {
				if got, err := runLocate(t, file, dir, bad); err == nil {
					t.Errorf("locate %q = %v, want a refusal", bad, got)
				}
			}
			if got, err := runLocate(t, file, dir, "req-missing"); err == nil {
				t.Errorf("locate of an absent block = %v, want a failure", got)
			}
			if k != githubx.WorkflowCleanup {
				return
			}
			// The cleanup pull request removed the block: found in history.
			path := filepath.Join(dir, "envs", "dev", "tfpilot.tf")
			src, _ := os.ReadFile(path)
			out, err := hclblocks.Remove(src, "req-abc")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
			git(t, dir, "commit", "-q", "-am", "cleanup req-abc")
			got, err = runLocate(t, file, dir, "req-abc")
			if err != nil || got["env_dir"] != "envs/dev" || got["module"] != "s3_bucket_req_abc" {
				t.Fatalf("locate removed req-abc = %v, %v", got, err)
			}
		})
	}
}
