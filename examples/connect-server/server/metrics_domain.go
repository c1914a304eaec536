package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/lifecycle"
)

// The domain metrics: GitHub's budget and the client's counters, webhook
// deliveries by outcome, requests by status and lock conflicts. The
// README's metrics table documents each.

// WatchGitHub exposes c's [githubx.Stats] on /metrics, read at each
// scrape: calls, rate-limit units spent, ETag cache hits, retries,
// rate-limit waits and failures, App token refreshes, and the budget
// GitHub last reported. Call it once per client.
func (s *Server) WatchGitHub(c *githubx.Client) error {
	return s.metrics.registry.Register(githubCollector{c})
}

var (
	ghCallsDesc     = prometheus.NewDesc("tfpilot_github_calls_total", "HTTP requests sent to GitHub, retries included.", nil, nil)
	ghUnitsDesc     = prometheus.NewDesc("tfpilot_github_units_total", "GitHub answers that spent a rate-limit unit (all but 304s to conditional requests).", nil, nil)
	ghCacheHitsDesc = prometheus.NewDesc("tfpilot_github_cache_hits_total", "Reads answered 304 and served from the ETag cache (free).", nil, nil)
	ghRetriesDesc   = prometheus.NewDesc("tfpilot_github_retries_total", "Retries after a 5xx or a connection error.", nil, nil)
	ghWaitsDesc     = prometheus.NewDesc("tfpilot_github_rate_limit_waits_total", "Times the client slept for a rate limit.", nil, nil)
	ghLimitedDesc   = prometheus.NewDesc("tfpilot_github_rate_limited_total", "Calls failed by a rate limit too long to wait for.", nil, nil)
	ghRefreshDesc   = prometheus.NewDesc("tfpilot_github_token_refreshes_total", "GitHub App installation tokens minted.", nil, nil)
	ghLimitDesc     = prometheus.NewDesc("tfpilot_github_rate_limit", "The primary rate limit GitHub last reported (units per hour); 0 before the first answer.", nil, nil)
	ghRemainingDesc = prometheus.NewDesc("tfpilot_github_rate_limit_remaining", "Units left in the primary rate limit, as GitHub last reported.", nil, nil)
	ghResetDesc     = prometheus.NewDesc("tfpilot_github_rate_limit_reset_timestamp_seconds", "When the primary rate limit resets (Unix seconds); 0 before the first answer.", nil, nil)
	ghEntriesDesc   = prometheus.NewDesc("tfpilot_github_cache_entries", "Answers held in the ETag cache.", nil, nil)
)

// githubCollector reads a client's Stats at each scrape.
type githubCollector struct{ c *githubx.Client }

func (g githubCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{ghCallsDesc, ghUnitsDesc, ghCacheHitsDesc, ghRetriesDesc, ghWaitsDesc,
		ghLimitedDesc, ghRefreshDesc, ghLimitDesc, ghRemainingDesc, ghResetDesc, ghEntriesDesc} {
		ch <- d
	}
}

func (g githubCollector) Collect(ch chan<- prometheus.Metric) {
	st := g.c.Stats()
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter(ghCallsDesc, st.Calls)
	counter(ghUnitsDesc, st.Units)
	counter(ghCacheHitsDesc, st.NotModified)
	counter(ghRetriesDesc, st.Retries)
	counter(ghWaitsDesc, st.RateLimitWaits)
	counter(ghLimitedDesc, st.RateLimited)
	counter(ghRefreshDesc, st.TokenRefreshes)
	gauge(ghLimitDesc, float64(st.RateLimit))
	gauge(ghRemainingDesc, float64(st.RateRemaining))
	reset := 0.0
	if !st.RateReset.IsZero() {
		reset = float64(st.RateReset.Unix())
	}
	gauge(ghResetDesc, reset)
	gauge(ghEntriesDesc, float64(st.CacheEntries))
}

// insightsTTL is how long a scrape reuses the last [tfpilot.Pilot.Insights]
// answer, so that frequent scrapes (or several scrapers) do not each
// walk the store.
const insightsTTL = 5 * time.Second

// metricsPrincipal is who reads Insights for /metrics.
var metricsPrincipal = tfpilot.Principal{Login: "metrics", Roles: []tfpilot.Role{tfpilot.RoleViewer}}

var requestsDesc = prometheus.NewDesc("tfpilot_requests", "Live requests by derived lifecycle status (from Insights, cached "+insightsTTL.String()+").", []string{"status"}, nil)

// requestsCollector reports live requests by status from the engine's
// Insights, computed at most once per insightsTTL.
type requestsCollector struct {
	s *Server

	mu   sync.Mutex
	at   time.Time
	last map[lifecycle.Status]int
}

func (c *requestsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- requestsDesc }

func (c *requestsCollector) Collect(ch chan<- prometheus.Metric) {
	counts, ok := c.counts()
	if !ok {
		return
	}
	for _, st := range lifecycle.Statuses() {
		ch <- prometheus.MustNewConstMetric(requestsDesc, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
}

func (c *requestsCollector) counts() (map[lifecycle.Status]int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != nil && time.Since(c.at) < insightsTTL {
		return c.last, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	in, err := c.s.opts.Pilot.Insights(ctx, metricsPrincipal)
	if err != nil {
		c.s.log.WarnContext(ctx, "metrics: requests by status", "err", err)
		return c.last, c.last != nil
	}
	c.last, c.at = in.StatusCounts, time.Now()
	return c.last, true
}

// Webhook delivery outcomes, the label values of
// tfpilot_webhook_deliveries_total.
const (
	deliveryHandled      = "handled"       // applied to a request
	deliveryNotAttached  = "not_attached"  // verified, but matched no request
	deliveryIgnored      = "ignored"       // an event or workflow tfpilot does not act on
	deliveryDuplicate    = "duplicate"     // already claimed: no work done twice
	deliveryPing         = "ping"          // GitHub's hook check
	deliveryBadSignature = "bad_signature" // 401: HMAC check failed
	deliveryRejected     = "rejected"      // other 4xx: too large, malformed, unreadable
	deliveryBusy         = "busy"          // 503: too many in flight, or the claim failed
	deliveryFailed       = "failed"        // 500: handling failed; claim released for redelivery
)

// deliveryOutcome classifies a webhook answer by its status and the
// start of its body (the webhook handler's outcome line).
func deliveryOutcome(status int, body string) string {
	switch {
	case status == http.StatusUnauthorized:
		return deliveryBadSignature
	case status == http.StatusServiceUnavailable:
		return deliveryBusy
	case status >= 500:
		return deliveryFailed
	case status >= 400:
		return deliveryRejected
	case strings.HasPrefix(body, "duplicate"):
		return deliveryDuplicate
	case strings.HasPrefix(body, "pong"):
		return deliveryPing
	case strings.HasPrefix(body, "ignored"):
		return deliveryIgnored
	case strings.HasPrefix(body, "not attached"):
		return deliveryNotAttached
	}
	return deliveryHandled
}

// outcomeRecorder keeps an answer's status and the first bytes of its
// body.
type outcomeRecorder struct {
	http.ResponseWriter
	status int
	head   []byte
}

func (o *outcomeRecorder) WriteHeader(code int) {
	if o.status == 0 {
		o.status = code
	}
	o.ResponseWriter.WriteHeader(code)
}

func (o *outcomeRecorder) Write(b []byte) (int, error) {
	if o.status == 0 {
		o.status = http.StatusOK
	}
	if n := 32 - len(o.head); n > 0 {
		o.head = append(o.head, b[:min(n, len(b))]...)
	}
	return o.ResponseWriter.Write(b)
}

func (o *outcomeRecorder) Unwrap() http.ResponseWriter { return o.ResponseWriter }

// countDeliveries counts each webhook delivery by outcome.
func (s *Server) countDeliveries(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &outcomeRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.metrics.deliveries.WithLabelValues(deliveryOutcome(rec.status, string(rec.head))).Inc()
	})
}

// noteLockConflict counts a call refused with [tfpilot.ErrLocked]; the
// observe interceptor reads it.
func noteLockConflict(ctx context.Context, err error) {
	if !errors.Is(err, tfpilot.ErrLocked) {
		return
	}
	if ci, ok := ctx.Value(callKey{}).(*callInfo); ok {
		ci.mu.Lock()
		ci.locked = true
		ci.mu.Unlock()
	}
}

// countLockConflict counts the call in tfpilot_lock_conflicts_total when
// [noteLockConflict] marked it.
func (s *Server) countLockConflict(ctx context.Context, procedure string) {
	ci, ok := ctx.Value(callKey{}).(*callInfo)
	if !ok {
		return
	}
	ci.mu.Lock()
	locked := ci.locked
	ci.mu.Unlock()
	if locked {
		s.metrics.lockConflicts.WithLabelValues(procedure).Inc()
	}
}
