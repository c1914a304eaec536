package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestUniqueName_IsAValidDistinctBucketName(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	for _, name := range []string{"TestX", "TestList/pages_of_2", strings.Repeat("Very/Long_Name", 20), "-"} {
		a, b := uniqueName(name), uniqueName(name)
		if !valid.MatchString(a) || strings.Contains(a, "--") {
			t.Errorf("%q -> %q: not a valid bucket name", name, a)
		}
		if a == b {
			t.Errorf("%q -> %q twice", name, a)
		}
	}
}

func TestToolVersion_ReadsTheRequireLine(t *testing.T) {
	t.Parallel()
	mod := filepath.Join(t.TempDir(), "go.mod")
	body := "module x\n\ntool github.com/versity/versitygw/cmd/versitygw\n\nrequire (\n\tgithub.com/versity/versitygwx v9.9.9\n\tgithub.com/versity/versitygw v1.8.0 // indirect\n)\n"
	if err := os.WriteFile(mod, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := toolVersion(mod, "github.com/versity/versitygw")
	if err != nil || v != "v1.8.0" {
		t.Fatalf("got %q, %v", v, err)
	}
	if _, err := toolVersion(mod, "example.com/absent"); err == nil {
		t.Fatal("absent module found")
	}
}

// TestNewS3_GivesEachTestItsOwnBucketWithConditionalWrites checks what
// s3store relies on from whichever server the provider found.
func TestNewS3_GivesEachTestItsOwnBucketWithConditionalWrites(t *testing.T) {
	t.Parallel()
	a, b := NewS3(t), NewS3(t)
	if a.Bucket+a.Prefix == b.Bucket+b.Prefix {
		t.Fatalf("two calls share %s/%s", a.Bucket, a.Prefix)
	}
	ctx := context.Background()
	key := aws.String(a.Prefix + "k.json")
	put := func(body string, ifNoneMatch bool) error {
		in := &s3.PutObjectInput{Bucket: aws.String(a.Bucket), Key: key, Body: strings.NewReader(body)}
		if ifNoneMatch {
			in.IfNoneMatch = aws.String("*")
		}
		_, err := a.Client.PutObject(ctx, in)
		return err
	}
	if err := put("1", true); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := put("2", true); err == nil {
		t.Fatal("If-None-Match: * overwrote an existing object")
	}
	out, err := b.Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.Bucket), Prefix: aws.String(b.Prefix)})
	if err != nil || len(out.Contents) != 0 {
		t.Fatalf("the other test's bucket holds %d objects (%v)", len(out.Contents), err)
	}
}

// TestHostS3_WatchdogStopsTheServerWhenTheBinaryDies starts versitygw
// from a child test binary that exits without reaching Main (as a crash
// would), then checks that the server goes away on its own.
func TestHostS3_WatchdogStopsTheServerWhenTheBinaryDies(t *testing.T) {
	if os.Getenv("TFPILOT_TESTENV_ORPHAN_CHILD") == "1" {
		srv, err := startVersitygw()
		if err != nil {
			fmt.Println("ERROR", err)
		} else {
			fmt.Println("ENDPOINT", srv.Endpoint)
		}
		os.Exit(3) // no Main, no cleanup: what a crash leaves
	}
	t.Parallel()
	if !Allowed(ProviderHost) {
		t.Skip("TFPILOT_TEST_PROVIDER excludes host processes")
	}
	if _, err := versitygwBinary(); err != nil {
		Unavailable(t, S3, "host versitygw: "+err.Error())
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostS3_WatchdogStopsTheServerWhenTheBinaryDies$")
	cmd.Env = append(os.Environ(), "TFPILOT_TESTENV_ORPHAN_CHILD=1")
	out, _ := cmd.Output() // exits 3 by design
	var endpoint string
	for _, line := range strings.Split(string(out), "\n") {
		if ep, ok := strings.CutPrefix(line, "ENDPOINT "); ok {
			endpoint = ep
		}
	}
	if endpoint == "" {
		t.Fatalf("child started no server:\n%s", out)
	}
	addr := strings.TrimPrefix(endpoint, "http://")
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return // gone
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("versitygw at %s still answers 15 s after its test binary died", addr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
