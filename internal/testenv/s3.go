package testenv

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Environment variables read by [NewS3].
const (
	// EnvS3Endpoint names an S3 server to use, e.g. http://127.0.0.1:7070.
	EnvS3Endpoint = "TFPILOT_TEST_S3_ENDPOINT"
	// EnvS3AccessKey and EnvS3SecretKey are its credentials (default
	// testak / testsecret).
	EnvS3AccessKey = "TFPILOT_TEST_S3_ACCESS_KEY"
	EnvS3SecretKey = "TFPILOT_TEST_S3_SECRET_KEY"
	// EnvS3Region is its region (default us-east-1).
	EnvS3Region = "TFPILOT_TEST_S3_REGION"
	// EnvS3Bucket, with EnvS3Endpoint, names an existing bucket to share:
	// each test then gets its own prefix in it instead of its own bucket.
	EnvS3Bucket = "TFPILOT_TEST_S3_BUCKET"
	// EnvS3Image is the container image of the testcontainers provider
	// (default [DefaultS3Image]). It must run versitygw with the
	// container's arguments ("--port :7070 posix /tmp/vgw"), read
	// ROOT_ACCESS_KEY_ID and ROOT_SECRET_ACCESS_KEY, and have /tmp/vgw.
	EnvS3Image = "TFPILOT_TEST_S3_IMAGE"
	// EnvVersitygw names a versitygw binary for the host provider,
	// instead of building one from tools/go.mod.
	EnvVersitygw = "TFPILOT_TEST_VERSITYGW"
)

// DefaultS3Image is the public versitygw image the testcontainers
// provider runs when [EnvS3Image] is unset.
const DefaultS3Image = "versity/versitygw:v1.8.0"

// Credentials of the servers this package starts.
const (
	s3AccessKey = "testak"
	s3SecretKey = "testsecret"
	s3Region    = "us-east-1"
)

// S3Server is an S3-compatible server that tests can use.
type S3Server struct {
	// Endpoint is the server's base URL; address it path-style.
	Endpoint  string
	Region    string
	AccessKey string
	SecretKey string
	// Provider says where the server came from: [ProviderEnv],
	// [ProviderContainers] or [ProviderHost].
	Provider string
}

// Client returns a path-style client for the server; optFns adjust its
// options (a test can wrap HTTPClient to count calls, say).
func (srv *S3Server) Client(optFns ...func(*s3.Options)) *s3.Client {
	o := s3.Options{
		Region:       srv.Region,
		BaseEndpoint: aws.String(srv.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""),
		// versitygw and most local servers do not need the SDK's
		// default request checksums; send them only when required.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	return s3.New(o, optFns...)
}

// S3Bucket is one test's own place on an S3 server: its own bucket, or
// its own Prefix in the shared bucket named by [EnvS3Bucket].
type S3Bucket struct {
	S3Server
	Bucket string
	// Prefix is "" for a bucket of the test's own, else a unique
	// "name/" that every key of the test must start with.
	Prefix string
	// Client is a ready client for the server.
	Client *s3.Client
}

// NewS3 returns a bucket (or prefix) of t's own on an S3 server found in
// this order: [EnvS3Endpoint]; a container started with testcontainers
// when a Docker engine answers; a versitygw process on a loopback port
// (built once from tools/go.mod into the user's cache directory). The
// server is shared by the test binary and stopped by [Main]. Without
// any, t is skipped, or fails when TFPILOT_TEST_REQUIRE names s3 (see
// [Unavailable]). Buckets of a server this package started are not
// emptied: the server's data goes with it.
func NewS3(t testing.TB) *S3Bucket {
	t.Helper()
	srv, why := sharedS3()
	if srv == nil {
		Unavailable(t, S3, why)
		return nil
	}
	b := &S3Bucket{S3Server: *srv, Client: srv.Client()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if shared := os.Getenv(EnvS3Bucket); shared != "" && srv.Provider == ProviderEnv {
		b.Bucket = shared
		b.Prefix = uniqueName(t.Name()) + "/"
		t.Cleanup(func() { emptyPrefix(b.Client, b.Bucket, b.Prefix) })
		return b
	}
	b.Bucket = uniqueName(t.Name())
	in := &s3.CreateBucketInput{Bucket: aws.String(b.Bucket)}
	if srv.Region != "" && srv.Region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(srv.Region)}
	}
	if _, err := b.Client.CreateBucket(ctx, in); err != nil {
		t.Fatalf("testenv: create bucket %s on %s (%s): %v", b.Bucket, srv.Endpoint, srv.Provider, err)
	}
	if srv.Provider == ProviderEnv {
		t.Cleanup(func() {
			emptyPrefix(b.Client, b.Bucket, "")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, _ = b.Client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b.Bucket)})
		})
	}
	return b
}

// uniqueName turns a test name into a bucket name: lower-case letters,
// digits and '-', at most 63 characters, with a random suffix.
func uniqueName(testName string) string {
	var b strings.Builder
	b.WriteString("tfp-")
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if !strings.HasSuffix(b.String(), "-") {
			b.WriteByte('-')
		}
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	return strings.TrimSuffix(b.String(), "-") + "-" + hex.EncodeToString(rnd[:])
}

// emptyPrefix deletes every object under prefix, best effort.
func emptyPrefix(c *s3.Client, bucket, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil || len(page.Contents) == 0 {
			return
		}
		ids := make([]types.ObjectIdentifier, len(page.Contents))
		for i, o := range page.Contents {
			ids[i] = types.ObjectIdentifier{Key: o.Key}
		}
		if _, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}}); err != nil {
			return
		}
	}
}

var (
	s3Once   sync.Once
	s3Server *S3Server
	s3Why    string
)

// sharedS3 finds or starts the test binary's S3 server once, and
// returns it or why there is none.
func sharedS3() (*S3Server, string) {
	s3Once.Do(func() { s3Server, s3Why = findS3() })
	return s3Server, s3Why
}

func findS3() (*S3Server, string) {
	var tried []string
	if Allowed(ProviderEnv) {
		if ep := os.Getenv(EnvS3Endpoint); ep != "" {
			return &S3Server{
				Endpoint:  ep,
				Region:    envOr(EnvS3Region, s3Region),
				AccessKey: envOr(EnvS3AccessKey, s3AccessKey),
				SecretKey: envOr(EnvS3SecretKey, s3SecretKey),
				Provider:  ProviderEnv,
			}, ""
		}
		tried = append(tried, EnvS3Endpoint+" is unset")
	}
	if Allowed(ProviderContainers) {
		srv, err := startS3Container()
		if err == nil {
			return srv, ""
		}
		tried = append(tried, "testcontainers: "+err.Error())
	}
	if Allowed(ProviderHost) {
		srv, err := startVersitygw()
		if err == nil {
			return srv, ""
		}
		tried = append(tried, "host versitygw: "+err.Error())
	}
	if f := ForcedProvider(); f != "" {
		tried = append(tried, "TFPILOT_TEST_PROVIDER="+f+" excludes the others")
	}
	return nil, strings.Join(tried, "; ")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// startS3Container runs the S3 image when a Docker engine answers.
func startS3Container() (srv *S3Server, err error) {
	if err := dockerAnswers(); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil { // testcontainers panics on some misconfigurations
			srv, err = nil, fmt.Errorf("testcontainers: %v", r)
		}
	}()
	image := envOr(EnvS3Image, DefaultS3Image)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := testcontainers.Run(ctx, image,
		testcontainers.WithEnv(map[string]string{"ROOT_ACCESS_KEY_ID": s3AccessKey, "ROOT_SECRET_ACCESS_KEY": s3SecretKey}),
		testcontainers.WithCmd("--port", ":7070", "posix", "/tmp/vgw"),
		testcontainers.WithExposedPorts("7070/tcp"),
		testcontainers.WithWaitStrategy(wait.ForListeningPort("7070/tcp").WithStartupTimeout(time.Minute)),
	)
	if err != nil {
		if c != nil {
			_ = c.Terminate(context.Background())
		}
		return nil, fmt.Errorf("run %s: %w", image, err)
	}
	onStop(func() error { return c.Terminate(context.Background()) })
	ep, err := c.PortEndpoint(ctx, "7070/tcp", "http")
	if err != nil {
		return nil, fmt.Errorf("endpoint of %s: %w", image, err)
	}
	srv = &S3Server{Endpoint: ep, Region: s3Region, AccessKey: s3AccessKey, SecretKey: s3SecretKey, Provider: ProviderContainers}
	if err := waitS3(ctx, srv, nil); err != nil {
		return nil, fmt.Errorf("%s: %w", image, err)
	}
	return srv, nil
}

// watchdog runs the server as its child and stops it (and removes its
// data directory) when told to with SIGTERM, or when the test binary
// whose pid is in TFPILOT_WATCH_PID is gone (checked every second).
const watchdog = `"$@" & c=$!
stop() { kill "$c" 2>/dev/null; wait "$c"; rm -rf "$TFPILOT_S3_DATA" "$TFPILOT_S3_DATA.log"; exit 0; }
trap stop TERM INT HUP
while kill -0 "$TFPILOT_WATCH_PID" 2>/dev/null && kill -0 "$c" 2>/dev/null; do
  sleep 1 & wait $!
done
stop`

// startVersitygw starts versitygw on a free loopback port with a fresh
// data directory, under the watchdog.
func startVersitygw() (*S3Server, error) {
	bin, err := versitygwBinary()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		srv, err := runVersitygw(bin)
		if err == nil {
			return srv, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func runVersitygw(bin string) (*S3Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tfpilot-versitygw-")
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// --keep-alive: like S3, keep a client's connection open between
	// requests (versitygw closes it after each by default, so every
	// call paid a TCP connect on both sides); --quiet: no log line per
	// request.
	cmd := exec.Command("/bin/sh", "-c", watchdog, "sh", bin, "--port", addr, "--keep-alive", "--quiet", "posix", dir)
	cmd.Env = append(os.Environ(),
		"ROOT_ACCESS_KEY_ID="+s3AccessKey,
		"ROOT_SECRET_ACCESS_KEY="+s3SecretKey,
		"TFPILOT_S3_DATA="+dir,
		fmt.Sprintf("TFPILOT_WATCH_PID=%d", os.Getpid()),
	)
	logFile, err := os.Create(dir + ".log")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
		os.Remove(logFile.Name())
		return os.RemoveAll(dir)
	}
	srv := &S3Server{Endpoint: "http://" + addr, Region: s3Region, AccessKey: s3AccessKey, SecretKey: s3SecretKey, Provider: ProviderHost}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := waitS3(ctx, srv, exited); err != nil {
		_ = stop()
		return nil, fmt.Errorf("versitygw on %s: %w", addr, err)
	}
	onStop(stop)
	return srv, nil
}

// waitS3 waits until srv answers ListBuckets, or exited closes.
func waitS3(ctx context.Context, srv *S3Server, exited <-chan struct{}) error {
	c := srv.Client()
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := c.ListBuckets(cctx, &s3.ListBucketsInput{})
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("exited before answering")
		case <-ctx.Done():
			return fmt.Errorf("not answering: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// versitygwBinary returns the versitygw to run: [EnvVersitygw], else
// the build of the version pinned in tools/go.mod, cached in
// <user cache dir>/tfpilot-tools/ and built there once (under a file
// lock, so parallel test binaries build it once).
func versitygwBinary() (string, error) {
	if bin := os.Getenv(EnvVersitygw); bin != "" {
		return bin, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	modfile := filepath.Join(root, "tools", "go.mod")
	version, err := toolVersion(modfile, "github.com/versity/versitygw")
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "tfpilot-tools")
	bin := filepath.Join(dir, "versitygw-"+version)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(bin+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil // built by another test binary meanwhile
	}
	tmp := bin + ".tmp"
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building versitygw needs the go command on PATH: %w", err)
	}
	build := exec.Command(goBin, "build", "-modfile="+modfile, "-o", tmp, "github.com/versity/versitygw/cmd/versitygw")
	build.Dir = root
	build.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build versitygw %s from %s: %v: %s", version, modfile, err, lastLines(out, 5))
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// repoRoot finds the directory holding tools/go.mod, from the working
// directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tools", "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no tools/go.mod above the working directory")
		}
		dir = parent
	}
}

// toolVersion reads the version of module path required by modfile.
func toolVersion(modfile, path string) (string, error) {
	f, err := os.Open(modfile)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require "))
		if len(fields) >= 2 && fields[0] == path {
			return fields[1], nil
		}
	}
	return "", fmt.Errorf("%s requires no %s", modfile, path)
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
