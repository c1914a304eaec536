package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "fake-github:", err)
		os.Exit(1)
	}
}

// options are the command line; each flag defaults to an environment
// variable.
type options struct {
	listen        string
	publicURL     string
	config        string
	repos         []string
	targets       []string
	secret        string
	tokens        []string
	auto          bool
	queueDelay    time.Duration
	runDelay      time.Duration
	listLag       time.Duration
	hookTimeout   time.Duration
	rateLimit     int
	shutdownDelay time.Duration
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// listFlag is a repeatable flag that also splits on commas.
type listFlag struct{ v *[]string }

func (l listFlag) String() string {
	if l.v == nil {
		return ""
	}
	return strings.Join(*l.v, ",")
}

func (l listFlag) Set(s string) error {
	*l.v = append(*l.v, splitList(s)...)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseFlags(args []string, stdout, stderr io.Writer) (options, error) {
	o := options{
		repos:   splitList(os.Getenv("FAKE_GITHUB_REPOS")),
		targets: splitList(os.Getenv("FAKE_GITHUB_WEBHOOK_TARGETS")),
		tokens:  splitList(os.Getenv("FAKE_GITHUB_TOKENS")),
	}
	fs := flag.NewFlagSet("fake-github", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", env("FAKE_GITHUB_LISTEN", "127.0.0.1:8090"), "listen address (FAKE_GITHUB_LISTEN)")
	fs.StringVar(&o.publicURL, "public-url", env("FAKE_GITHUB_PUBLIC_URL", ""), "base URL other machines reach the fake at, used in the links inside answers (object URLs, log downloads); default: a loopback listener of the fake's own, reachable only on this machine (FAKE_GITHUB_PUBLIC_URL)")
	fs.StringVar(&o.config, "config", env("FAKE_GITHUB_CONFIG", ""), `JSON file: the reference server's config (its "targets" make the repositories) and/or {"repos":[{"owner":..,"name":..,"files":{..}}]} (FAKE_GITHUB_CONFIG)`)
	fs.Var(listFlag{&o.repos}, "repo", "owner/name of a repository to create, repeatable or comma-separated (FAKE_GITHUB_REPOS); default acme/infra when no config names one")
	fs.Var(listFlag{&o.targets}, "webhook-target", "URL every webhook delivery is posted to, repeatable or comma-separated: every target gets every delivery (FAKE_GITHUB_WEBHOOK_TARGETS)")
	fs.StringVar(&o.secret, "webhook-secret", env("FAKE_GITHUB_WEBHOOK_SECRET", ""), "secret signing deliveries in X-Hub-Signature-256 (FAKE_GITHUB_WEBHOOK_SECRET)")
	fs.Var(listFlag{&o.tokens}, "token", "token the API accepts, repeatable or comma-separated; none: any non-empty token (FAKE_GITHUB_TOKENS)")
	fs.BoolVar(&o.auto, "auto", env("FAKE_GITHUB_AUTO", "true") == "true", "runs complete on their own after --queue-delay and --run-delay (FAKE_GITHUB_AUTO)")
	fs.DurationVar(&o.queueDelay, "queue-delay", envDuration("FAKE_GITHUB_QUEUE_DELAY", time.Second), "how long a run stays queued in auto mode (FAKE_GITHUB_QUEUE_DELAY)")
	fs.DurationVar(&o.runDelay, "run-delay", envDuration("FAKE_GITHUB_RUN_DELAY", 3*time.Second), "how long a run stays in_progress in auto mode (FAKE_GITHUB_RUN_DELAY)")
	fs.DurationVar(&o.listLag, "runs-list-lag", envDuration("FAKE_GITHUB_RUNS_LIST_LAG", 0), "how long a new run stays out of the run lists, as GitHub's lists trail a dispatch (FAKE_GITHUB_RUNS_LIST_LAG)")
	fs.DurationVar(&o.hookTimeout, "webhook-timeout", envDuration("FAKE_GITHUB_WEBHOOK_TIMEOUT", 10*time.Second), "how long a delivery post may take, as GitHub's 10 s (FAKE_GITHUB_WEBHOOK_TIMEOUT)")
	fs.DurationVar(&o.shutdownDelay, "shutdown-timeout", envDuration("FAKE_GITHUB_SHUTDOWN_TIMEOUT", 5*time.Second), "how long a graceful shutdown waits (FAKE_GITHUB_SHUTDOWN_TIMEOUT)")
	fs.IntVar(&o.rateLimit, "rate-limit", envInt("FAKE_GITHUB_RATE_LIMIT", 5000), "rate-limit units per hour, GitHub's 5000 for a token (FAKE_GITHUB_RATE_LIMIT)")
	// -h and --help print the usage to stdout (and main exits 0); a bad
	// flag prints it to stderr.
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		out := stderr
		if errors.Is(err, flag.ErrHelp) {
			out = stdout
		}
		fs.SetOutput(out)
		fmt.Fprintf(out, "Usage of %s:\n", fs.Name())
		fs.PrintDefaults()
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.publicURL != "" {
		if u, err := url.Parse(o.publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return o, fmt.Errorf("--public-url %q: want an http(s) URL", o.publicURL)
		}
	}
	for _, t := range o.targets {
		if !strings.HasPrefix(t, "http://") && !strings.HasPrefix(t, "https://") {
			return o, fmt.Errorf("--webhook-target %q: want an http(s) URL", t)
		}
	}
	return o, nil
}

// repoSpec is a repository to create.
type repoSpec struct {
	Owner string            `json:"owner"`
	Name  string            `json:"name"`
	Files map[string]string `json:"files"`
}

type repoRef struct{ owner, name string }

// fileConfig is what the fake reads from --config: the reference
// server's targets (each names an owner, a repo and an env folder), and
// repositories spelled out.
type fileConfig struct {
	Targets map[string]struct {
		Owner   string `json:"owner"`
		Repo    string `json:"repo"`
		EnvPath string `json:"envPath"`
	} `json:"targets"`
	Repos []repoSpec `json:"repos"`
}

const stubMainTF = "terraform {\n  required_version = \">= 1.5\"\n}\n"

// repoSpecs merges the config file and --repo into the repositories to
// create; each gets a README and a main.tf in every env folder a target
// names.
func repoSpecs(o options) ([]repoSpec, error) {
	byName := map[string]*repoSpec{}
	var order []string
	add := func(owner, name string) *repoSpec {
		key := owner + "/" + name
		if s, ok := byName[key]; ok {
			return s
		}
		s := &repoSpec{Owner: owner, Name: name, Files: map[string]string{"README.md": "# " + key + "\n"}}
		byName[key] = s
		order = append(order, key)
		return s
	}
	if o.config != "" {
		b, err := os.ReadFile(o.config)
		if err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
		var c fileConfig
		if err := json.NewDecoder(bytes.NewReader(b)).Decode(&c); err != nil {
			return nil, fmt.Errorf("--config %s: %w", o.config, err)
		}
		keys := make([]string, 0, len(c.Targets))
		for k := range c.Targets {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t := c.Targets[k]
			if t.Owner == "" || t.Repo == "" {
				return nil, fmt.Errorf("--config %s: target %q names no owner and repo", o.config, k)
			}
			s := add(t.Owner, t.Repo)
			if t.EnvPath != "" {
				s.Files[path.Join(t.EnvPath, "main.tf")] = stubMainTF
			}
		}
		for _, r := range c.Repos {
			if r.Owner == "" || r.Name == "" {
				return nil, fmt.Errorf("--config %s: a repo without owner or name", o.config)
			}
			s := add(r.Owner, r.Name)
			for p, content := range r.Files {
				s.Files[p] = content
			}
		}
	}
	for _, r := range o.repos {
		owner, name, ok := strings.Cut(r, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return nil, fmt.Errorf("--repo %q: want owner/name", r)
		}
		add(owner, name)
	}
	if len(order) == 0 {
		s := add("acme", "infra")
		s.Files["envs/dev/main.tf"] = stubMainTF
		s.Files["envs/prod/main.tf"] = stubMainTF
	}
	out := make([]repoSpec, 0, len(order))
	for _, k := range order {
		out = append(out, *byName[k])
	}
	return out, nil
}

// service is the running fake: the githubtest fake, its webhook fan-out
// and the repositories it holds.
type service struct {
	fake   *githubtest.Fake
	fanout *fanout
	repos  []repoRef
}

func newService(o options) (*service, error) {
	specs, err := repoSpecs(o)
	if err != nil {
		return nil, err
	}
	gopts := githubtest.Options{PublicURL: o.publicURL, WebhookSecret: o.secret, Tokens: o.tokens, RateLimit: o.rateLimit}
	s := &service{}
	if len(o.targets) > 0 {
		s.fanout = newFanout(o.targets, o.hookTimeout)
		// The fake posts to its one URL through the fan-out, which
		// queues the signed delivery for every target.
		gopts.WebhookURL = "http://fanout.invalid/"
		gopts.WebhookClient = &http.Client{Transport: s.fanout}
	}
	if o.auto {
		gopts.Auto = &githubtest.Auto{QueueDelay: o.queueDelay, RunDelay: o.runDelay}
	}
	s.fake = githubtest.New(gopts)
	s.fake.SetRunsListLag(o.listLag)
	for _, spec := range specs {
		if _, err := s.fake.CreateRepo(githubtest.RepoSpec{Owner: spec.Owner, Name: spec.Name, Files: spec.Files}); err != nil {
			s.close()
			return nil, fmt.Errorf("create %s/%s: %w", spec.Owner, spec.Name, err)
		}
		s.repos = append(s.repos, repoRef{spec.Owner, spec.Name})
	}
	return s, nil
}

func (s *service) close() {
	s.fake.Close()
	if s.fanout != nil {
		s.fanout.close()
	}
}

// handler serves the debug API under DebugPrefix and the fake GitHub API
// everywhere else.
func (s *service) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(DebugPrefix, s.debugHandler())
	mux.Handle("/", s.fake.Handler())
	return mux
}

// run serves the fake until ctx is cancelled.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stdout, stderr)
	if err != nil {
		return err
	}
	s, err := newService(o)
	if err != nil {
		return err
	}
	defer s.close()
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	names := make([]string, 0, len(s.repos))
	for _, r := range s.repos {
		names = append(names, r.owner+"/"+r.name)
	}
	fmt.Fprintf(stdout, "fake-github listening on http://%s/ (repositories %s; webhook targets %d; auto %v; runs list lag %v; debug API http://%s%s)\n",
		ln.Addr(), strings.Join(names, ", "), len(o.targets), o.auto, o.listLag, ln.Addr(), DebugPrefix)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownDelay)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
