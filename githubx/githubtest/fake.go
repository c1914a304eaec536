package githubtest

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures a [Fake]. The zero value is usable.
type Options struct {
	// Clock drives timestamps, rate-limit windows, token expiry and the
	// automatic simulator. Default: the real clock.
	Clock Clock

	// RateLimit is the number of units a window of one hour allows.
	// Default 5000, GitHub's budget for a token.
	RateLimit int

	// Tokens lists the personal or OAuth tokens the fake accepts. Empty
	// means any non-empty token is accepted. Installation tokens minted
	// through App are always accepted until they expire.
	Tokens []string

	// Login is the user the API acts as (PR author, dispatching actor,
	// reviewer of API reviews). Default "tfpilot-bot".
	Login string

	// App, if set, lets the fake mint installation tokens for a GitHub App
	// whose JWTs are verified with App.PublicKey.
	App *App

	// PublicURL, if set, is the base of the links inside answers (object
	// URLs, the log download redirect, contents' download_url) instead of
	// the fake's own loopback server: the address other machines reach the
	// fake at when [Fake.Handler] is served on a listener of its own (the
	// standalone fake in a container, say). No trailing slash needed.
	PublicURL string

	// WebhookURL receives signed deliveries. Empty: deliveries are only
	// recorded (see [Fake.Deliveries]).
	WebhookURL string
	// WebhookSecret signs deliveries (X-Hub-Signature-256).
	WebhookSecret string
	// WebhookContentType is the hook's content type, as GitHub's hook
	// configuration names it: "json" (the default here) posts the JSON
	// payload as the body; "form" (GitHub's own default) posts it as the
	// form parameter "payload" with Content-Type
	// application/x-www-form-urlencoded, signed over the encoded body.
	WebhookContentType string
	// WebhookClient posts deliveries. Default: a client with a 10 s timeout.
	WebhookClient *http.Client

	// LegacyDispatch makes workflow_dispatch ignore return_run_details and
	// answer 204 No Content, as GitHub did before 2025.
	LegacyDispatch bool

	// Auto, if set, moves runs through queued → in_progress → completed on
	// the clock without a test driving them (for demos).
	Auto *Auto
}

// App describes the GitHub App whose installation tokens the fake mints.
type App struct {
	ID             int64
	InstallationID int64
	PublicKey      *rsa.PublicKey
	// TokenTTL is how long a minted token lives. Default one hour.
	TokenTTL time.Duration
}

// Fake is an in-process fake of the GitHub REST API served by an
// [httptest.Server]. Create it with [New], point a client at [Fake.URL],
// and call [Fake.Close] when done. All methods are safe for concurrent use.
type Fake struct {
	opts  Options
	clock Clock
	srv   *httptest.Server
	mux   *http.ServeMux
	hooks *deliverer

	mu          sync.Mutex
	repos       map[string]*repo
	users       map[string]int64
	nextID      int64
	calls       map[string]int
	unitsSpent  int
	rlRemaining int
	rlReset     time.Time
	faults      []*Fault
	appTokens   map[string]time.Time
	stopAuto    chan struct{}
	autoDone    chan struct{}
	listLag     time.Duration // see lag.go
}

// New starts a fake GitHub. It never fails: configuration errors surface
// as HTTP errors from the fake, as they would from GitHub.
func New(opts Options) *Fake {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = 5000
	}
	if opts.Login == "" {
		opts.Login = "tfpilot-bot"
	}
	if opts.Auto != nil {
		a := *opts.Auto
		opts.Auto = &a
	}
	f := &Fake{
		opts:      opts,
		clock:     opts.Clock,
		repos:     map[string]*repo{},
		users:     map[string]int64{},
		nextID:    1000,
		calls:     map[string]int{},
		appTokens: map[string]time.Time{},
	}
	f.rlRemaining = opts.RateLimit
	f.rlReset = f.clock.Now().Add(time.Hour)
	f.mux = http.NewServeMux()
	f.routes()
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.hooks = newDeliverer(opts)
	if opts.Auto != nil {
		f.startAuto()
	}
	return f
}

// Handler returns the fake's HTTP handler, to mount it on another listener
// (a demo server on a fixed port). Links inside answers keep pointing at
// [Fake.URL], which keeps serving.
func (f *Fake) Handler() http.Handler { return http.HandlerFunc(f.serve) }

// URL returns the base URL of the fake API, with a trailing slash, ready
// for a client's BaseURL.
func (f *Fake) URL() string { return f.srv.URL + "/" }

// linkBase is the base of the links inside answers: Options.PublicURL
// when set, else the fake's own server.
func (f *Fake) linkBase() string {
	if f.opts.PublicURL != "" {
		return strings.TrimRight(f.opts.PublicURL, "/")
	}
	return f.srv.URL
}

// Close stops the automatic simulator, delivers nothing more and shuts the
// server down.
func (f *Fake) Close() {
	f.mu.Lock()
	stop := f.stopAuto
	f.stopAuto = nil
	f.mu.Unlock()
	if stop != nil {
		close(stop)
		<-f.autoDone
	}
	f.hooks.close()
	f.srv.Close()
}

func (f *Fake) newID() int64 {
	f.nextID++
	return f.nextID
}

// Calls returns how many requests each endpoint received, keyed by the
// route pattern such as "GET /repos/{owner}/{repo}/pulls/{number}" (see the
// Endpoint constants). Requests that matched no route count under
// "unmatched".
func (f *Fake) Calls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.calls))
	for k, v := range f.calls {
		out[k] = v
	}
	return out
}

// CallCount returns how many requests endpoint received.
func (f *Fake) CallCount(endpoint string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[endpoint]
}

// RateLimitSpent returns the rate-limit units spent since the fake started.
// A 304 Not Modified costs nothing, as on GitHub.
func (f *Fake) RateLimitSpent() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.unitsSpent
}

// SetRateLimit sets the remaining units of the current window and when the
// window resets, e.g. SetRateLimit(0, now.Add(time.Minute)) to exhaust it.
func (f *Fake) SetRateLimit(remaining int, reset time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rlRemaining = remaining
	f.rlReset = reset
}

// RateLimitRemaining returns the units left in the current window.
func (f *Fake) RateLimitRemaining() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refillLocked()
	return f.rlRemaining
}

func (f *Fake) refillLocked() {
	now := f.clock.Now()
	if !now.Before(f.rlReset) {
		f.rlRemaining = f.opts.RateLimit
		f.rlReset = now.Add(time.Hour)
	}
}

// serve is the outer handler. Each job is its own step (serve.go):
// route the request to an endpoint and count it, taking any injected
// fault ([Fake.route]); authenticate ([Fake.authenticate]); apply a fault
// that acts before the route ([Fake.faultBefore]); enforce the primary
// rate limit ([Fake.rateLimit]); run the route; account for it (ETag,
// units spent: [Fake.account]); and reply, losing the answer for an
// ambiguous fault ([Fake.reply]).
func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	endpoint, fault, routed := f.route(r)
	if !routed {
		errNotFound(w) // GitHub answers unknown routes with a JSON 404
		return
	}
	free := isFree(endpoint)
	if refusal := f.authenticate(r, free); refusal != nil {
		refusal.write(w)
		return
	}
	if !f.faultBefore(w, r, fault) {
		return
	}
	if refusal := f.rateLimit(free); refusal != nil {
		refusal.write(w)
		return
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	f.mux.ServeHTTP(rec, r)
	notModified := f.account(r, rec, free)
	f.reply(w, rec, fault, free, notModified)
}

func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		p := strings.TrimSpace(part)
		if p == etag || strings.TrimPrefix(p, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

func (f *Fake) writeRateHeaders(h http.Header) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h.Set("X-RateLimit-Limit", strconv.Itoa(f.opts.RateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(f.rlRemaining))
	h.Set("X-RateLimit-Used", strconv.Itoa(f.opts.RateLimit-f.rlRemaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(f.rlReset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

func (f *Fake) authorized(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	var tok string
	switch {
	case strings.HasPrefix(auth, "Bearer "):
		tok = strings.TrimPrefix(auth, "Bearer ")
	case strings.HasPrefix(auth, "token "):
		tok = strings.TrimPrefix(auth, "token ")
	}
	if tok == "" {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if exp, ok := f.appTokens[tok]; ok {
		return f.clock.Now().Before(exp)
	}
	if strings.HasPrefix(tok, installationTokenPrefix) {
		return false
	}
	if len(f.opts.Tokens) == 0 {
		return true
	}
	for _, t := range f.opts.Tokens {
		if t == tok {
			return true
		}
	}
	return false
}

func retryAfterSeconds(d time.Duration) string {
	if d <= 0 {
		d = time.Second
	}
	s := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(s, 10)
}

func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Cannot hijack (HTTP/2): the closest we can do is an empty 500.
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	_ = conn.Close()
}

// recorder buffers a route's response so the outer handler can compute
// ETags and replace the answer for injected faults.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func apiError(msg string) map[string]any {
	return map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest"}
}

func validationError(msg string) map[string]any {
	return map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest", "status": "422"}
}

// Documentation URLs GitHub puts in the errors of the operations whose
// refusals the fake words as GitHub does.
const (
	docCreatePull = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
	docCreateRef  = "https://docs.github.com/rest/git/refs#create-a-reference"
	docDispatch   = "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event"
)

// validationFailed is GitHub's documented validation error
// (components/schemas/validation-error in its OpenAPI description):
// "Validation Failed" at the top, the reasons in errors[]. This is how
// GitHub refuses, for example, a duplicate pull request.
func validationFailed(doc string, errs ...map[string]any) map[string]any {
	list := make([]any, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return map[string]any{"message": "Validation Failed", "errors": list, "documentation_url": doc, "status": "422"}
}

// fieldError is one entry of a validation error's errors[]: code is one of
// missing, missing_field, invalid, already_exists, unprocessable or
// custom (custom errors carry their reason in message).
func fieldError(resource, field, code, message string) map[string]any {
	e := map[string]any{"resource": resource, "code": code}
	if field != "" {
		e["field"] = field
	}
	if message != "" {
		e["message"] = message
	}
	return e
}

// simpleError is a 422 whose reason is the top-level message (GitHub's
// answer to a refused workflow_dispatch or ref creation).
func simpleError(doc, msg string) map[string]any {
	return map[string]any{"message": msg, "documentation_url": doc, "status": "422"}
}

func errNotFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, apiError("Not Found"))
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 32<<20))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("problems parsing JSON: %w", err)
	}
	return nil
}
