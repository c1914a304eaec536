package tfpilot

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/hclblocks"
	"github.com/tfpilot/tfpilot/lifecycle"
)

// Config configures a [Pilot]. Zero fields take the documented defaults.
type Config struct {
	// Targets says where each project/environment's Terraform lives.
	// Required.
	Targets Targets
	// Catalog lists the modules users may request. Required.
	Catalog *Catalog
	// Policy checks run on create and update after config validation.
	Policy []PolicyCheck
	// PolicyInfo describes the Policy checks for portals
	// ([Pilot.Policies]). Default: none.
	PolicyInfo []PolicyInfo
	// Authorizer decides who may do what. Default: [RoleAuthorizer] with
	// no lists, under which everyone is a viewer — configure one.
	Authorizer Authorizer
	// Reviewers maps GitHub logins to principals, so that reviews on
	// GitHub can approve (see [ApprovalRules]). A reviewer on no entry
	// approves nothing. Default: none.
	Reviewers map[string]Principal
	// Workflows names the workflow files. Default: the GitHub client's.
	Workflows githubx.Workflows
	// Markers are the hclblocks markers. Default: hclblocks' default.
	Markers hclblocks.Markers
	// BranchPrefix names request branches: BranchPrefix + request id.
	// The engine creates them and [Pilot.WebhookHandler] correlates runs
	// and pull requests by them. Default [DefaultBranchPrefix].
	BranchPrefix string
	// Text writes the commit messages and pull-request titles and bodies.
	// Nil fields default to [DefaultGitHubText]'s.
	Text GitHubText

	// LockTTL is the lifetime of a request lock. Default 2 minutes.
	LockTTL time.Duration
	// IdempotencyWindow is how long an idempotency key replays its first
	// answer. Default 24 hours.
	IdempotencyWindow time.Duration
	// ReconcileCooldown is how long Sync leaves a run alone after a
	// reconcile that changed nothing (INV-REC-1). The cooldown is kept
	// in the store (a RateLimitBackoff per run), so it holds across
	// every process sharing it. Default 60 s.
	ReconcileCooldown time.Duration
	// DispatchGrace is how long an attempt may lack a run id before Sync,
	// having found no run carrying its nonce, dispatches it again.
	// Default 2 minutes. It is raised to at least LockTTL/2 (the longest a
	// workflow_dispatch call, with the client's recovery, may take) plus
	// the client's list-lag window (githubx.Client.ListLag), so that a run
	// a dispatch started is listed before Sync concludes there is none.
	DispatchGrace time.Duration
	// Rules tune status derivation (the stale-destroy threshold). Get,
	// the status filters of List and Insights all derive with them.
	Rules lifecycle.Rules
	// Poll is the client polling policy reported by Get.
	Poll lifecycle.PollPolicy

	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives operational logs. Default: discard.
	Logger *slog.Logger
}

// Pilot is the request lifecycle engine: one method per user action, each
// authorized, locked, idempotent and written with compare-and-swap. It is
// safe for concurrent use, also across processes sharing a [Store].
type Pilot struct {
	store Store
	gh    *githubx.Client
	cfg   Config
	log   *slog.Logger

	targets targetLocks // applygate.go
}

// New returns a Pilot over store and gh.
func New(store Store, gh *githubx.Client, cfg Config) (*Pilot, error) {
	switch {
	case store == nil:
		return nil, fmt.Errorf("tfpilot.New: %w: a Store is required", ErrInvalid)
	case gh == nil:
		return nil, fmt.Errorf("tfpilot.New: %w: a GitHub client is required", ErrInvalid)
	case cfg.Targets == nil:
		return nil, fmt.Errorf("tfpilot.New: %w: Config.Targets is required", ErrInvalid)
	case cfg.Catalog == nil:
		return nil, fmt.Errorf("tfpilot.New: %w: Config.Catalog is required", ErrInvalid)
	}
	if err := cfg.Markers.Validate(); err != nil {
		return nil, fmt.Errorf("tfpilot.New: %w: %v", ErrInvalid, err)
	}
	if cfg.Authorizer == nil {
		cfg.Authorizer = RoleAuthorizer{}
	}
	if cfg.Workflows == (githubx.Workflows{}) {
		cfg.Workflows = gh.Workflows()
	}
	if cfg.BranchPrefix == "" {
		cfg.BranchPrefix = DefaultBranchPrefix
	}
	cfg.Text = cfg.Text.withDefaults()
	if cfg.LockTTL <= 0 {
		cfg.LockTTL = 2 * time.Minute
	}
	if cfg.IdempotencyWindow <= 0 {
		cfg.IdempotencyWindow = 24 * time.Hour
	}
	if cfg.ReconcileCooldown <= 0 {
		cfg.ReconcileCooldown = 60 * time.Second
	}
	if cfg.DispatchGrace <= 0 {
		cfg.DispatchGrace = 2 * time.Minute
	}
	cfg.DispatchGrace = max(cfg.DispatchGrace, cfg.LockTTL/2+gh.ListLag())
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Pilot{store: store, gh: gh, cfg: cfg, log: log}, nil
}

// Caller is who performs an operation, and the idempotency key the call
// carries (empty for none).
type Caller struct {
	Principal      Principal
	IdempotencyKey string
}

func (p *Pilot) now() time.Time { return p.cfg.Now().UTC() }

// newToken returns a random lower-case token of n characters (n <= 26).
func newToken(n int) string { return strings.ToLower(rand.Text()[:n]) }

// background returns a context for clean-up writes that must happen even
// when ctx was cancelled (releasing a lock), bounded in time.
func background(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}
