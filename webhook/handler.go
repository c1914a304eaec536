package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Headers GitHub sends with every delivery (besides [SignatureHeader]).
const (
	EventHeader    = "X-GitHub-Event"
	DeliveryHeader = "X-GitHub-Delivery"
)

// Defaults for [Options].
const (
	// DefaultMaxBodyBytes caps a delivery's body: GitHub caps payloads
	// at 25 MB.
	DefaultMaxBodyBytes = 25 << 20
	// DefaultTimeout bounds claiming a delivery and handing it to the
	// sink, so that GitHub, which waits 10 s, gets an answer.
	DefaultTimeout = 7 * time.Second
	// finishTimeout bounds recording a delivery's outcome (complete or
	// release) after the sink returned, even when its context expired.
	finishTimeout = 2 * time.Second
	// maxHeaderLen caps the event name and delivery id (GitHub's ids are
	// 36-character GUIDs), which become keys in the delivery store.
	maxHeaderLen = 256
)

// ErrInvalidOptions: [New] was given options it cannot work with.
var ErrInvalidOptions = errors.New("webhook: invalid options")

// Deliveries makes handling happen once per delivery id, durably.
// tfpilot.Store satisfies it as is.
type Deliveries interface {
	// ClaimDelivery claims delivery id for handling and returns the
	// claim's fencing value. Exactly one of any number of concurrent
	// claims succeeds; the others, and claims of an id already claimed
	// or completed, fail with an error for which [Options.IsDuplicate]
	// is true. A claim left in progress longer than the store's claim
	// TTL (tfpilot.DeliveryClaimTTL) is stale: its handler is taken to
	// have died, and a new claim replaces it, so that a redelivery is
	// handled.
	ClaimDelivery(ctx context.Context, id, event string) (claim time.Time, err error)
	// CompleteDelivery records the outcome of the delivery claimed with
	// fencing value claim; it fails when the claim was replaced since,
	// so a handler that outlived its claim cannot complete its
	// successor's.
	CompleteDelivery(ctx context.Context, id string, claim time.Time, outcome string) error
	// ReleaseDelivery drops the claim (fencing value claim) of a
	// delivery whose handling failed, so that a redelivery can claim
	// it; it fails, dropping nothing, when the claim was replaced since.
	ReleaseDelivery(ctx context.Context, id string, claim time.Time) error
}

// Sink does the work a delivery asks for. Each method returns a short
// outcome, recorded with the delivery and sent back to GitHub, or an
// error when the work failed and should be redone on redelivery (a
// store outage, a timeout). Deliveries that cannot be handled however
// often they come (no request correlates, say) are outcomes, not
// errors. Methods must be safe for concurrent use and idempotent: the
// handler runs each delivery id once, but GitHub can send the same facts
// under several ids.
type Sink interface {
	HandleWorkflowRun(ctx context.Context, ev WorkflowRunEvent) (outcome string, err error)
	HandlePullRequest(ctx context.Context, ev PullRequestEvent) (outcome string, err error)
	HandleReview(ctx context.Context, ev ReviewEvent) (outcome string, err error)
}

// Options configures [New]. Secrets, Deliveries, IsDuplicate, Sink and
// Classify are required; the rest have defaults.
type Options struct {
	// Secrets are the webhook secrets a delivery may be signed with; a
	// delivery is accepted when its signature matches any of them, so a
	// secret is rotated by adding the new one, updating GitHub, then
	// removing the old one. None may be empty.
	Secrets []string
	// Deliveries claims each delivery id before work.
	Deliveries Deliveries
	// IsDuplicate reports whether an error from
	// [Deliveries.ClaimDelivery] means "already claimed". With a
	// tfpilot.Store it is tfpilot.IsDuplicateDelivery, that is
	//
	//	func(err error) bool { return errors.Is(err, tfpilot.ErrAlreadyExists) }
	//
	// It is required because guessing wrong is costly either way:
	// treating a duplicate as a failure answers 5xx to every repeat, and
	// treating a failure as a duplicate drops a delivery.
	IsDuplicate func(error) bool
	// Sink handles parsed events.
	Sink Sink
	// Classify tells tfpilot's workflows apart (see [Classifier]). There
	// is no default: one that classifies nothing would silently drop
	// every workflow run.
	Classify Classifier
	// MaxBodyBytes caps the body; larger deliveries get 413. Zero means
	// [DefaultMaxBodyBytes].
	MaxBodyBytes int64
	// Timeout bounds the claim and the sink's work for one delivery.
	// Zero means [DefaultTimeout]. Work is not cut short when GitHub
	// hangs up, only when Timeout expires. Keep it far below the
	// store's claim TTL (tfpilot.DeliveryClaimTTL, 10 minutes): a
	// redelivery after the TTL reclaims a delivery still being handled.
	Timeout time.Duration
	// Logger receives one record per delivery handled and one per
	// failure. Nil discards.
	Logger *slog.Logger
}

// Handler is an [http.Handler] for GitHub webhook deliveries: it checks
// the body's size and signature, claims the delivery id, parses
// workflow_run, pull_request and pull_request_review events, hands them
// to the [Sink], and records the outcome. Create it with [New].
//
// Answers: 200 with the outcome as text for handled, ignored and
// duplicate deliveries and for ping (which is not claimed); 401 for a
// missing or wrong signature; 400 for a signed delivery without (or with
// an oversized) event or delivery id header, or with a malformed body;
// 415 for a signed delivery whose Content-Type is neither
// application/json nor application/x-www-form-urlencoded with a payload
// parameter (both are accepted: see [Payload]); 405 for methods other than POST;
// 413 for an oversized body; 503 when the delivery could not be claimed;
// 500 when the sink failed, after releasing the claim so that a
// redelivery is handled.
type Handler struct {
	secrets     [][]byte
	deliveries  Deliveries
	isDuplicate func(error) bool
	sink        Sink
	classify    Classifier
	maxBody     int64
	timeout     time.Duration
	log         *slog.Logger
}

// New returns a Handler configured by opts, or an error wrapping
// [ErrInvalidOptions] when a required option is missing or a secret is
// empty.
func New(opts Options) (*Handler, error) {
	var problems []error
	if len(opts.Secrets) == 0 {
		problems = append(problems, errors.New("no secret: an unsigned webhook endpoint accepts anyone's deliveries"))
	}
	secrets := make([][]byte, 0, len(opts.Secrets))
	for i, s := range opts.Secrets {
		if s == "" {
			problems = append(problems, fmt.Errorf("secret %d is empty", i))
			continue
		}
		secrets = append(secrets, []byte(s))
	}
	if opts.Deliveries == nil {
		problems = append(problems, errors.New("no Deliveries"))
	}
	if opts.IsDuplicate == nil {
		problems = append(problems, errors.New("no IsDuplicate"))
	}
	if opts.Sink == nil {
		problems = append(problems, errors.New("no Sink"))
	}
	if opts.Classify == nil {
		problems = append(problems, errors.New("no Classify"))
	}
	if opts.MaxBodyBytes < 0 || opts.Timeout < 0 {
		problems = append(problems, errors.New("negative MaxBodyBytes or Timeout"))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(problems...))
	}
	h := &Handler{
		secrets:     secrets,
		deliveries:  opts.Deliveries,
		isDuplicate: opts.IsDuplicate,
		sink:        opts.Sink,
		classify:    opts.Classify,
		maxBody:     opts.MaxBodyBytes,
		timeout:     opts.Timeout,
		log:         opts.Logger,
	}
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.timeout == 0 {
		h.timeout = DefaultTimeout
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// Outcomes the handler records itself.
const (
	OutcomePong      = "pong"
	OutcomeDuplicate = "duplicate"
)

// ServeHTTP handles one delivery.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			reply(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", h.maxBody))
			return
		}
		reply(w, http.StatusBadRequest, "cannot read body")
		return
	}
	if err := VerifySignature(h.secrets, r.Header.Get(SignatureHeader), body); err != nil {
		h.log.WarnContext(r.Context(), "webhook: rejected delivery", "delivery", r.Header.Get(DeliveryHeader), "err", err)
		reply(w, http.StatusUnauthorized, "bad signature")
		return
	}
	event, id := r.Header.Get(EventHeader), r.Header.Get(DeliveryHeader)
	if event == "" || id == "" || len(event) > maxHeaderLen || len(id) > maxHeaderLen {
		reply(w, http.StatusBadRequest, "missing or oversized "+EventHeader+" or "+DeliveryHeader)
		return
	}
	// The signature covers the raw body; the payload is inside it when
	// the hook is form-encoded. ping is checked too, so that a hook whose
	// content type tfpilot cannot read does not look healthy.
	payload, err := Payload(r.Header.Get("Content-Type"), body)
	if err != nil {
		h.log.WarnContext(r.Context(), "webhook: unreadable delivery", "delivery", id, "event", event, "err", err)
		reply(w, http.StatusUnsupportedMediaType, err.Error())
		return
	}
	if event == "ping" {
		reply(w, http.StatusOK, OutcomePong)
		return
	}

	// Parse before claiming, so a malformed body claims nothing.
	work, ignore, err := h.parse(event, id, payload)
	if err != nil {
		h.log.WarnContext(r.Context(), "webhook: malformed delivery", "delivery", id, "event", event, "err", err)
		reply(w, http.StatusBadRequest, err.Error())
		return
	}

	// The work must not stop because GitHub hung up, only on timeout.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.timeout)
	defer cancel()
	claim, err := h.deliveries.ClaimDelivery(ctx, id, event)
	if err != nil {
		if h.isDuplicate(err) {
			h.log.InfoContext(ctx, "webhook: duplicate delivery", "delivery", id, "event", event)
			reply(w, http.StatusOK, OutcomeDuplicate)
			return
		}
		h.log.ErrorContext(ctx, "webhook: claim delivery", "delivery", id, "event", event, "err", err)
		reply(w, http.StatusServiceUnavailable, "cannot claim delivery")
		return
	}

	outcome := ignore
	if work != nil {
		outcome, err = h.run(ctx, id, work)
	}
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(r.Context()), finishTimeout)
	defer fcancel()
	if err != nil {
		h.log.ErrorContext(ctx, "webhook: handling failed; claim released for redelivery", "delivery", id, "event", event, "err", err)
		if rerr := h.deliveries.ReleaseDelivery(fctx, id, claim); rerr != nil {
			h.log.ErrorContext(fctx, "webhook: release delivery", "delivery", id, "err", rerr)
		}
		reply(w, http.StatusInternalServerError, "handling failed")
		return
	}
	if cerr := h.deliveries.CompleteDelivery(fctx, id, claim, outcome); cerr != nil {
		// The work is done, so the delivery is answered as handled. A
		// redelivery finds the claim and does nothing until it goes
		// stale; after that it redoes the work, which the Sink's
		// idempotency makes harmless.
		h.log.ErrorContext(fctx, "webhook: complete delivery", "delivery", id, "err", cerr)
	}
	h.log.InfoContext(ctx, "webhook: delivery handled", "delivery", id, "event", event, "outcome", outcome)
	reply(w, http.StatusOK, outcome)
}

// parse returns the sink call a delivery needs, or the reason it is
// ignored.
func (h *Handler) parse(event, id string, body []byte) (work func(context.Context) (string, error), ignore string, err error) {
	switch event {
	case "workflow_run":
		ev, ignore, err := parseWorkflowRun(body, h.classify)
		if err != nil || ignore != "" {
			return nil, ignore, err
		}
		ev.DeliveryID = id
		return func(ctx context.Context) (string, error) { return h.sink.HandleWorkflowRun(ctx, ev) }, "", nil
	case "pull_request":
		ev, ignore, err := parsePullRequest(body)
		if err != nil || ignore != "" {
			return nil, ignore, err
		}
		ev.DeliveryID = id
		return func(ctx context.Context) (string, error) { return h.sink.HandlePullRequest(ctx, ev) }, "", nil
	case "pull_request_review":
		ev, ignore, err := parseReview(body)
		if err != nil || ignore != "" {
			return nil, ignore, err
		}
		ev.DeliveryID = id
		return func(ctx context.Context) (string, error) { return h.sink.HandleReview(ctx, ev) }, "", nil
	}
	return nil, fmt.Sprintf("ignored: event %q", event), nil
}

// run calls the sink, turning a panic into an error so that the claim
// is released at once rather than left held until it goes stale.
func (h *Handler) run(ctx context.Context, id string, work func(context.Context) (string, error)) (outcome string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("webhook: sink panicked on delivery %s: %v", id, p)
		}
	}()
	return work(ctx)
}

func reply(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}
