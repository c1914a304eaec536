package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/webhook"
	"github.com/tfpilot/tfpilot/webhook/webhooktest"
)

func TestNew_RefusesIncompleteOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(*webhook.Options)
	}{
		{"no secret", func(o *webhook.Options) { o.Secrets = nil }},
		{"empty secret", func(o *webhook.Options) { o.Secrets = []string{""} }},
		{"one of two secrets empty", func(o *webhook.Options) { o.Secrets = []string{"a", ""} }},
		{"no deliveries", func(o *webhook.Options) { o.Deliveries = nil }},
		{"no duplicate test", func(o *webhook.Options) { o.IsDuplicate = nil }},
		{"no sink", func(o *webhook.Options) { o.Sink = nil }},
		{"no classifier", func(o *webhook.Options) { o.Classify = nil }},
		{"negative cap", func(o *webhook.Options) { o.MaxBodyBytes = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := webhook.Options{
				Secrets: []string{secret}, Deliveries: newDeliveries(), IsDuplicate: isClaimed,
				Sink: &sink{}, Classify: classifyTestYML,
			}
			tt.mod(&opts)
			h, err := webhook.New(opts)
			if !errors.Is(err, webhook.ErrInvalidOptions) || h != nil {
				t.Fatalf("New = %v, %v; want ErrInvalidOptions", h, err)
			}
		})
	}
}

// fixtureDeliveries lists every fixture with the event GitHub sends it as.
var fixtureDeliveries = []struct{ file, event string }{
	{"workflow_run.requested.json", "workflow_run"},
	{"workflow_run.completed.json", "workflow_run"},
	{"workflow_job.in_progress.json", "workflow_job"},
	{"pull_request.opened.json", "pull_request"},
	{"pull_request.closed.json", "pull_request"},
	{"pull_request.synchronize.json", "pull_request"},
	{"pull_request_review.submitted.json", "pull_request_review"},
	{"ping.json", "ping"},
}

func TestHandler_UnsignedOrMissignedDeliveryIs401AndChangesNothing(t *testing.T) {
	t.Parallel()
	signers := []struct {
		name string
		sign func(body []byte) string
	}{
		{"missing", func([]byte) string { return "" }},
		{"wrong secret", func(b []byte) string { return webhook.Sign([]byte("not the secret"), b) }},
		{"sha1 style", func(b []byte) string {
			return "sha1=" + strings.TrimPrefix(webhook.Sign([]byte(secret), b), "sha256=")[:40]
		}},
		{"no prefix", func(b []byte) string { return strings.TrimPrefix(webhook.Sign([]byte(secret), b), "sha256=") }},
		{"not hex", func([]byte) string { return "sha256=zz" }},
		{"truncated", func(b []byte) string { return webhook.Sign([]byte(secret), b)[:20] }},
		{"signature of another body", func(b []byte) string { return webhook.Sign([]byte(secret), append(b, ' ')) }},
	}
	for _, f := range fixtureDeliveries {
		body := webhooktest.Fixture(t, f.file)
		for _, sg := range signers {
			t.Run(f.file+"/"+sg.name, func(t *testing.T) {
				t.Parallel()
				d, s := newDeliveries(), &sink{}
				h := newHandler(t, d, s, nil)
				req := webhooktest.Request("", f.event, "d-1", body)
				if sig := sg.sign(body); sig != "" {
					req.Header.Set(webhook.SignatureHeader, sig)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusUnauthorized {
					t.Errorf("status = %d, want 401", rec.Code)
				}
				if d.count() != 0 || s.calls.Load() != 0 {
					t.Errorf("claims = %d, sink calls = %d; want none", d.count(), s.calls.Load())
				}
			})
		}
	}
}

func TestHandler_SignedFixturesAreAnswered2xx(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, event string
		sinkCalls   int64
		claimed     bool
		outcome     string // prefix
	}{
		{"workflow_run.requested.json", "workflow_run", 1, true, "recorded"},
		{"workflow_run.completed.json", "workflow_run", 1, true, "recorded"},
		{"workflow_job.in_progress.json", "workflow_job", 0, true, "ignored: event"},
		{"pull_request.opened.json", "pull_request", 1, true, "recorded"},
		{"pull_request.closed.json", "pull_request", 1, true, "recorded"},
		{"pull_request.synchronize.json", "pull_request", 1, true, "recorded"},
		// The fixture review is a comment: not an approval decision.
		{"pull_request_review.submitted.json", "pull_request_review", 0, true, "ignored: pull_request_review submitted commented"},
		{"ping.json", "ping", 0, false, "pong"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			d, s := newDeliveries(), &sink{}
			h := newHandler(t, d, s, nil)
			rec := webhooktest.Post(h, secret, tt.event, "d-1", webhooktest.Fixture(t, tt.file))
			if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), tt.outcome) {
				t.Fatalf("answer = %d %q, want 200 %q…", rec.Code, rec.Body.String(), tt.outcome)
			}
			if got := s.calls.Load(); got != tt.sinkCalls {
				t.Errorf("sink calls = %d, want %d", got, tt.sinkCalls)
			}
			outcome, done := d.outcome("d-1")
			if done != tt.claimed || (tt.claimed && !strings.HasPrefix(outcome, tt.outcome)) {
				t.Errorf("delivery record = %q, completed %v; want %q…, %v", outcome, done, tt.outcome, tt.claimed)
			}
		})
	}
}

func TestHandler_AcceptsEveryRotatedSecret(t *testing.T) {
	t.Parallel()
	d, s := newDeliveries(), &sink{}
	h := newHandler(t, d, s, func(o *webhook.Options) { o.Secrets = []string{"old", "new"} })
	body := webhooktest.Fixture(t, "pull_request.opened.json")
	for i, sec := range []string{"old", "new", "other"} {
		rec := webhooktest.Post(h, sec, "pull_request", fmt.Sprint("d-", i), body)
		want := http.StatusOK
		if sec == "other" {
			want = http.StatusUnauthorized
		}
		if rec.Code != want {
			t.Errorf("signed with %q: status %d, want %d", sec, rec.Code, want)
		}
	}
	if s.calls.Load() != 2 {
		t.Errorf("sink calls = %d, want 2", s.calls.Load())
	}
}

func TestHandler_OversizedBodyIs413AndChangesNothing(t *testing.T) {
	t.Parallel()
	d, s := newDeliveries(), &sink{}
	body := webhooktest.Fixture(t, "workflow_run.completed.json")
	h := newHandler(t, d, s, func(o *webhook.Options) { o.MaxBodyBytes = int64(len(body) - 1) })
	rec := webhooktest.Post(h, secret, "workflow_run", "d-1", body)
	if rec.Code != http.StatusRequestEntityTooLarge || d.count() != 0 || s.calls.Load() != 0 {
		t.Fatalf("status %d, claims %d, sink calls %d; want 413, 0, 0", rec.Code, d.count(), s.calls.Load())
	}
	// Exactly at the cap is accepted.
	h = newHandler(t, d, s, func(o *webhook.Options) { o.MaxBodyBytes = int64(len(body)) })
	if rec := webhooktest.Post(h, secret, "workflow_run", "d-1", body); rec.Code != http.StatusOK {
		t.Fatalf("body at the cap: status %d, want 200", rec.Code)
	}
}

func TestHandler_RejectsBadRequestsBeforeClaiming(t *testing.T) {
	t.Parallel()
	body := webhooktest.Fixture(t, "workflow_run.completed.json")
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"GET", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/", nil) }, http.StatusMethodNotAllowed},
		{"no event header", func() *http.Request {
			r := webhooktest.Request(secret, "workflow_run", "d-1", body)
			r.Header.Del(webhook.EventHeader)
			return r
		}, http.StatusBadRequest},
		{"no delivery id", func() *http.Request { return webhooktest.Request(secret, "workflow_run", "", body) }, http.StatusBadRequest},
		{"oversized delivery id", func() *http.Request {
			return webhooktest.Request(secret, "workflow_run", strings.Repeat("x", 257), body)
		}, http.StatusBadRequest},
		{"signed garbage", func() *http.Request { return webhooktest.Request(secret, "workflow_run", "d-1", []byte("{")) }, http.StatusBadRequest},
		{"signed run without id", func() *http.Request {
			return webhooktest.Request(secret, "workflow_run", "d-1", webhooktest.With(t, body, map[string]any{"workflow_run.id": nil}))
		}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, s := newDeliveries(), &sink{}
			rec := httptest.NewRecorder()
			newHandler(t, d, s, nil).ServeHTTP(rec, tt.req())
			if rec.Code != tt.status || d.count() != 0 || s.calls.Load() != 0 {
				t.Fatalf("status %d, claims %d, sink calls %d; want %d, 0, 0", rec.Code, d.count(), s.calls.Load(), tt.status)
			}
		})
	}
}

func TestHandler_RepeatedDeliveryWorksOnce(t *testing.T) {
	t.Parallel()
	d, s := newDeliveries(), &sink{}
	h := newHandler(t, d, s, nil)
	body := webhooktest.Fixture(t, "workflow_run.completed.json")
	for i := range 3 {
		rec := webhooktest.Post(h, secret, "workflow_run", "d-1", body)
		want := "recorded\n"
		if i > 0 {
			want = webhook.OutcomeDuplicate + "\n"
		}
		if rec.Code != http.StatusOK || rec.Body.String() != want {
			t.Fatalf("copy %d: %d %q, want 200 %q", i, rec.Code, rec.Body.String(), want)
		}
	}
	if s.calls.Load() != 1 {
		t.Fatalf("sink calls = %d, want 1", s.calls.Load())
	}
}

func TestHandler_ConcurrentCopiesWorkOnce(t *testing.T) {
	t.Parallel()
	d := newDeliveries()
	s := &sink{fail: func(context.Context) error { time.Sleep(5 * time.Millisecond); return nil }}
	h := newHandler(t, d, s, nil)
	body := webhooktest.Fixture(t, "workflow_run.completed.json")
	const copies = 32
	codes := make([]int, copies)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range copies {
		wg.Go(func() {
			<-start
			codes[i] = webhooktest.Post(h, secret, "workflow_run", "d-1", body).Code
		})
	}
	close(start)
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("copy %d: status %d", i, c)
		}
	}
	if s.calls.Load() != 1 || d.claimed.Load() != 1 {
		t.Fatalf("sink calls = %d, claims = %d; want 1, 1", s.calls.Load(), d.claimed.Load())
	}
}

func TestHandler_FailedHandlingReleasesClaimForRedelivery(t *testing.T) {
	t.Parallel()
	d := newDeliveries()
	var failed bool
	s := &sink{fail: func(context.Context) error {
		if !failed {
			failed = true
			return errors.New("store unavailable")
		}
		return nil
	}}
	h := newHandler(t, d, s, nil)
	body := webhooktest.Fixture(t, "pull_request.closed.json")
	if rec := webhooktest.Post(h, secret, "pull_request", "d-1", body); rec.Code != http.StatusInternalServerError {
		t.Fatalf("failing delivery: status %d, want 500", rec.Code)
	}
	if d.count() != 0 || d.released.Load() != 1 {
		t.Fatalf("after failure: claims %d, released %d; want 0, 1", d.count(), d.released.Load())
	}
	if rec := webhooktest.Post(h, secret, "pull_request", "d-1", body); rec.Code != http.StatusOK {
		t.Fatalf("redelivery: status %d, want 200", rec.Code)
	}
	if out, done := d.outcome("d-1"); !done || out != "recorded" {
		t.Fatalf("redelivery record = %q, %v", out, done)
	}
	if len(s.recorded()) != 1 {
		t.Fatalf("events recorded = %d, want 1", len(s.recorded()))
	}
}

func TestHandler_SinkPanicReleasesClaim(t *testing.T) {
	t.Parallel()
	d := newDeliveries()
	s := &sink{fail: func(context.Context) error { panic("bug") }}
	h := newHandler(t, d, s, nil)
	rec := webhooktest.Post(h, secret, "pull_request", "d-1", webhooktest.Fixture(t, "pull_request.opened.json"))
	if rec.Code != http.StatusInternalServerError || d.count() != 0 {
		t.Fatalf("status %d, claims %d; want 500, 0", rec.Code, d.count())
	}
}

func TestHandler_ClaimFailureIs503WithoutWork(t *testing.T) {
	t.Parallel()
	d, s := newDeliveries(), &sink{}
	d.claimErr = errors.New("store down")
	h := newHandler(t, d, s, nil)
	rec := webhooktest.Post(h, secret, "pull_request", "d-1", webhooktest.Fixture(t, "pull_request.opened.json"))
	if rec.Code != http.StatusServiceUnavailable || s.calls.Load() != 0 {
		t.Fatalf("status %d, sink calls %d; want 503, 0", rec.Code, s.calls.Load())
	}
}

func TestHandler_SinkWorkIsBoundedByTimeoutNotByClient(t *testing.T) {
	t.Parallel()
	t.Run("timeout ends the work and releases the claim", func(t *testing.T) {
		t.Parallel()
		d := newDeliveries()
		// The sink's work ends only when its context does: without the
		// timeout this test would hang, and the work must end by the
		// deadline, not by some other cancellation.
		var ended atomic.Value
		s := &sink{fail: func(ctx context.Context) error { <-ctx.Done(); ended.Store(ctx.Err()); return ctx.Err() }}
		h := newHandler(t, d, s, func(o *webhook.Options) { o.Timeout = 20 * time.Millisecond })
		rec := webhooktest.Post(h, secret, "pull_request", "d-1", webhooktest.Fixture(t, "pull_request.opened.json"))
		if rec.Code != http.StatusInternalServerError || d.count() != 0 {
			t.Fatalf("status %d, claims %d; want 500, 0", rec.Code, d.count())
		}
		if err, _ := ended.Load().(error); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("the work ended with %v, want the timeout's DeadlineExceeded", err)
		}
	})
	t.Run("client hanging up does not cancel the work", func(t *testing.T) {
		t.Parallel()
		d := newDeliveries()
		s := &sink{fail: func(ctx context.Context) error { return ctx.Err() }}
		h := newHandler(t, d, s, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req := webhooktest.Request(secret, "pull_request", "d-1", webhooktest.Fixture(t, "pull_request.opened.json")).WithContext(ctx)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if _, done := d.outcome("d-1"); rec.Code != http.StatusOK || !done {
			t.Fatalf("status %d, completed %v; want 200, true", rec.Code, done)
		}
	})
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	body := []byte(`{"zen":"Keep it logically awesome."}`)
	good := webhook.Sign([]byte("s"), body)
	tests := []struct {
		name    string
		secrets []string
		header  string
		want    error
	}{
		{"match", []string{"s"}, good, nil},
		{"match second secret", []string{"x", "s"}, good, nil},
		{"empty secret never matches", []string{""}, webhook.Sign(nil, body), webhook.ErrBadSignature},
		{"mismatch", []string{"x"}, good, webhook.ErrBadSignature},
		{"upper-case hex decodes to the same MAC", []string{"s"}, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), nil},
		{"empty header", []string{"s"}, "", webhook.ErrNoSignature},
		{"prefix only", []string{"s"}, "sha256=", webhook.ErrNoSignature},
		{"short", []string{"s"}, good[:len(good)-2], webhook.ErrBadSignature},
	}
	for _, tt := range tests {
		var secrets [][]byte
		for _, s := range tt.secrets {
			secrets = append(secrets, []byte(s))
		}
		if err := webhook.VerifySignature(secrets, tt.header, body); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}
