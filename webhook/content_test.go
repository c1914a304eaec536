package webhook_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/webhook"
	"github.com/tfpilot/tfpilot/webhook/webhooktest"
)

// TestHandler_FormEncodedDeliveriesAreHandledLikeJSON: a hook created in
// GitHub's UI or REST API defaults to content type "form"
// (webhook-config-content-type in GitHub's OpenAPI description: "The
// default is form"), which sends the JSON payload as the form parameter
// "payload" (docs.github.com/webhooks, "Creating webhooks": content
// type) and signs the encoded body. Every fixture delivered that way gets
// the same answer, sink call and recorded outcome as its JSON delivery.
func TestHandler_FormEncodedDeliveriesAreHandledLikeJSON(t *testing.T) {
	t.Parallel()
	for _, f := range fixtureDeliveries {
		t.Run(f.file, func(t *testing.T) {
			t.Parallel()
			body := webhooktest.Fixture(t, f.file)
			dj, sj := newDeliveries(), &sink{}
			js := webhooktest.Post(newHandler(t, dj, sj, nil), secret, f.event, "d-1", body)
			df, sf := newDeliveries(), &sink{}
			rec := httptest.NewRecorder()
			newHandler(t, df, sf, nil).ServeHTTP(rec, webhooktest.FormRequest(secret, f.event, "d-1", body))
			if rec.Code != http.StatusOK || rec.Code != js.Code || rec.Body.String() != js.Body.String() {
				t.Fatalf("form: %d %q; json: %d %q", rec.Code, rec.Body.String(), js.Code, js.Body.String())
			}
			if sf.calls.Load() != sj.calls.Load() || df.count() != dj.count() {
				t.Fatalf("form: sink %d, claims %d; json: sink %d, claims %d",
					sf.calls.Load(), df.count(), sj.calls.Load(), dj.count())
			}
		})
	}
}

// TestHandler_FormSignatureIsOverTheRawBody: GitHub signs the body as
// sent, so a form delivery signed over the payload alone (not the
// encoded body) is refused, and changes nothing.
func TestHandler_FormSignatureIsOverTheRawBody(t *testing.T) {
	t.Parallel()
	body := webhooktest.Fixture(t, "workflow_run.completed.json")
	d, s := newDeliveries(), &sink{}
	req := webhooktest.FormRequest("", "workflow_run", "d-1", body)
	req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(secret), body))
	rec := httptest.NewRecorder()
	newHandler(t, d, s, nil).ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || d.count() != 0 || s.calls.Load() != 0 {
		t.Fatalf("status %d, claims %d, sink calls %d; want 401, 0, 0", rec.Code, d.count(), s.calls.Load())
	}
}

// TestHandler_UnreadableContentIs415AndClaimsNothing: a signed delivery
// in a content type GitHub does not send, or a form without its payload,
// is refused with 415 before any claim, ping included (so the hook's
// ping shows the misconfiguration instead of "pong").
func TestHandler_UnreadableContentIs415AndClaimsNothing(t *testing.T) {
	t.Parallel()
	payload := webhooktest.Fixture(t, "ping.json")
	cases := []struct {
		name, contentType string
		body              []byte
	}{
		{"xml", "application/xml", payload},
		{"form without payload", webhook.ContentTypeForm, []byte(url.Values{"other": {string(payload)}}.Encode())},
		{"form with two payloads", webhook.ContentTypeForm, []byte(url.Values{"payload": {string(payload), "{}"}}.Encode())},
		{"bad media type", "application/json; charset", payload},
	}
	for _, tc := range cases {
		for _, event := range []string{"ping", "workflow_run"} {
			t.Run(tc.name+"/"+event, func(t *testing.T) {
				t.Parallel()
				d, s := newDeliveries(), &sink{}
				req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(tc.body))
				req.Header.Set("Content-Type", tc.contentType)
				req.Header.Set(webhook.EventHeader, event)
				req.Header.Set(webhook.DeliveryHeader, "d-1")
				req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(secret), tc.body))
				rec := httptest.NewRecorder()
				newHandler(t, d, s, nil).ServeHTTP(rec, req)
				if rec.Code != http.StatusUnsupportedMediaType || d.count() != 0 || s.calls.Load() != 0 {
					t.Fatalf("status %d (%s), claims %d, sink calls %d; want 415, 0, 0",
						rec.Code, rec.Body.String(), d.count(), s.calls.Load())
				}
			})
		}
	}
}

func TestPayload_ContentTypes(t *testing.T) {
	t.Parallel()
	js := []byte(`{"a":"b & c=d"}`)
	form := []byte(url.Values{"payload": {string(js)}}.Encode())
	cases := []struct {
		ct   string
		body []byte
		want []byte
		err  error
	}{
		{"", js, js, nil},
		{"application/json", js, js, nil},
		{"application/json; charset=utf-8", js, js, nil},
		{"Application/JSON", js, js, nil},
		{"application/x-www-form-urlencoded", form, js, nil},
		{"application/x-www-form-urlencoded; charset=utf-8", form, js, nil},
		{"application/x-www-form-urlencoded", []byte("payload=%zz"), nil, webhook.ErrContentType},
		{"application/x-www-form-urlencoded", []byte(""), nil, webhook.ErrContentType},
		{"text/plain", js, nil, webhook.ErrContentType},
	}
	for _, tc := range cases {
		got, err := webhook.Payload(tc.ct, tc.body)
		if !errors.Is(err, tc.err) || !bytes.Equal(got, tc.want) {
			t.Errorf("Payload(%q, %q) = %q, %v; want %q, %v", tc.ct, tc.body, got, err, tc.want, tc.err)
		}
		if err != nil && !strings.Contains(err.Error(), "webhook:") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
}

// FuzzPayload: Payload never panics, and a payload form-encoded as GitHub
// encodes it comes back byte for byte.
func FuzzPayload(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", []byte(`{"action":"completed"}`))
	f.Add("application/json; charset=utf-8", []byte(`{}`))
	f.Add("multipart/form-data; boundary=x", []byte("payload=%7B%7D"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		_, _ = webhook.Payload(ct, body)
		if len(body) == 0 {
			return
		}
		form := []byte(url.Values{"payload": {string(body)}}.Encode())
		got, err := webhook.Payload(webhook.ContentTypeForm, form)
		if err != nil || !bytes.Equal(got, []byte(string(body))) {
			// url.Values encodes the Go string; invalid UTF-8 survives
			// percent-encoding byte for byte.
			t.Fatalf("round trip of %q: %q, %v", body, got, err)
		}
	})
}
