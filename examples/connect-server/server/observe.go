package server

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// RequestIDHeader carries a call's correlation id. A client may send one
// (letters, digits, '.', '_', '-'; at most 64); otherwise the server makes
// one. Either way the answer carries it and every log line of the call
// names it.
const RequestIDHeader = "X-Request-Id"

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// callInfo is the per-call state the access log reports: the correlation
// id, and attributes added by inner layers (the login, the error code).
type callInfo struct {
	id    string
	mu    sync.Mutex
	attrs []any
	// read: the call is a read RPC (no side effects) that ended without
	// a server fault; the access log writes it at DEBUG.
	read bool
	// locked: the call was refused because another operation held the
	// request's lock (tfpilot_lock_conflicts_total).
	locked bool
}

type callKey struct{}

// RequestID returns the correlation id of the call ctx belongs to.
func RequestID(ctx context.Context) string {
	if ci, ok := ctx.Value(callKey{}).(*callInfo); ok {
		return ci.id
	}
	return ""
}

func setLogAttr(ctx context.Context, key string, value any) {
	if ci, ok := ctx.Value(callKey{}).(*callInfo); ok {
		ci.mu.Lock()
		ci.attrs = append(ci.attrs, key, value)
		ci.mu.Unlock()
	}
}

// markRead records whether the call is a read that the access log may
// write at DEBUG: a procedure without side effects that did not fail on
// the server's side.
func markRead(ctx context.Context, spec connect.Spec, err error) {
	ci, ok := ctx.Value(callKey{}).(*callInfo)
	if !ok || spec.IdempotencyLevel != connect.IdempotencyNoSideEffects {
		return
	}
	switch connect.CodeOf(err) {
	case connect.CodeInternal, connect.CodeUnknown, connect.CodeDataLoss:
		if err != nil {
			return
		}
	}
	ci.mu.Lock()
	ci.read = true
	ci.mu.Unlock()
}

func newRequestID() string { return strings.ToLower(rand.Text()[:20]) }

// statusRecorder remembers the status code written, and passes Flush on
// so streaming answers still stream.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// observe wraps next with the correlation id, the body limit, HTTP
// metrics and one access-log line per call.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		ci := &callInfo{id: id}
		w.Header().Set(RequestIDHeader, id)
		if r.Body != nil && s.opts.MaxBodyBytes > 0 {
			r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), callKey{}, ci)))
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		route := routeOf(r.URL.Path)
		s.metrics.httpRequests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
		level := slog.LevelInfo
		ci.mu.Lock()
		if ci.read || route == "/healthz" || route == "/readyz" || route == "/metrics" {
			level = slog.LevelDebug
		}
		attrs := append([]any{"request_id", id, "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "duration", time.Since(start).String()}, ci.attrs...)
		ci.mu.Unlock()
		s.log.Log(r.Context(), level, "http call", attrs...)
	})
}

// routeOf bounds the label values of the HTTP metric: Connect procedures
// are kept, anything unknown is "other".
func routeOf(path string) string {
	switch {
	case path == "/healthz", path == "/readyz", path == "/metrics", path == WebhookPath:
		return path
	case strings.HasPrefix(path, "/tfpilot.v1."), strings.HasPrefix(path, "/grpc."):
		return "connect"
	}
	return "other"
}

// metrics are the Prometheus collectors of one server.
type metrics struct {
	registry     *prometheus.Registry
	httpRequests *prometheus.CounterVec
	rpcs         *prometheus.CounterVec
	rpcSeconds   *prometheus.HistogramVec
	watchers     prometheus.Gauge
	watchSends   prometheus.Counter
	// Domain metrics (metrics_domain.go).
	deliveries    *prometheus.CounterVec
	lockConflicts *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tfpilot_http_requests_total", Help: "HTTP requests by route class and status code.",
		}, []string{"route", "code"}),
		rpcs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tfpilot_rpc_requests_total", Help: "Connect calls of the tfpilot services by procedure and code.",
		}, []string{"procedure", "code"}),
		rpcSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tfpilot_rpc_duration_seconds", Help: "Duration of unary Connect calls of the tfpilot services.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
		}, []string{"procedure"}),
		watchers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tfpilot_watch_streams", Help: "Watch streams open now.",
		}),
		watchSends: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tfpilot_watch_messages_total", Help: "Messages sent on Watch streams.",
		}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tfpilot_webhook_deliveries_total", Help: "GitHub webhook deliveries by outcome.",
		}, []string{"outcome"}),
		lockConflicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tfpilot_lock_conflicts_total", Help: "Calls refused (aborted) because another operation held the request's lock, by procedure.",
		}, []string{"procedure"}),
	}
	for _, o := range []string{deliveryHandled, deliveryNotAttached, deliveryIgnored, deliveryDuplicate, deliveryPing,
		deliveryBadSignature, deliveryRejected, deliveryBusy, deliveryFailed} {
		m.deliveries.WithLabelValues(o) // every outcome shows, at 0 until it happens
	}
	m.registry.MustRegister(m.deliveries, m.lockConflicts)
	m.registry.MustRegister(m.httpRequests, m.rpcs, m.rpcSeconds, m.watchers, m.watchSends,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// codeLabel is the metric label of a call's outcome.
func codeLabel(err error) string {
	if err == nil {
		return "ok"
	}
	return connect.CodeOf(err).String()
}

// observeInterceptor counts and times calls, bounds unary calls by
// Options.UnaryTimeout, and adds the procedure and the outcome to the
// access log.
type observeInterceptor struct {
	s *Server
}

func (o observeInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		proc := req.Spec().Procedure
		setLogAttr(ctx, "procedure", proc)
		start := time.Now()
		ctx, cancel := context.WithTimeout(ctx, o.s.opts.UnaryTimeout)
		defer cancel()
		res, err := next(ctx, req)
		markRead(ctx, req.Spec(), err)
		o.s.countLockConflict(ctx, proc)
		o.s.metrics.rpcs.WithLabelValues(proc, codeLabel(err)).Inc()
		o.s.metrics.rpcSeconds.WithLabelValues(proc).Observe(time.Since(start).Seconds())
		if err != nil {
			setLogAttr(ctx, "code", codeLabel(err))
		}
		return res, err
	}
}

func (o observeInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (o observeInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		proc := conn.Spec().Procedure
		setLogAttr(ctx, "procedure", proc)
		err := next(ctx, conn)
		markRead(ctx, conn.Spec(), err)
		o.s.countLockConflict(ctx, proc)
		o.s.metrics.rpcs.WithLabelValues(proc, codeLabel(err)).Inc()
		if err != nil {
			setLogAttr(ctx, "code", codeLabel(err))
		}
		return err
	}
}
