package githubx_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

func TestTransport_RetriesIdempotentReadsOn5xxAndConnectionErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault githubtest.Fault
	}{
		{"502 twice", githubtest.Fault{Kind: githubtest.FaultServerError, Times: 2}},
		{"503", githubtest.Fault{Kind: githubtest.FaultServerError, Status: 503}},
		{"connection reset", githubtest.Fault{Kind: githubtest.FaultConnectionReset}},
		{"dropped answer", githubtest.Fault{Kind: githubtest.FaultAmbiguous, Drop: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, githubtest.Options{}, githubx.Options{})
			pr := e.openPR(t, "req-1")
			before := e.c.Stats()
			tc.fault.Endpoint = githubtest.EndpointGetPull
			e.fake.InjectFault(tc.fault)
			if _, err := e.c.GetPR(ctx(t), repo, pr.Number, githubx.BypassCache()); err != nil {
				t.Fatal(err)
			}
			times := max(tc.fault.Times, 1)
			if s := e.c.Stats(); s.Retries-before.Retries != int64(times) {
				t.Fatalf("retries %d, want %d", s.Retries-before.Retries, times)
			}
			if n, slept := e.clock.Slept(); n < times || slept <= 0 {
				t.Fatalf("backoff: %d sleeps, %v", n, slept)
			}
		})
	}
}

func TestTransport_GivesUpAfterMaxRetries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{MaxRetries: 2})
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointGetPull, Kind: githubtest.FaultServerError, Times: 5})
	_, err := e.c.GetPR(ctx(t), repo, 1)
	var ge *githubx.Error
	if !errors.Is(err, githubx.ErrUnavailable) || !errors.As(err, &ge) || ge.StatusCode != 502 {
		t.Fatalf("err = %v, want a 502 ErrUnavailable", err)
	}
	if n := e.fake.CallCount(githubtest.EndpointGetPull); n != 3 {
		t.Fatalf("%d calls, want 3", n)
	}
}

func TestTransport_PrimaryRateLimit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		resetIn  time.Duration
		wantWait bool
	}{
		{"near reset is waited out", 30 * time.Second, true},
		{"far reset is a typed error", 30 * time.Minute, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, githubtest.Options{}, githubx.Options{MaxRateLimitWait: time.Minute})
			pr := e.openPR(t, "req-1")
			reset := e.clock.Now().Add(tc.resetIn).Truncate(time.Second)
			e.fake.SetRateLimit(0, reset)
			start := e.clock.Now()
			got, err := e.c.GetPR(ctx(t), repo, pr.Number, githubx.BypassCache())
			if tc.wantWait {
				if err != nil || got.Number != pr.Number {
					t.Fatalf("GetPR = %v", err)
				}
				if e.clock.Now().Before(reset) || e.clock.Now().Sub(start) > tc.resetIn+time.Second {
					t.Fatalf("clock at %v, want just past reset %v", e.clock.Now(), reset)
				}
				if s := e.c.Stats(); s.RateLimitWaits != 1 || s.RateLimited != 0 {
					t.Fatalf("stats %+v", s)
				}
				return
			}
			var rle *githubx.RateLimitError
			if !errors.As(err, &rle) || !errors.Is(err, githubx.ErrRateLimited) || !rle.Reset.Equal(reset) || rle.Secondary {
				t.Fatalf("err = %v, want a primary RateLimitError until %v", err, reset)
			}
			// The limit is remembered: the next call is refused without
			// reaching GitHub.
			calls := e.fake.CallCount(githubtest.EndpointGetPull)
			if _, err := e.c.GetPR(ctx(t), repo, pr.Number, githubx.BypassCache()); !errors.Is(err, githubx.ErrRateLimited) {
				t.Fatalf("second call: %v", err)
			}
			if e.fake.CallCount(githubtest.EndpointGetPull) != calls {
				t.Fatalf("a request known to be refused was sent")
			}
			if s := e.c.Stats(); s.RateLimited != 2 || s.RateRemaining != 0 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

func TestTransport_SecondaryLimitHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		kind       githubtest.FaultKind
		retryAfter time.Duration
		wantErr    bool
	}{
		{"403 secondary, short", githubtest.FaultSecondaryRateLimit, 5 * time.Second, false},
		{"429, short", githubtest.FaultTooManyRequests, 7 * time.Second, false},
		{"403 secondary, long", githubtest.FaultSecondaryRateLimit, 10 * time.Minute, true},
		{"429, long", githubtest.FaultTooManyRequests, 10 * time.Minute, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, githubtest.Options{}, githubx.Options{})
			pr := e.openPR(t, "req-1")
			e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointGetPull, Kind: tc.kind, RetryAfter: tc.retryAfter})
			start := e.clock.Now()
			_, err := e.c.GetPR(ctx(t), repo, pr.Number)
			if tc.wantErr {
				var rle *githubx.RateLimitError
				if !errors.As(err, &rle) || !rle.Secondary || !rle.Reset.Equal(start.Add(tc.retryAfter)) {
					t.Fatalf("err = %v, want secondary RateLimitError at +%v", err, tc.retryAfter)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if waited := e.clock.Now().Sub(start); waited < tc.retryAfter {
				t.Fatalf("waited %v, want at least Retry-After %v", waited, tc.retryAfter)
			}
			if s := e.c.Stats(); s.RateLimitWaits != 1 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

func TestTransport_LatencyRespectsContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{}, githubx.Options{})
	// The answer never comes (until the test ends): only the caller's
	// deadline can end the call, and a call that ignored it would hang
	// the test.
	never := make(chan struct{})
	t.Cleanup(func() { close(never) })
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointGetPull, Kind: githubtest.FaultLatency, Until: never})
	c, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := e.c.GetPR(c, repo, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	// A short latency is just slow.
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointGetRef, Kind: githubtest.FaultLatency, Delay: 20 * time.Millisecond})
	if _, err := e.c.EnsureBranch(ctx(t), repo, "main", "main"); err != nil {
		t.Fatal(err)
	}
}

func TestAuth_BadTokenIsUnauthorized(t *testing.T) {
	t.Parallel()
	e := newEnv(t, githubtest.Options{Tokens: []string{"good"}}, githubx.Options{Token: "bad"})
	_, err := e.c.GetPR(ctx(t), repo, 1)
	var ge *githubx.Error
	if !errors.Is(err, githubx.ErrUnauthorized) || !errors.As(err, &ge) || ge.StatusCode != 401 || ge.Op != "githubx.GetPR" {
		t.Fatalf("err = %v, want 401 ErrUnauthorized from githubx.GetPR", err)
	}
}

func TestAuth_AppInstallationTokenCachedUntilNearExpiry(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	app := &githubtest.App{ID: 42, InstallationID: 7, PublicKey: &key.PublicKey}
	e := newEnv(t, githubtest.Options{App: app, Tokens: []string{"only-this-pat"}},
		githubx.Options{App: &githubx.AppAuth{AppID: 42, InstallationID: 7, PrivateKey: key}})
	for i := 0; i < 3; i++ {
		if _, err := e.c.EnsureBranch(ctx(t), repo, "main", "main"); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fake.CallCount(githubtest.EndpointAppToken); n != 1 {
		t.Fatalf("minted %d tokens for 3 calls, want 1", n)
	}
	e.clock.Advance(54 * time.Minute) // 6 minutes left: still used
	if _, err := e.c.EnsureBranch(ctx(t), repo, "main", "main"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute) // 4 minutes left: replaced
	if _, err := e.c.EnsureBranch(ctx(t), repo, "main", "main"); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.CallCount(githubtest.EndpointAppToken); n != 2 || e.c.Stats().TokenRefreshes != 2 {
		t.Fatalf("minted %d tokens, want 2", n)
	}
}

func TestAuth_AppWithWrongKeyIsUnauthorized(t *testing.T) {
	t.Parallel()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	e := newEnv(t, githubtest.Options{App: &githubtest.App{ID: 42, InstallationID: 7, PublicKey: &key.PublicKey}},
		githubx.Options{App: &githubx.AppAuth{AppID: 42, InstallationID: 7, PrivateKey: other}})
	if _, err := e.c.GetPR(ctx(t), repo, 1); !errors.Is(err, githubx.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
}

func TestNew_RejectsBadOptions(t *testing.T) {
	t.Parallel()
	key, _ := rsa.GenerateKey(rand.Reader, 1024)
	cases := map[string]githubx.Options{
		"no credentials":   {},
		"both credentials": {Token: "t", App: &githubx.AppAuth{PrivateKey: key}},
		"app without key":  {App: &githubx.AppAuth{AppID: 1}},
		"bad base url":     {Token: "t", BaseURL: "::nope"},
	}
	for name, o := range cases {
		if _, err := githubx.New(o); !errors.Is(err, githubx.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestAuth_RevokedInstallationTokenIsReplaced(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	app := &githubtest.App{ID: 42, InstallationID: 7, PublicKey: &key.PublicKey}
	e := newEnv(t, githubtest.Options{App: app}, githubx.Options{App: &githubx.AppAuth{AppID: 42, InstallationID: 7, PrivateKey: key}})
	if _, err := e.c.EnsureBranch(ctx(t), repo, "main", "main"); err != nil {
		t.Fatal(err)
	}
	// GitHub revokes the token long before its announced expiry.
	e.fake.RevokeTokens()
	if _, err := e.c.EnsureBranch(ctx(t), repo, "main", "main"); !errors.Is(err, githubx.ErrUnauthorized) {
		t.Fatalf("call with a revoked token: %v, want ErrUnauthorized", err)
	}
	if _, err := e.c.EnsureBranch(ctx(t), repo, "main", "main"); err != nil {
		t.Fatalf("next call should mint a new token: %v", err)
	}
	if n := e.fake.CallCount(githubtest.EndpointAppToken); n != 2 {
		t.Fatalf("minted %d tokens, want 2", n)
	}
}

func TestTransport_TimeoutBoundsEachAttemptNotTheWaits(t *testing.T) {
	t.Parallel()
	// A 200 ms attempt timeout: the first attempt hangs (latency 5 s) and
	// times out, the retry succeeds.
	e := newEnv(t, githubtest.Options{}, githubx.Options{HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}})
	pr := e.openPR(t, "req-1")
	// The first answer never comes (until the test ends): only the
	// attempt timeout can end it, and a client without one would hang
	// the test.
	never := make(chan struct{})
	t.Cleanup(func() { close(never) })
	e.fake.InjectFault(githubtest.Fault{Endpoint: githubtest.EndpointGetPull, Kind: githubtest.FaultLatency, Until: never})
	if _, err := e.c.GetPR(ctx(t), repo, pr.Number, githubx.BypassCache()); err != nil {
		t.Fatalf("GetPR after a timed-out attempt: %v", err)
	}
	// At least the timed-out attempt was retried (a loaded machine may
	// time out the next one too: 200 ms is short).
	if r := e.c.Stats().Retries; r < 1 {
		t.Fatalf("%d retries, want the timed-out attempt retried", r)
	}
}

func TestTransport_RateLimitWaitBeyondTheCallersDeadlineFailsAtOnce(t *testing.T) {
	t.Parallel()
	// A manual clock near real time, so a real context deadline means
	// something on it.
	clock := githubtest.NewManualClock(time.Now())
	f := githubtest.New(githubtest.Options{Clock: clock})
	t.Cleanup(f.Close)
	if _, err := f.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra"}); err != nil {
		t.Fatal(err)
	}
	c, err := githubx.New(githubx.Options{Token: "t", BaseURL: f.URL(), AllowInsecureHTTP: true, Clock: clock, MaxRateLimitWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	f.SetRateLimit(0, clock.Now().Add(30*time.Second))
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.EnsureBranch(cctx, repo, "main", "main")
	if !errors.Is(err, githubx.ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	if n, _ := clock.Slept(); n != 0 {
		t.Fatalf("slept %d times for a wait the caller cannot afford", n)
	}
}
