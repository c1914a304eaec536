package githubx

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxCachedBody bounds the size of one cached answer.
const maxCachedBody = 1 << 20

// callConfig carries per-call policy from a Client method to the
// transport through the request context (never stored).
type callConfig struct {
	bypassCache bool // send no If-None-Match; refresh the cache entry
	noCache     bool // neither read nor write the cache
	idempotent  bool // safe to resend after a 5xx or connection error
}

type callKey struct{}

func withCall(ctx context.Context, cfg callConfig) context.Context {
	return context.WithValue(ctx, callKey{}, cfg)
}

func callFrom(ctx context.Context) callConfig {
	cfg, _ := ctx.Value(callKey{}).(callConfig)
	return cfg
}

// CallOption tunes one read call.
type CallOption interface {
	applyCall(*callConfig)
}

type bypassCacheOption struct{}

func (bypassCacheOption) applyCall(c *callConfig) { c.bypassCache = true }

// BypassCache makes a read skip the conditional GET and fetch a fresh copy
// (the answer still refreshes the cache). Reconciliation uses it
// (INV-REC-3): a fact about a run must not come from a cache.
func BypassCache() CallOption { return bypassCacheOption{} }

type counters struct {
	calls, units, notModified, retries, rateLimitWaits, rateLimited, tokenRefreshes atomic.Int64
}

// rateTransport implements conditional GETs, the primary and secondary
// rate limits and retries, below go-github.
type rateTransport struct {
	next    http.RoundTripper
	clock   Clock
	log     *slog.Logger
	cache   *etagCache // nil: disabled
	stats   *counters
	retries int
	timeout time.Duration // per attempt; 0 = none
	base    time.Duration
	maxWait time.Duration
	maxBack time.Duration

	mu             sync.Mutex
	limit          int
	remaining      int
	reset          time.Time
	known          bool
	secondaryUntil time.Time
}

func (t *rateTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	cfg := callFrom(ctx)
	idempotent := cfg.idempotent || req.Method == http.MethodGet || req.Method == http.MethodHead
	cacheable := t.cache != nil && req.Method == http.MethodGet && !cfg.noCache
	key := req.URL.String() + "\x00" + req.Header.Get("Accept")
	var cached *cacheEntry
	if cacheable && !cfg.bypassCache {
		cached = t.cache.get(key)
	}
	for attempt := 0; ; attempt++ {
		if err := t.waitKnownLimits(ctx); err != nil {
			return nil, err
		}
		r, err := cloneRequest(req, attempt)
		if err != nil {
			return nil, err
		}
		if cached != nil {
			r.Header.Set("If-None-Match", cached.etag)
		}
		// The timeout bounds each attempt, not the waits between them.
		cancel := context.CancelFunc(func() {})
		if t.timeout > 0 {
			var actx context.Context
			actx, cancel = context.WithTimeout(ctx, t.timeout)
			r = r.WithContext(actx)
		}
		t.stats.calls.Add(1)
		resp, err := t.next.RoundTrip(r)
		if err != nil {
			cancel()
			if ctx.Err() != nil || !idempotent || attempt >= t.retries {
				return nil, err
			}
			if err := t.backoff(ctx, attempt, req, "connection error: "+err.Error()); err != nil {
				return nil, err
			}
			continue
		}
		resp.Body = cancelOnClose{resp.Body, cancel}
		if resp.StatusCode != http.StatusNotModified {
			t.stats.units.Add(1) // a 304 to a conditional request is free
		}
		t.observe(resp.Header)
		if resp.StatusCode == http.StatusNotModified && cached != nil {
			drain(resp)
			t.stats.notModified.Add(1)
			return cached.response(req), nil
		}
		if wait, rle := t.rateLimited(resp); rle != nil {
			drain(resp)
			if wait > t.maxWait || attempt >= t.retries || !fitsDeadline(ctx, t.clock, wait) {
				t.stats.rateLimited.Add(1)
				return nil, rle
			}
			t.stats.rateLimitWaits.Add(1)
			t.log.LogAttrs(ctx, slog.LevelInfo, "github.rate_limit_wait", slog.String("url", req.URL.Path), slog.Duration("wait", wait), slog.Bool("secondary", rle.Secondary))
			if err := t.clock.Sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		if resp.StatusCode >= 500 && idempotent && attempt < t.retries {
			drain(resp)
			if err := t.backoff(ctx, attempt, req, resp.Status); err != nil {
				return nil, err
			}
			continue
		}
		if cacheable && resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") != "" {
			body, err := io.ReadAll(io.LimitReader(resp.Body, maxCachedBody+1))
			rest := resp.Body
			if err != nil {
				_ = rest.Close()
				return nil, err
			}
			if len(body) <= maxCachedBody {
				_ = rest.Close()
				t.cache.put(&cacheEntry{key: key, etag: resp.Header.Get("ETag"), status: resp.StatusCode, header: resp.Header.Clone(), body: body})
				resp.Body = io.NopCloser(bytes.NewReader(body))
			} else {
				resp.Body = readCloser{io.MultiReader(bytes.NewReader(body), rest), rest}
			}
		}
		// This transport is the only rate-limit authority: hide the reset
		// so go-github's own pre-check (on the real clock) never fires.
		resp.Header.Del("X-RateLimit-Reset")
		return resp, nil
	}
}

// fitsDeadline reports whether waiting d leaves ctx alive; a wait that
// would outlive the caller's deadline fails at once instead.
func fitsDeadline(ctx context.Context, clock Clock, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || dl.Sub(clock.Now()) > d
}

// cancelOnClose releases an attempt's timeout when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

type readCloser struct {
	io.Reader
	io.Closer
}

func (e *cacheEntry) response(req *http.Request) *http.Response {
	h := e.header.Clone()
	h.Del("X-RateLimit-Reset")
	return &http.Response{
		Status: "200 OK", StatusCode: e.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(e.body)), ContentLength: int64(len(e.body)), Request: req,
	}
}

func (t *rateTransport) backoff(ctx context.Context, attempt int, req *http.Request, why string) error {
	t.stats.retries.Add(1)
	d := t.base << attempt
	if d > t.maxBack || d <= 0 {
		d = t.maxBack
	}
	d = d/2 + rand.N(d/2+1) // jitter in [d/2, d]
	t.log.LogAttrs(ctx, slog.LevelInfo, "github.retry", slog.String("method", req.Method), slog.String("url", req.URL.Path), slog.Int("attempt", attempt+1), slog.String("reason", why), slog.Duration("wait", d))
	return t.clock.Sleep(ctx, d)
}

// waitKnownLimits waits out (or refuses with a RateLimitError) a limit
// learned from earlier answers, without sending a request.
func (t *rateTransport) waitKnownLimits(ctx context.Context) error {
	for i := 0; i < 2; i++ {
		now := t.clock.Now()
		t.mu.Lock()
		var until time.Time
		secondary := false
		if t.known && t.remaining <= 0 && t.reset.After(now) {
			until = t.reset
		}
		if t.secondaryUntil.After(now) && t.secondaryUntil.After(until) {
			until, secondary = t.secondaryUntil, true
		}
		t.mu.Unlock()
		if until.IsZero() {
			return nil
		}
		wait := until.Sub(now)
		if wait > t.maxWait || !fitsDeadline(ctx, t.clock, wait) {
			t.stats.rateLimited.Add(1)
			return &RateLimitError{Reset: until, Secondary: secondary}
		}
		t.stats.rateLimitWaits.Add(1)
		if err := t.clock.Sleep(ctx, wait); err != nil {
			return err
		}
	}
	return nil
}

func (t *rateTransport) observe(h http.Header) {
	if res := h.Get("X-RateLimit-Resource"); res != "" && res != "core" {
		return
	}
	rem, err1 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	reset, err2 := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil {
		return
	}
	limit, _ := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	t.mu.Lock()
	defer t.mu.Unlock()
	t.known, t.remaining, t.reset, t.limit = true, rem, time.Unix(reset, 0), limit
}

// rateLimited recognises GitHub's rate-limit answers and says how long to
// wait: until X-RateLimit-Reset for the primary limit, Retry-After for a
// secondary limit (a minute when GitHub gives no hint, as it advises).
func (t *rateTransport) rateLimited(resp *http.Response) (time.Duration, *RateLimitError) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, nil
	}
	now := t.clock.Now()
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		secs, err := strconv.Atoi(strings.TrimSpace(ra))
		if err != nil || secs < 0 {
			secs = 60
		}
		until := now.Add(time.Duration(secs) * time.Second)
		t.mu.Lock()
		t.secondaryUntil = until
		t.mu.Unlock()
		return until.Sub(now), &RateLimitError{Reset: until, Secondary: true, StatusCode: resp.StatusCode}
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
		until := now.Add(time.Minute)
		if err == nil {
			until = time.Unix(reset, 0)
		}
		wait := until.Sub(now)
		if wait < 0 {
			wait = 0
		}
		return wait, &RateLimitError{Reset: until, StatusCode: resp.StatusCode}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		until := now.Add(time.Minute)
		t.mu.Lock()
		t.secondaryUntil = until
		t.mu.Unlock()
		return time.Minute, &RateLimitError{Reset: until, Secondary: true, StatusCode: resp.StatusCode}
	}
	return 0, nil // a plain 403: a permission problem, not a limit
}

func (t *rateTransport) snapshot() (limit, remaining int, reset time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.limit, t.remaining, t.reset
}

func cloneRequest(req *http.Request, attempt int) (*http.Request, error) {
	r := req.Clone(req.Context())
	if attempt > 0 && req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, &Error{Op: "githubx.transport", Err: ErrInvalid, Message: "request body cannot be replayed"}
		}
		b, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = b
	}
	return r, nil
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// credentialGuard sits below the transport that adds the Authorization
// header: the header reaches only the configured API host and scheme,
// over https unless plain http was explicitly allowed
// ([Options.AllowInsecureHTTP], for local fakes). A request to any other
// host or scheme — a redirect elsewhere, say — goes without it.
type credentialGuard struct {
	next      http.RoundTripper
	scheme    string
	host      string
	allowHTTP bool
}

func (g *credentialGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") == "" {
		return g.next.RoundTrip(req)
	}
	if !strings.EqualFold(req.URL.Scheme, g.scheme) || !strings.EqualFold(req.URL.Host, g.host) {
		r := req.Clone(req.Context())
		r.Header.Del("Authorization")
		return g.next.RoundTrip(r)
	}
	if !strings.EqualFold(req.URL.Scheme, "https") && !g.allowHTTP {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("githubx: refusing to send credentials over %s to %s (set Options.AllowInsecureHTTP for a local fake): %w",
			req.URL.Scheme, req.URL.Host, ErrInvalid)
	}
	return g.next.RoundTrip(req)
}

// checkBaseURL refuses an API root that credentials may not be sent to:
// anything but https, unless allowHTTP permits http.
func checkBaseURL(u *url.URL, allowHTTP bool) error {
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if allowHTTP {
			return nil
		}
		return fmt.Errorf("base URL %q is plain http: credentials go over https only (set AllowInsecureHTTP for a local fake): %w", u.Redacted(), ErrInvalid)
	}
	return fmt.Errorf("base URL %q: want https: %w", u.Redacted(), ErrInvalid)
}
