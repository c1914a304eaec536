package server_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/examples/connect-server/server"
	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
	"github.com/tfpilot/tfpilot/gen/tfpilot/v1/tfpilotv1connect"
)

// stalledUpload opens a connection to addr, sends the request head and
// sent bytes of a body declared as declared bytes, and never sends the
// rest. It returns the connection and a reader of the answer.
func stalledUpload(t *testing.T, addr, head string, declared, sent int, chunk []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		fmt.Fprintf(c, "%sContent-Length: %d\r\n\r\n", head, declared)
		for n := 0; n < sent; n += len(chunk) {
			if _, err := c.Write(chunk); err != nil {
				return // the server answered and closed: fine
			}
		}
	}()
	return c, bufio.NewReader(c)
}

// TestLimits_StalledUnauthenticatedUploadsCostBoundedMemory: N callers
// with no token start RPC uploads of 768 KiB and stall, and N start
// webhook uploads with a bogus signature and stall. The RPC ones are
// answered 401 unread; all but WebhookMaxInFlight webhook ones are
// answered 503 unread. What the server holds is at most the documented
// bound: WebhookMaxInFlight × WebhookMaxBodyBytes plus 64 KiB per
// connection. (Before bodies were read after authentication, each RPC
// upload alone held its body, ~1 MiB.)
func TestLimits_StalledUnauthenticatedUploadsCostBoundedMemory(t *testing.T) {
	// Not parallel: it measures the process's memory.
	const (
		n        = 100
		inFlight = 4
		sent     = 768 << 10
		perConn  = 64 << 10
	)
	e := newEnv(t, newMemstore(), envOptions{})
	hook, err := e.pilot.WebhookHandler("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := server.NewTokens([]server.Token{{Login: "admin", Roles: []tfpilot.Role{tfpilot.RoleAdmin}, Token: adminToken}})
	if err != nil {
		t.Fatal(err)
	}
	opts := server.Options{Pilot: e.pilot, Hub: e.hub, Tokens: tokens, Webhook: hook, WebhookMaxInFlight: inFlight}
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer func() {
		hs.CloseClientConnections()
		hs.Close()
	}()
	addr := strings.TrimPrefix(hs.URL, "http://")
	chunk := make([]byte, 32<<10)
	for i := range chunk {
		chunk[i] = 'x'
	}

	before := memInUse()
	var (
		mu     sync.Mutex
		status = map[int]int{}
	)
	answer := func(r *bufio.Reader) {
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			return // a connection still being read: one of the in-flight webhooks
		}
		resp.Body.Close()
		mu.Lock()
		status[resp.StatusCode]++
		mu.Unlock()
	}
	var answered sync.WaitGroup
	for range n {
		_, r := stalledUpload(t, addr, "POST /tfpilot.v1.RequestService/Create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n", 1<<20, sent, chunk)
		answered.Add(1)
		go func() { defer answered.Done(); answer(r) }()
	}
	var hooks []*bufio.Reader
	for i := range n {
		_, r := stalledUpload(t, addr, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
			"X-GitHub-Event: ping\r\nX-GitHub-Delivery: d-%d\r\nX-Hub-Signature-256: sha256=%064d\r\n", server.WebhookPath, i, 0), 4<<20, sent, chunk)
		hooks = append(hooks, r)
	}
	// The RPC uploads are all answered without waiting for their bodies.
	answered.Wait()
	// All webhook uploads but the in-flight ones are answered at once.
	webhookAnswers := make(chan int, n)
	for _, r := range hooks {
		go func() {
			resp, err := http.ReadResponse(r, nil)
			if err == nil {
				resp.Body.Close()
				webhookAnswers <- resp.StatusCode
			}
		}()
	}
	rejected := 0
	for rejected < n-inFlight {
		if code := <-webhookAnswers; code == http.StatusServiceUnavailable {
			rejected++
		}
	}
	after := memInUse()

	if status[http.StatusUnauthorized] != n {
		t.Errorf("RPC answers %v; want %d × 401", status, n)
	}
	growth := int64(after) - int64(before)
	bound := int64(inFlight*(5<<20) + 2*n*perConn)
	t.Logf("%d stalled RPC + %d stalled webhook uploads of %d KiB: memory in use grew %.1f MiB (bound %.1f MiB)",
		n, n, sent>>10, float64(growth)/(1<<20), float64(bound)/(1<<20))
	if growth > bound {
		t.Fatalf("stalled unauthenticated uploads hold %d bytes, more than the bound %d", growth, bound)
	}
}

func memInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// TestLimits_WatchStreamsPerPrincipalTotalAndLifetime: a principal may
// hold MaxWatchStreamsPerPrincipal streams, the server MaxWatchStreams;
// more are resource_exhausted; a stream ends after MaxWatchLifetime.
func TestLimits_WatchStreamsPerPrincipalTotalAndLifetime(t *testing.T) {
	t.Parallel()
	e := newEnv(t, newMemstore(), envOptions{})
	id := e.create("payments-dev-watch").GetId()
	tokens, err := server.NewTokens([]server.Token{
		{Login: "admin", Roles: []tfpilot.Role{tfpilot.RoleAdmin}, Token: adminToken},
		{Login: "viewer", Roles: []tfpilot.Role{tfpilot.RoleViewer}, Token: viewerToken},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Pilot: e.pilot, Hub: e.hub, Tokens: tokens,
		MaxWatchStreamsPerPrincipal: 2, MaxWatchStreams: 3, MaxWatchLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer func() {
		hs.CloseClientConnections()
		hs.Close()
	}()
	ctx := ctxT(t)
	watch := func(token string) error {
		c := tfpilotv1connect.NewRequestServiceClient(&http.Client{Transport: bearer{token: token, next: hs.Client().Transport}}, hs.URL)
		stream, err := c.Watch(ctx, connect.NewRequest(&pb.WatchRequest{Id: id}))
		if err != nil {
			return err
		}
		t.Cleanup(func() { stream.Close() })
		if !stream.Receive() {
			return stream.Err()
		}
		return nil
	}
	for i, step := range []struct {
		token string
		want  connect.Code
	}{
		{viewerToken, 0}, {viewerToken, 0},
		{viewerToken, connect.CodeResourceExhausted}, // the principal's third
		{adminToken, 0},
		{adminToken, connect.CodeResourceExhausted}, // the server's fourth
	} {
		err := watch(step.token)
		if got := connect.CodeOf(err); (step.want == 0) != (err == nil) || err != nil && got != step.want {
			t.Fatalf("stream %d: %v; want code %v", i+1, err, step.want)
		}
	}

	// A stream's lifetime is bounded: it ends and the client reconnects.
	short, err := server.New(server.Options{Pilot: e.pilot, Hub: e.hub, Tokens: tokens, MaxWatchLifetime: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	hs2 := httptest.NewServer(short.Handler())
	defer hs2.Close()
	c := tfpilotv1connect.NewRequestServiceClient(&http.Client{Transport: bearer{token: viewerToken, next: hs2.Client().Transport}}, hs2.URL)
	stream, err := c.Watch(ctx, connect.NewRequest(&pb.WatchRequest{Id: id}))
	if err != nil {
		t.Fatal(err)
	}
	for stream.Receive() {
	}
	stream.Close()
	if ctx.Err() != nil {
		t.Fatal("the stream outlived the test's context, not its lifetime")
	}
}
