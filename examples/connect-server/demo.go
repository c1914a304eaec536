package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/examples/connect-server/server"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/lifecycle"
)

// demoEnv is the demo's simulated GitHub and generated credentials.
type demoEnv struct {
	fake       *githubtest.Fake
	gh         *githubx.Client
	tokens     []server.Token
	adminToken string
}

// Close stops the simulated GitHub.
func (d *demoEnv) Close() { d.fake.Close() }

// startDemo starts a simulated GitHub holding acme/infra, whose Actions
// runs complete on their own (queued 1 s, running 3 s) and whose webhooks
// are posted, signed with secret, to this server's webhook endpoint, and
// generates an admin
// token.
func startDemo(baseURL, secret string, tp trace.TracerProvider) (*demoEnv, error) {
	fake := githubtest.New(githubtest.Options{
		Auto:          &githubtest.Auto{QueueDelay: time.Second, RunDelay: 3 * time.Second},
		WebhookURL:    baseURL + server.WebhookPath,
		WebhookSecret: secret,
	})
	_, err := fake.CreateRepo(githubtest.RepoSpec{Owner: "acme", Name: "infra", Files: map[string]string{
		"README.md":         "# acme/infra\n\nTerraform for acme, managed with tfpilot.\n",
		"envs/dev/main.tf":  "terraform {\n  required_version = \">= 1.5\"\n}\n",
		"envs/prod/main.tf": "terraform {\n  required_version = \">= 1.5\"\n}\n",
	}})
	if err != nil {
		fake.Close()
		return nil, err
	}
	gh, err := githubx.New(githubx.Options{BaseURL: fake.URL(), AllowInsecureHTTP: true, Token: "demo-github-token",
		TracerProvider: tp})
	if err != nil {
		fake.Close()
		return nil, err
	}
	admin := "tfp_" + strings.ToLower(rand.Text())
	return &demoEnv{
		fake: fake, gh: gh, adminToken: admin,
		tokens: []server.Token{{Login: "demo-admin", Roles: []tfpilot.Role{tfpilot.RoleAdmin}, Token: admin}},
	}, nil
}

// autopilot plays the approver in the demo: it approves every request
// whose plan succeeded, merges every approved one and applies every
// merged one, through the engine as "demo-autopilot".
//
// A step GitHub or the engine refuses (a gate, a lock, a refused merge,
// a rate limit) is not retried at once: that request backs off,
// exponentially with jitter from backoffMin up to backoffMax, and a
// success clears its backoff. Other requests are not held up.
type autopilot struct {
	pilot *tfpilot.Pilot
	hub   *server.Hub
	log   *slog.Logger

	// backoff is per request id; only run's goroutine touches it.
	backoff map[string]retryState
	now     func() time.Time
}

// retryState is one request's backoff.
type retryState struct {
	failures int
	next     time.Time
}

const (
	backoffMin = 500 * time.Millisecond
	backoffMax = 30 * time.Second
)

// delay is the wait after the n-th consecutive failure (n >= 1): backoffMin
// doubled n-1 times, capped at backoffMax, times a random factor in
// [0.5, 1.5) so that requests refused together do not retry together.
func delay(n int, random float64) time.Duration {
	d := backoffMin
	for i := 1; i < n && d < backoffMax; i++ {
		d *= 2
	}
	d = min(d, backoffMax)
	return time.Duration(float64(d) * (0.5 + random))
}

// failed records a refused step of request id.
func (a *autopilot) failed(id string, now time.Time) {
	st := a.backoff[id]
	st.failures++
	st.next = now.Add(delay(st.failures, mrand.Float64()))
	a.backoff[id] = st
}

var autopilotPrincipal = tfpilot.Principal{Login: "demo-autopilot", Roles: []tfpilot.Role{tfpilot.RoleApprover}}

// run acts after every change the hub reports and every 2 s, until ctx
// is done.
func (a *autopilot) run(ctx context.Context) {
	sub := a.hub.Subscribe("")
	defer sub.Close()
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.C:
		case <-t.C:
		}
		a.step(ctx)
	}
}

func (a *autopilot) step(ctx context.Context) {
	q := tfpilot.ListQuery{Statuses: []lifecycle.Status{lifecycle.PlanReady, lifecycle.Approved, lifecycle.Merged}}
	page, err := a.pilot.List(ctx, autopilotPrincipal, q)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("autopilot: list", "err", err)
		}
		return
	}
	c := tfpilot.Caller{Principal: autopilotPrincipal}
	if a.backoff == nil {
		a.backoff = map[string]retryState{}
	}
	if a.now == nil {
		a.now = time.Now
	}
	now := a.now()
	for _, r := range page.Requests {
		if st, ok := a.backoff[r.ID]; ok && now.Before(st.next) {
			continue
		}
		var (
			act string
			err error
		)
		switch r.Status {
		case lifecycle.PlanReady:
			act = "approve"
			_, err = a.pilot.Approve(ctx, c, r.ID)
		case lifecycle.Approved:
			act = "merge"
			_, err = a.pilot.Merge(ctx, c, r.ID)
		case lifecycle.Merged:
			act = "apply"
			_, err = a.pilot.Apply(ctx, c, r.ID)
		default:
			continue
		}
		switch {
		case err == nil:
			delete(a.backoff, r.ID)
			a.log.Info("autopilot: "+act, "request", r.ID)
		case ctx.Err() != nil:
			return
		case errors.Is(err, tfpilot.ErrLocked), errors.Is(err, tfpilot.ErrPrecondition), errors.Is(err, tfpilot.ErrConflict):
			// Another step is under way, or the base moved and the
			// request is re-planned: retry after a backoff.
			a.failed(r.ID, now)
			a.log.Debug("autopilot: "+act+" refused; backing off", "request", r.ID, "err", err)
		default:
			a.failed(r.ID, now)
			a.log.Warn("autopilot: "+act, "request", r.ID, "err", err)
		}
	}
	for id := range a.backoff {
		if !slices.ContainsFunc(page.Requests, func(r tfpilot.View) bool { return r.ID == id }) {
			delete(a.backoff, id) // moved on (or away): forget its backoff
		}
	}
}

// printDemoBanner tells a newcomer what is running and what to type.
func printDemoBanner(w io.Writer, url string, d *demoEnv, autopilot, webhooks bool) {
	api := url + "/tfpilot.v1.RequestService"
	hdr := `-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json'`
	var b strings.Builder
	fmt.Fprintf(&b, "\ntfpilot demo server: memory store, simulated GitHub (repository acme/infra, runs take ~4 s)\n")
	if webhooks {
		fmt.Fprintf(&b, "The simulated GitHub posts its webhooks to %s%s.\n", url, server.WebhookPath)
	} else {
		fmt.Fprintf(&b, "Requests waiting on GitHub are synced every few seconds.\n")
	}
	if autopilot {
		fmt.Fprintf(&b, "Autopilot is on: demo-autopilot approves, merges and applies every successful plan\n(--demo-autopilot=false to do those steps yourself).\n")
	}
	fmt.Fprintf(&b, "\nAn admin token was generated for this run:\n\n")
	fmt.Fprintf(&b, "export TFPILOT_URL=%s\nexport TOKEN=%s\n\n", url, d.adminToken)
	fmt.Fprintf(&b, "Create a request:\n\ncurl -s %s/Create %s \\\n  -d '{\"project\":\"payments\",\"environment\":\"dev\",\"module\":\"s3_bucket\",\"config\":{\"bucket\":\"payments-dev-reports\"}}'\n\n", api, hdr)
	fmt.Fprintf(&b, "Watch its status (it reaches STATUS_APPLIED in about 15 s):\n\ncurl -s %s/Get %s -d '{\"id\":\"REQ_ID\"}'\n", api, hdr)
	fmt.Fprintf(&b, "curl -s %s/ListEvents %s -d '{\"id\":\"REQ_ID\"}'\n", api, hdr)
	if !autopilot {
		for _, step := range []string{"Approve", "Merge", "Apply"} {
			fmt.Fprintf(&b, "curl -s %s/%s %s -d '{\"id\":\"REQ_ID\"}'\n", api, step, hdr)
		}
	}
	fmt.Fprintf(&b, "\nList, then destroy:\n\ncurl -s %s/List %s -d '{}'\n", api, hdr)
	fmt.Fprintf(&b, "curl -s %s/Destroy %s -d '{\"id\":\"REQ_ID\"}'\n\n", api, hdr)
	io.WriteString(w, b.String())
}

// errDemoStale refuses a demo over a store that holds requests of an
// earlier run.
var errDemoStale = errors.New("demo: the store holds requests of an earlier demo run")

// checkDemoStore refuses to start the demo over a persistent store that
// already holds live requests. The simulated GitHub keeps its state
// (branches, pull requests, runs) in memory only, so after a restart
// those requests point at pull requests and runs that no longer exist,
// and the fresh simulator hands out the same numbers again for other
// requests' pull requests and runs. Resuming them would attach another
// request's facts to them, so the demo does not: use a fresh database
// or bucket (or --store memory), or archive the old requests first.
func checkDemoStore(ctx context.Context, store tfpilot.Store, kind string) error {
	if kind == "memory" {
		return nil
	}
	page, err := store.ListRequests(ctx, tfpilot.ListQuery{Limit: 1})
	if err != nil {
		return fmt.Errorf("demo: look for requests of an earlier run: %w", err)
	}
	if len(page.Requests) > 0 {
		return fmt.Errorf("%w (e.g. %s): the simulated GitHub they ran on lived in memory and is gone, so they cannot be resumed; "+
			"start the demo on an empty %s store, or use --store memory", errDemoStale, page.Requests[0].ID, kind)
	}
	return nil
}
