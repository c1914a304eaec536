package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"go.opentelemetry.io/otel/trace"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/gen/tfpilot/v1/tfpilotv1connect"
)

// WebhookPath is where the GitHub webhook endpoint is mounted.
const WebhookPath = "/webhooks/github"

// ErrInvalidOptions is wrapped by [New]'s errors.
var ErrInvalidOptions = errors.New("server: invalid options")

// Options configures a [Server]. Zero fields take the documented
// defaults.
type Options struct {
	// Pilot is the engine. Required.
	Pilot *tfpilot.Pilot
	// Hub publishes request changes to Watch streams; the engine's store
	// must be wrapped with [Notify] on the same hub. Required.
	Hub *Hub
	// Tokens authenticates callers. Required.
	Tokens *Tokens
	// Webhook, when set, is mounted at [WebhookPath] for POST (see the
	// webhook package). It does its own body limit and signature check.
	Webhook http.Handler
	// Ready reports whether the server can serve (e.g. a store ping);
	// /readyz answers 503 while it fails. Default: always ready.
	Ready func(context.Context) error
	// Logger receives JSON-friendly structured logs. Default: discard.
	Logger *slog.Logger
	// WatchPoll is how often a Watch stream re-reads its request when no
	// change was published in this process (writes by other processes).
	// Default 15 s.
	WatchPoll time.Duration
	// UnaryTimeout bounds a unary call. Default 60 s.
	UnaryTimeout time.Duration
	// MaxBodyBytes bounds an RPC request body. Default 1 MiB. A larger
	// declared Content-Length is answered 413 before the body is read; a
	// Connect unary body without one (chunked) is answered 413 once it
	// grows past the limit.
	MaxBodyBytes int64
	// WebhookMaxBodyBytes bounds a webhook delivery's body. Default 5 MiB
	// (tfpilot's events are far smaller; GitHub's cap is 25 MB).
	WebhookMaxBodyBytes int64
	// WebhookMaxInFlight bounds the webhook deliveries whose bodies are
	// being read and verified at once; more are answered 503 at once.
	// Memory held by unauthenticated webhook bodies is at most
	// WebhookMaxInFlight × WebhookMaxBodyBytes. Default 8.
	WebhookMaxInFlight int
	// MaxWatchStreamsPerPrincipal and MaxWatchStreams bound the open
	// Watch streams of one principal and in total; more are refused with
	// resource_exhausted. Defaults 16 and 1024.
	MaxWatchStreamsPerPrincipal int
	MaxWatchStreams             int
	// MaxWatchLifetime ends a Watch stream after this long; clients
	// reconnect. Default 30 minutes.
	MaxWatchLifetime time.Duration
	// TracerProvider makes a span per RPC and per webhook delivery
	// (tracing.go); give the engine's store ([tfpilot.TraceStore]) and
	// GitHub client (githubx.Options.TracerProvider) the same provider so
	// that their spans nest under these. Default: no tracing.
	TracerProvider trace.TracerProvider
}

// Server serves the tfpilot.v1 API. Create it with [New] and mount
// [Server.Handler].
type Server struct {
	opts     Options
	log      *slog.Logger
	metrics  *metrics
	handler  http.Handler
	draining atomic.Bool
}

// Services lists the fully-qualified names of the services the server
// implements, as health and reflection report them.
var Services = []string{tfpilotv1connect.RequestServiceName, tfpilotv1connect.InsightsServiceName, tfpilotv1connect.CatalogServiceName}

// New checks opts and builds the server's handler.
func New(opts Options) (*Server, error) {
	switch {
	case opts.Pilot == nil:
		return nil, fmt.Errorf("%w: Pilot is required", ErrInvalidOptions)
	case opts.Hub == nil:
		return nil, fmt.Errorf("%w: Hub is required", ErrInvalidOptions)
	case opts.Tokens == nil:
		return nil, fmt.Errorf("%w: Tokens is required", ErrInvalidOptions)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if opts.WatchPoll <= 0 {
		opts.WatchPoll = 15 * time.Second
	}
	if opts.UnaryTimeout <= 0 {
		opts.UnaryTimeout = 60 * time.Second
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.WebhookMaxBodyBytes <= 0 {
		opts.WebhookMaxBodyBytes = 5 << 20
	}
	if opts.WebhookMaxInFlight <= 0 {
		opts.WebhookMaxInFlight = 8
	}
	if opts.MaxWatchStreamsPerPrincipal <= 0 {
		opts.MaxWatchStreamsPerPrincipal = 16
	}
	if opts.MaxWatchStreams <= 0 {
		opts.MaxWatchStreams = 1024
	}
	if opts.MaxWatchLifetime <= 0 {
		opts.MaxWatchLifetime = 30 * time.Minute
	}
	s := &Server{opts: opts, log: opts.Logger, metrics: newMetrics()}

	tracing, err := s.traceInterceptor() // tracing.go
	if err != nil {
		return nil, fmt.Errorf("%w: tracing: %v", ErrInvalidOptions, err)
	}
	apiOpts := []connect.HandlerOption{
		connect.WithInterceptors(tracing, observeInterceptor{s}, authInterceptor{opts.Tokens}, subjectInterceptor{}),
		connect.WithReadMaxBytes(int(opts.MaxBodyBytes)),
	}
	for _, c := range jsonCodecs {
		apiOpts = append(apiOpts, connect.WithCodec(c))
	}
	mux := http.NewServeMux()
	// Authenticate before reading: the API's bodies are read only after
	// the bearer token is accepted.
	gate := authFirst{tokens: opts.Tokens, maxBody: opts.MaxBodyBytes, errs: connect.NewErrorWriter(apiOpts...),
		watches: newWatchLimits(opts.MaxWatchStreamsPerPrincipal, opts.MaxWatchStreams, opts.MaxWatchLifetime)}
	path, h := tfpilotv1connect.NewRequestServiceHandler(&requestService{
		pilot: opts.Pilot, hub: opts.Hub, log: s.log, poll: opts.WatchPoll, metrics: s.metrics}, apiOpts...)
	mux.Handle(path, gate.wrap(h))
	path, h = tfpilotv1connect.NewInsightsServiceHandler(&insightsService{pilot: opts.Pilot, log: s.log}, apiOpts...)
	mux.Handle(path, gate.wrap(h))
	path, h = tfpilotv1connect.NewCatalogServiceHandler(&catalogService{pilot: opts.Pilot, log: s.log}, apiOpts...)
	mux.Handle(path, gate.wrap(h))
	mux.Handle(grpchealth.NewHandler(healthChecker{s})) // health.go: follows readiness and drain
	reflector := grpcreflect.NewStaticReflector(append([]string{grpchealth.HealthV1ServiceName,
		grpcreflect.ReflectV1ServiceName, grpcreflect.ReflectV1AlphaServiceName}, Services...)...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	s.metrics.registry.MustRegister(&requestsCollector{s: s}) // metrics_domain.go
	mux.Handle("GET /metrics", s.metrics.handler())
	if opts.Webhook != nil {
		mux.Handle("POST "+WebhookPath, s.countDeliveries(s.traceWebhook(newWebhookGate(opts.Webhook, opts.WebhookMaxBodyBytes, opts.WebhookMaxInFlight))))
	}
	s.handler = s.observe(mux)
	return s, nil
}

// Handler returns the server's HTTP handler: the Connect services, health,
// reflection, /healthz, /readyz, /metrics and the webhook endpoint. Serve
// it over HTTP/2 (h2c) as well as HTTP/1.1 for gRPC clients.
func (s *Server) Handler() http.Handler { return s.handler }

// Drain makes /readyz answer 503 and ends every Watch stream, so that a
// load balancer stops sending calls and http.Server.Shutdown does not
// wait on streams. Call it when shutdown begins.
func (s *Server) Drain() {
	s.draining.Store(true)
	s.opts.Hub.Close()
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.readiness(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		if errors.Is(err, errDraining) {
			io.WriteString(w, "draining\n")
			return
		}
		s.log.WarnContext(r.Context(), "not ready", "request_id", RequestID(r.Context()), "err", err)
		io.WriteString(w, "not ready\n")
		return
	}
	io.WriteString(w, "ok\n")
}
