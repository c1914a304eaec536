package githubx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"go.opentelemetry.io/otel/trace"

	"github.com/tfpilot/tfpilot/runs"
)

// Options configures a [Client]. Exactly one of Token and App must be set;
// every other field has a documented default.
type Options struct {
	// BaseURL is the REST API root. Default "https://api.github.com/";
	// GitHub Enterprise uses "https://HOST/api/v3/"; tests use
	// githubtest.Fake.URL().
	BaseURL string
	// Token is a personal access, OAuth or installation token. It is
	// sent only to BaseURL's host, never along a redirect elsewhere.
	Token string
	// App authenticates as a GitHub App installation.
	App *AppAuth

	// AllowInsecureHTTP lets BaseURL be plain http, for local fakes
	// (githubtest). Default false: credentials go over https only.
	AllowInsecureHTTP bool

	// HTTPClient supplies the base transport and the timeout of each
	// attempt (waits between attempts do not count). Default: a client over
	// http.DefaultTransport with a 30 s timeout.
	HTTPClient *http.Client
	// Clock supplies time and sleep. Default: the real clock.
	Clock Clock
	// Logger receives retries and rate-limit waits at Info. Default: discard.
	Logger *slog.Logger

	// Workflows names the workflow files; zero fields take the defaults of
	// [DefaultWorkflows].
	Workflows Workflows
	// NonceInput is the dispatch input that carries the nonce. Default
	// [runs.InputNonce] ("tfpilot_nonce").
	NonceInput string

	// CacheEntries bounds the ETag cache. Default 1000; negative disables it.
	CacheEntries int
	// MaxRetries bounds retries of one call after a 5xx, a connection error
	// or a rate limit. Default 3; negative means none.
	MaxRetries int
	// RetryBase is the first backoff; each retry doubles it (with jitter in
	// [d/2, d]). Default 500 ms.
	RetryBase time.Duration
	// RetryMax caps one backoff. Default 30 s.
	RetryMax time.Duration
	// MaxRateLimitWait is the longest the client sleeps for a rate limit to
	// reset; a longer wait fails with a [*RateLimitError]. Default 60 s.
	MaxRateLimitWait time.Duration
	// FindRunAttempts is how many times Dispatch looks for the run by its
	// nonce when GitHub does not return run details. Default 5.
	FindRunAttempts int
	// FindRunInterval is the first wait between those looks (doubling).
	// Default 1 s.
	FindRunInterval time.Duration
	// ListLag is how long after a dispatch whose answer was lost the
	// client keeps looking for the run by its nonce before it dispatches
	// again (see [DefaultListLag]). Default DefaultListLag.
	ListLag time.Duration

	// TracerProvider makes a client span per call to GitHub ("GitHub
	// GET", ...), child of the span in the call's context. Default: no
	// tracing (the no-op provider); the client never reads the global one.
	TracerProvider trace.TracerProvider
}

// Client is a rate-aware GitHub client for the operations tfpilot needs.
// It is safe for concurrent use. Create it with [New].
type Client struct {
	gh         *github.Client
	rt         *rateTransport
	plain      *http.Client // no auth, no cache: job log downloads
	noRedirect *http.Client // rate-aware, does not follow redirects
	clock      Clock
	workflows  Workflows
	nonceKey   string
	stats      *counters
	retries    int
	retryBase  time.Duration
	retryMax   time.Duration
	findTries  int
	findWait   time.Duration
	listLag    time.Duration
}

// Repo is an alias of [runs.Repo], the one repository type shared with
// webhook, kept for existing users.
type Repo = runs.Repo

// New returns a [Client]. It makes no network call; App credentials are
// exchanged for a token on first use.
func New(opts Options) (*Client, error) {
	const op = "githubx.New"
	if (opts.Token == "") == (opts.App == nil) {
		return nil, fmt.Errorf("%s: set exactly one of Token and App: %w", op, ErrInvalid)
	}
	if opts.App != nil && opts.App.PrivateKey == nil {
		return nil, fmt.Errorf("%s: App.PrivateKey is nil: %w", op, ErrInvalid)
	}
	if opts.BaseURL == "" {
		opts.BaseURL = "https://api.github.com/"
	}
	if !strings.HasSuffix(opts.BaseURL, "/") {
		opts.BaseURL += "/"
	}
	base := opts.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: 30 * time.Second}
	}
	next := base.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.NonceInput == "" {
		opts.NonceInput = runs.InputNonce
	}
	if opts.CacheEntries == 0 {
		opts.CacheEntries = 1000
	}
	switch {
	case opts.MaxRetries == 0:
		opts.MaxRetries = 3
	case opts.MaxRetries < 0:
		opts.MaxRetries = 0
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = 500 * time.Millisecond
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = 30 * time.Second
	}
	if opts.MaxRateLimitWait <= 0 {
		opts.MaxRateLimitWait = time.Minute
	}
	if opts.FindRunAttempts <= 0 {
		opts.FindRunAttempts = 5
	}
	if opts.FindRunInterval <= 0 {
		opts.FindRunInterval = time.Second
	}
	if opts.ListLag <= 0 {
		opts.ListLag = DefaultListLag
	}

	baseURL, err := url.Parse(opts.BaseURL)
	if err != nil || baseURL.Scheme == "" || baseURL.Host == "" {
		return nil, fmt.Errorf("%s: base URL %q: %w", op, opts.BaseURL, ErrInvalid)
	}
	if err := checkBaseURL(baseURL, opts.AllowInsecureHTTP); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	guarded := &credentialGuard{next: next, scheme: baseURL.Scheme, host: baseURL.Host, allowHTTP: opts.AllowInsecureHTTP}
	stats := &counters{}
	var src tokenSource = staticToken(opts.Token)
	if opts.App != nil {
		src = &installationTokens{app: *opts.App, baseURL: opts.BaseURL,
			hc: &http.Client{Transport: next, Timeout: base.Timeout}, clock: opts.Clock, count: &stats.tokenRefreshes}
	}
	rt := &rateTransport{
		next: &authTransport{next: guarded, src: src}, clock: opts.Clock, log: opts.Logger, stats: stats,
		retries: opts.MaxRetries, base: opts.RetryBase, maxBack: opts.RetryMax, maxWait: opts.MaxRateLimitWait,
		timeout: base.Timeout,
	}
	if opts.CacheEntries > 0 {
		rt.cache = newETagCache(opts.CacheEntries)
	}
	// No client timeout above the transport: it would cut rate-limit waits
	// and backoff short. The transport applies it to each attempt.
	api := newTracingTransport(rt, opts.TracerProvider) // tracing.go
	gh := github.NewClient(&http.Client{Transport: api})
	gh.BaseURL = baseURL
	gh.UserAgent = "tfpilot-githubx"
	return &Client{
		gh: gh, rt: rt, plain: &http.Client{Transport: newTracingTransport(next, opts.TracerProvider), Timeout: base.Timeout}, clock: opts.Clock,
		noRedirect: &http.Client{Transport: api,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		workflows: opts.Workflows.withDefaults(), nonceKey: opts.NonceInput, stats: stats,
		retries: opts.MaxRetries, retryBase: opts.RetryBase, retryMax: opts.RetryMax,
		findTries: opts.FindRunAttempts, findWait: opts.FindRunInterval, listLag: opts.ListLag,
	}, nil
}

// Workflows returns the workflow file names the client classifies runs by.
func (c *Client) Workflows() Workflows { return c.workflows }

// Stats is a snapshot of the client's counters, for metrics.
type Stats struct {
	// Calls is the number of HTTP requests sent to GitHub, retries included.
	Calls int64
	// Units is the number of answers that spent a unit of the rate limit:
	// every answer but a 304 to a conditional request (which GitHub does
	// not charge).
	Units int64
	// NotModified is the number of 304 answers served from the ETag cache.
	NotModified int64
	// Retries is the number of retries after a 5xx or connection error,
	// including dispatch and merge retries made after checking GitHub.
	Retries int64
	// RateLimitWaits is the number of times the client slept for a limit.
	RateLimitWaits int64
	// RateLimited is the number of calls failed with a [*RateLimitError].
	RateLimited int64
	// TokenRefreshes is the number of App installation tokens minted.
	TokenRefreshes int64
	// RateLimit, RateRemaining and RateReset are the last primary ("core")
	// budget GitHub reported; zero before the first answer.
	RateLimit     int
	RateRemaining int
	RateReset     time.Time
	// CacheEntries is the number of answers held in the ETag cache.
	CacheEntries int
}

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats {
	s := Stats{
		Calls: c.stats.calls.Load(), Units: c.stats.units.Load(), NotModified: c.stats.notModified.Load(), Retries: c.stats.retries.Load(),
		RateLimitWaits: c.stats.rateLimitWaits.Load(), RateLimited: c.stats.rateLimited.Load(),
		TokenRefreshes: c.stats.tokenRefreshes.Load(),
	}
	s.RateLimit, s.RateRemaining, s.RateReset = c.rt.snapshot()
	if c.rt.cache != nil {
		s.CacheEntries = c.rt.cache.len()
	}
	return s
}

// read prepares the context of a read call.
func readCtx(ctx context.Context, opts []CallOption) context.Context {
	var cfg callConfig
	for _, o := range opts {
		if o != nil {
			o.applyCall(&cfg)
		}
	}
	return withCall(ctx, cfg)
}

// sleepBackoff waits the jittered backoff of a method-level retry.
func (c *Client) sleepBackoff(ctx context.Context, attempt int) error {
	c.stats.retries.Add(1)
	d := c.retryBase << attempt
	if d > c.retryMax || d <= 0 {
		d = c.retryMax
	}
	return c.clock.Sleep(ctx, d)
}

func invalid(op, msg string) error {
	return &Error{Op: op, Message: msg, Err: ErrInvalid}
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
