package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/examples/connect-server/server"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/reconcile"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -h: the usage went to stdout
		}
		fmt.Fprintln(os.Stderr, "tfpilot-server:", err)
		os.Exit(1)
	}
}

// options are the command line, each flag defaulting to an environment
// variable.
type options struct {
	listen       string
	config       string
	store        string
	postgresDSN  string
	s3           s3Options
	githubURL    string
	githubToken  string
	appID        int64
	appInstall   int64
	appKeyFile   string
	hookSecret   string
	tokensFile   string
	reconcile    time.Duration
	watchPoll    time.Duration
	logLevel     string
	autopilot    bool
	shutdownWait time.Duration
	cooldown     time.Duration
	grace        time.Duration
	lockTTL      time.Duration
	check        bool
	// demoFlag is --demo; storeSet says whether a store was chosen.
	demoFlag bool
	storeSet bool
	// githubHTTP allows a plain-http --github-url (a local fake).
	githubHTTP bool
	// tracer is the tracer provider of the OTEL_* environment (tracing.go);
	// nil when tracing is off.
	tracer trace.TracerProvider
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envInt(name string) int64 {
	n, _ := strconv.ParseInt(os.Getenv(name), 10, 64)
	return n
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

// parseFlags parses the command line. -h and --help print the usage to
// stdout and return [flag.ErrHelp]; a bad flag prints it to stderr.
func parseFlags(args []string, stdout, stderr io.Writer) (options, error) {
	var o options
	fs := newFlagSet(&o)
	if err := parseOrUsage(fs, args, stdout, stderr); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.storeSet = o.store != ""
	if !o.storeSet {
		o.store = "memory"
	}
	return o, o.checkMode()
}

// parseOrUsage parses args into fs, writing the usage to stdout when
// help is asked for and to stderr after a bad flag.
func parseOrUsage(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if err == nil {
		return nil
	}
	out := stderr
	if errors.Is(err, flag.ErrHelp) {
		out = stdout
	}
	fs.SetOutput(out)
	fmt.Fprintf(out, "Usage of %s:\n", fs.Name())
	fs.PrintDefaults()
	return err
}

// newFlagSet defines every flag into o. Each flag's default comes from
// the environment variable its usage names in parentheses.
func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("tfpilot-server", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", env("TFPILOT_LISTEN", "127.0.0.1:8080"), "listen address (TFPILOT_LISTEN)")
	fs.StringVar(&o.config, "config", env("TFPILOT_CONFIG", ""), "JSON file with targets, modules, policy and authorizer (TFPILOT_CONFIG); default: the built-in demo configuration")
	fs.StringVar(&o.store, "store", env("TFPILOT_STORE", ""), "store backend: memory, postgres or s3 (TFPILOT_STORE); default memory")
	fs.StringVar(&o.postgresDSN, "postgres-dsn", env("TFPILOT_POSTGRES_DSN", ""), "PostgreSQL DSN for --store postgres; migrations are applied at start (TFPILOT_POSTGRES_DSN)")
	fs.StringVar(&o.s3.bucket, "s3-bucket", env("TFPILOT_S3_BUCKET", ""), "bucket for --store s3 (TFPILOT_S3_BUCKET)")
	fs.StringVar(&o.s3.prefix, "s3-prefix", env("TFPILOT_S3_PREFIX", ""), "key prefix for --store s3 (TFPILOT_S3_PREFIX)")
	fs.StringVar(&o.s3.endpoint, "s3-endpoint", env("TFPILOT_S3_ENDPOINT", ""), "S3 endpoint URL, path-style, for S3-compatible servers (TFPILOT_S3_ENDPOINT)")
	fs.StringVar(&o.s3.region, "s3-region", env("TFPILOT_S3_REGION", env("AWS_REGION", "us-east-1")), "S3 region (TFPILOT_S3_REGION, AWS_REGION)")
	fs.StringVar(&o.githubURL, "github-url", env("TFPILOT_GITHUB_URL", ""), "GitHub REST API root; default https://api.github.com/ (TFPILOT_GITHUB_URL)")
	fs.BoolVar(&o.githubHTTP, "github-insecure-http", env("TFPILOT_GITHUB_INSECURE_HTTP", "") == "true", "allow a plain-http --github-url, for a local fake; the token is sent unencrypted (TFPILOT_GITHUB_INSECURE_HTTP)")
	fs.StringVar(&o.githubToken, "github-token", env("TFPILOT_GITHUB_TOKEN", env("GITHUB_TOKEN", "")), "GitHub token (TFPILOT_GITHUB_TOKEN, GITHUB_TOKEN)")
	fs.Int64Var(&o.appID, "github-app-id", envInt("TFPILOT_GITHUB_APP_ID"), "GitHub App id (TFPILOT_GITHUB_APP_ID)")
	fs.Int64Var(&o.appInstall, "github-app-installation-id", envInt("TFPILOT_GITHUB_APP_INSTALLATION_ID"), "GitHub App installation id (TFPILOT_GITHUB_APP_INSTALLATION_ID)")
	fs.StringVar(&o.appKeyFile, "github-app-key-file", env("TFPILOT_GITHUB_APP_KEY_FILE", ""), "GitHub App private key PEM file (TFPILOT_GITHUB_APP_KEY_FILE)")
	fs.StringVar(&o.hookSecret, "webhook-secret", env("TFPILOT_WEBHOOK_SECRET", ""), "GitHub webhook secret, or several comma-separated while rotating; enables "+server.WebhookPath+" (TFPILOT_WEBHOOK_SECRET)")
	fs.StringVar(&o.tokensFile, "tokens-file", env("TFPILOT_TOKENS_FILE", ""), `JSON file {"tokens":[{"login":..,"roles":[..],"token":..}]} (TFPILOT_TOKENS_FILE); TFPILOT_TOKENS="login:role[+role]:token,..." adds more`)
	fs.DurationVar(&o.reconcile, "reconcile-interval", envDuration("TFPILOT_RECONCILE_INTERVAL", 0), "how often requests waiting on GitHub are synced (TFPILOT_RECONCILE_INTERVAL); default 30s, 2s in the demo")
	fs.DurationVar(&o.watchPoll, "watch-poll", envDuration("TFPILOT_WATCH_POLL", 15*time.Second), "how often a Watch stream re-reads its request for writes by other processes (TFPILOT_WATCH_POLL)")
	fs.StringVar(&o.logLevel, "log-level", env("TFPILOT_LOG_LEVEL", "info"), "debug, info, warn or error (TFPILOT_LOG_LEVEL)")
	fs.BoolVar(&o.demoFlag, "demo", env("TFPILOT_DEMO", "") == "true", "run the demo: a simulated GitHub, a generated admin token and the autopilot (TFPILOT_DEMO); implied only when no store and no GitHub settings are given")
	fs.BoolVar(&o.autopilot, "demo-autopilot", env("TFPILOT_DEMO_AUTOPILOT", "true") == "true", "in the demo, approve, merge and apply every successful plan as demo-autopilot (TFPILOT_DEMO_AUTOPILOT)")
	fs.DurationVar(&o.shutdownWait, "shutdown-timeout", envDuration("TFPILOT_SHUTDOWN_TIMEOUT", 20*time.Second), "how long a graceful shutdown waits for calls in flight (TFPILOT_SHUTDOWN_TIMEOUT)")
	fs.DurationVar(&o.cooldown, "reconcile-cooldown", envDuration("TFPILOT_RECONCILE_COOLDOWN", 0), "how long Sync leaves a run alone after a reconcile that changed nothing (TFPILOT_RECONCILE_COOLDOWN); default 60s, 1s in the demo")
	fs.DurationVar(&o.grace, "dispatch-grace", envDuration("TFPILOT_DISPATCH_GRACE", 0), "how long an attempt may lack a run before Sync dispatches it again (TFPILOT_DISPATCH_GRACE); default 2m")
	fs.DurationVar(&o.lockTTL, "lock-ttl", envDuration("TFPILOT_LOCK_TTL", 0), "lifetime of a request lock (TFPILOT_LOCK_TTL); default 2m")
	fs.BoolVar(&o.check, "check", env("TFPILOT_CHECK", "") == "true", "check that every target's repository, base branch and workflows are ready for tfpilot (check.go), print each problem, and exit (TFPILOT_CHECK)")
	return fs
}

// gitHubSet reports whether any GitHub setting was given.
func (o options) gitHubSet() bool {
	return o.githubToken != "" || o.appID != 0 || o.appInstall != 0 || o.appKeyFile != "" || o.githubURL != ""
}

// demo reports whether the server runs the demo: asked for with --demo,
// or implied when neither a store nor any GitHub setting is given (the
// one-command demo).
func (o options) demo() bool { return o.demoFlag || !o.storeSet && !o.gitHubSet() }

// checkMode refuses the combinations that would run the demo, or no
// GitHub at all, where real data is: the demo's simulated GitHub and its
// autopilot (which approves as demo-autopilot) only ever run on purpose.
func (o options) checkMode() error {
	switch {
	case o.demoFlag && o.gitHubSet():
		return errors.New("--demo runs against a simulated GitHub: remove the GitHub settings (--github-token, --github-app-*, --github-url), or drop --demo")
	case o.demo():
		return nil
	case o.githubToken == "" && o.appID == 0:
		return fmt.Errorf("no GitHub credentials: --store %s needs --github-token (or GITHUB_TOKEN) or a GitHub App "+
			"(--github-app-id, --github-app-installation-id, --github-app-key-file); the server does not fall back to the demo. "+
			"To run the demo on purpose, pass --demo", o.store)
	}
	return nil
}

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l, ReplaceAttr: readableDurations})), nil
}

// readableDurations logs a time.Duration as its String ("1.5s"), not as
// the JSON handler's integer nanoseconds.
func readableDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

// run starts the server and serves until ctx is cancelled, then shuts
// down gracefully. With no GitHub credentials it runs the demo.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stdout, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(o.logLevel, stderr)
	if err != nil {
		return err
	}
	fc, err := loadConfig(o.config)
	if err != nil {
		return err
	}
	cfg, err := fc.engineConfig()
	if err != nil {
		return err
	}
	cfg.Logger = log
	if o.check {
		if o.demo() {
			return errors.New("--check needs GitHub credentials (a token or a GitHub App)")
		}
		gh, err := newGitHub(o, log)
		if err != nil {
			return err
		}
		return runCheck(ctx, fc, gh, stdout)
	}

	tp, shutdownTracing, err := setupTracing(ctx)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shutdownTracing(sctx); err != nil {
			log.Warn("tracing: flush spans at exit", "err", err)
		}
	}()
	o.tracer = tp

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	baseURL := "http://" + ln.Addr().String()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	base, ready, closeStore, err := openStore(ctx, o, log)
	if err != nil {
		return err
	}
	defer closeStore()
	hub := server.NewHub()
	traced := base
	if tp != nil {
		traced = tfpilot.TraceStore(base, tp)
	}
	store := server.Notify(traced, hub)

	var (
		gh   *githubx.Client
		demo *demoEnv
	)
	tokenList, err := loadTokens(o)
	if err != nil {
		return err
	}
	if !o.demo() {
		if gh, err = newGitHub(o, log); err != nil {
			return err
		}
	} else if o.hookSecret == "" {
		o.hookSecret = strings.ToLower(rand.Text())
	}
	if o.demo() {
		if err := checkDemoStore(ctx, base, o.store); err != nil {
			return err
		}
		if demo, err = startDemo(baseURL, o.hookSecret, tp); err != nil {
			return err
		}
		defer demo.Close()
		gh = demo.gh
		tokenList = append(tokenList, demo.tokens...)
		cfg.ReconcileCooldown = time.Second // the fake's runs take seconds
		if o.reconcile == 0 {
			o.reconcile = 2 * time.Second
		}
	}
	if o.reconcile == 0 {
		o.reconcile = 30 * time.Second
	}
	if o.cooldown > 0 {
		cfg.ReconcileCooldown = o.cooldown
	}
	cfg.DispatchGrace, cfg.LockTTL = o.grace, o.lockTTL
	if o.hookSecret == "" {
		log.Warn("no webhook secret: requests move on only when the reconciler syncs them", "interval", o.reconcile.String())
	}
	if len(tokenList) == 0 {
		return errors.New("no API tokens: set --tokens-file or TFPILOT_TOKENS")
	}
	tokens, err := server.NewTokens(tokenList)
	if err != nil {
		return err
	}
	withTokenRoles(cfg.Reviewers, tokenList)
	pilot, err := tfpilot.New(store, gh, cfg)
	if err != nil {
		return err
	}
	// The webhook endpoint: signed deliveries, claimed once in the store,
	// applied by the engine's WebhookSink. Several comma-separated
	// secrets are accepted while one is rotated.
	var hook http.Handler
	if o.hookSecret != "" {
		h, err := pilot.WebhookHandler(strings.Split(o.hookSecret, ",")...)
		if err != nil {
			return fmt.Errorf("--webhook-secret: %w", err)
		}
		hook = h
	}
	srv, err := server.New(server.Options{Pilot: pilot, Hub: hub, Tokens: tokens, Webhook: hook,
		Ready: ready, Logger: log, WatchPoll: o.watchPoll, TracerProvider: tp})
	if err != nil {
		return err
	}

	httpSrv := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true) // gRPC clients without TLS
	httpSrv.Protocols = &protocols

	// One reconciler per deployment: every replica runs one, and they
	// elect a leader through the (unwrapped) store's lease.
	rec := &reconcile.Reconciler{Pilot: pilot, Store: base, Interval: o.reconcile, Logger: log}
	if err := srv.WatchReconciler(rec); err != nil {
		return err
	}
	if err := srv.WatchGitHub(gh); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := rec.Run(ctx); err != nil {
			log.Error("reconciler not started", "err", err)
		}
	}()
	if demo != nil && o.autopilot {
		ap := &autopilot{pilot: pilot, hub: hub, log: log}
		apDone := make(chan struct{})
		go func() { defer close(apDone); ap.run(ctx) }()
		defer func() { <-apDone }()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	log.Info("tfpilot server listening", "addr", baseURL, "store", o.store, "demo", demo != nil, "webhook", hook != nil)
	if demo != nil {
		printDemoBanner(stdout, baseURL, demo, o.autopilot, hook != nil)
	} else {
		fmt.Fprintf(stdout, "tfpilot server listening on %s\n", baseURL)
	}

	select {
	case err := <-serveErr:
		cancel()
		<-done
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	srv.Drain()
	sctx, scancel := context.WithTimeout(context.Background(), o.shutdownWait)
	defer scancel()
	err = httpSrv.Shutdown(sctx)
	cancel()
	<-done
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func loadTokens(o options) ([]server.Token, error) {
	var out []server.Token
	if o.tokensFile != "" {
		ts, err := server.LoadTokenFile(o.tokensFile)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	if s := os.Getenv("TFPILOT_TOKENS"); s != "" {
		ts, err := server.ParseTokenList(s)
		if err != nil {
			return nil, fmt.Errorf("TFPILOT_TOKENS: %w", err)
		}
		out = append(out, ts...)
	}
	return out, nil
}

func newGitHub(o options, log *slog.Logger) (*githubx.Client, error) {
	opts := githubx.Options{BaseURL: o.githubURL, Token: o.githubToken, Logger: log, AllowInsecureHTTP: o.githubHTTP,
		TracerProvider: o.tracer}
	if o.appID != 0 {
		if o.githubToken != "" {
			return nil, errors.New("set a GitHub token or a GitHub App, not both")
		}
		pem, err := os.ReadFile(o.appKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--github-app-key-file: %w", err)
		}
		key, err := githubx.ParsePrivateKey(pem)
		if err != nil {
			return nil, fmt.Errorf("--github-app-key-file: %w", err)
		}
		opts.App = &githubx.AppAuth{AppID: o.appID, InstallationID: o.appInstall, PrivateKey: key}
	}
	if !strings.HasPrefix(o.githubURL, "http") && o.githubURL != "" {
		return nil, fmt.Errorf("--github-url %q: want an http(s) URL", o.githubURL)
	}
	return githubx.New(opts)
}
