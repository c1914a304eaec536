package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/migrate"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/pgstore"
)

// TestCopy_MessyBucketResumesAfterSIGINTAndSIGKILL builds the command,
// interrupts a copy of a messy bucket with SIGINT and another with
// SIGKILL once it is under way, runs each again, and checks that each
// target then holds exactly what an uninterrupted copy holds (count and
// checksum of every kind).
func TestCopy_MessyBucketResumesAfterSIGINTAndSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	b := testenv.NewS3(t)
	t.Setenv("AWS_ACCESS_KEY_ID", b.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", b.SecretKey)
	t.Setenv("AWS_REGION", b.Region)
	put := func(key, body string) {
		if _, err := b.Client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(b.Prefix + key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range messyObjects {
		put(o.key, o.body)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range 200 {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			id := fmt.Sprintf("req-%04d", i)
			put("requests/"+id+".json", strings.ReplaceAll(messyRequestDoc, "req-m", id))
			put("logs/"+id+"/2024-03-01T12-00-00-000Z.json", `{"requestId":"`+id+`","event":"request_created","extra":1}`)
			put(fmt.Sprintf("webhooks/github/run-index/plan/run-%d.json", 1000+i), `{"requestId":"`+id+`"}`)
		})
	}
	wg.Wait()

	bin := filepath.Join(t.TempDir(), "tfpilot-migrate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	from := "s3://" + b.Bucket + "/" + b.Prefix
	args := func(dsn string, extra ...string) []string {
		return append([]string{"copy", "--from", from, "--to", dsn, "--s3-endpoint", b.Endpoint, "--s3-path-style"}, extra...)
	}
	finish := func(dsn string) string {
		out, err := exec.Command(bin, args(dsn)...).CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitFindings {
			t.Fatalf("copy: %v (want exit %d: quarantined objects)\n%s", err, exitFindings, out)
		}
		return string(out)
	}
	want := summaries(t, testenv.PostgresDSN(t), func(dsn string) string {
		out := finish(dsn)
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "items/s") {
				t.Logf("uninterrupted copy of %d objects: %s", len(messyObjects)+600, line)
			}
		}
		return out
	})

	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGKILL} {
		t.Run(fmt.Sprint(sig), func(t *testing.T) {
			dsn := testenv.PostgresDSN(t)
			cmd := exec.Command(bin, args(dsn, "--concurrency", "1", "--progress-every", "25")...)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				if strings.Contains(sc.Text(), "read 25,") {
					break // under way: interrupt it
				}
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Logf("signal: %v (the copy had ended)", err)
			}
			for sc.Scan() {
			}
			_ = cmd.Wait()
			got := summaries(t, dsn, finish)
			for kind, w := range want {
				if got[kind] != w {
					t.Errorf("%s after %v and a second run: %+v; uninterrupted copy: %+v", kind, sig, got[kind], w)
				}
			}
		})
	}
}

// summaries runs copy into dsn and returns the target's count and
// checksum of every kind.
func summaries(t *testing.T, dsn string, copyInto func(string) string) map[store.ItemKind]migrate.Summary {
	t.Helper()
	copyInto(dsn)
	s, err := pgstore.Open(t.Context(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := map[store.ItemKind]migrate.Summary{}
	for _, kind := range store.ItemKinds() {
		sum, err := migrate.Summarize(t.Context(), s, kind)
		if err != nil {
			t.Fatal(err)
		}
		out[kind] = sum
	}
	return out
}
