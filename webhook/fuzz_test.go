package webhook_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/webhook"
	"github.com/tfpilot/tfpilot/webhook/webhooktest"
)

// FuzzHandler posts arbitrary bodies and headers. The handler must not
// panic, must never fail on its own (the fakes never fail), and must
// change nothing — no claim, no sink call — unless the signature is the
// body's valid one.
func FuzzHandler(f *testing.F) {
	for _, fx := range fixtureDeliveries {
		body := webhooktest.Fixture(f, fx.file)
		f.Add(body, fx.event, "d-1", true, "")
		f.Add(body, fx.event, "d-1", false, webhook.Sign([]byte("other"), body))
	}
	f.Add([]byte(`{"action":"completed","workflow_run":{"id":1,"path":".github/workflows/test.yml","updated_at":null}}`), "workflow_run", "x", true, "")
	f.Add([]byte(`{"action":"dismissed","review":{"user":{"login":"a"}},"pull_request":{"number":1}}`), "pull_request_review", "x", true, "")
	f.Add([]byte(`{"action":"closed","pull_request":{"number":1,"merged":true}}`), "pull_request", "x", true, "")
	f.Add([]byte(``), "", "", false, "sha256=")
	const maxBody = 1 << 16
	f.Fuzz(func(t *testing.T, body []byte, event, id string, sign bool, sig string) {
		d, s := newDeliveries(), &sink{}
		h := newHandler(t, d, s, func(o *webhook.Options) { o.MaxBodyBytes = maxBody })
		valid := webhook.Sign([]byte(secret), body)
		if sign {
			sig = valid
		}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set(webhook.EventHeader, event)
		req.Header.Set(webhook.DeliveryHeader, id)
		req.Header.Set(webhook.SignatureHeader, sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		hexSig, hasPrefix := strings.CutPrefix(sig, "sha256=")
		signed := hasPrefix && strings.EqualFold(hexSig, strings.TrimPrefix(valid, "sha256="))
		switch {
		case len(body) > maxBody:
			if rec.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("oversized body: status %d", rec.Code)
			}
		case !signed:
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("unsigned delivery: status %d", rec.Code)
			}
		}
		if !signed && (d.count() != 0 || s.calls.Load() != 0) {
			t.Fatalf("unsigned delivery changed state: claims %d, sink calls %d", d.count(), s.calls.Load())
		}
		if rec.Code >= 500 {
			t.Fatalf("status %d %q with fakes that never fail", rec.Code, rec.Body.String())
		}
	})
}
