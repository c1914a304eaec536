package webhooktest

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/webhook"
)

//go:embed testdata/github-webhooks/*.json
var fixtures embed.FS

const fixtureDir = "testdata/github-webhooks"

// FixtureNames returns the names of the embedded fixture payloads, e.g.
// "workflow_run.completed.json", in lexical order.
func FixtureNames() []string {
	entries, err := fixtures.ReadDir(fixtureDir)
	if err != nil {
		return nil // unreachable: the directory is embedded
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// ReadFixture returns the payload in the named fixture file. A name that
// is not a fixture gives an error wrapping [fs.ErrNotExist].
func ReadFixture(name string) ([]byte, error) {
	b, err := fixtures.ReadFile(path.Join(fixtureDir, name))
	if err != nil {
		return nil, fmt.Errorf("webhooktest: fixture %q: %w", name, fs.ErrNotExist)
	}
	return b, nil
}

// Fixture returns the payload in the named fixture file, e.g.
// "workflow_run.completed.json", failing t when there is no such fixture.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := ReadFixture(name)
	if err != nil {
		t.Fatalf("%v (fixtures: %s)", err, strings.Join(FixtureNames(), ", "))
	}
	return b
}

// With returns a copy of the JSON object body with fields set: keys are
// dotted paths ("workflow_run.head_sha"), values any JSON-encodable
// value (nil writes null). Intermediate objects must exist.
func With(t testing.TB, body []byte, fields map[string]any) []byte {
	t.Helper()
	out, err := with(body, fields)
	if err != nil {
		t.Fatalf("webhooktest: %v", err)
	}
	return out
}

func with(body []byte, fields map[string]any) ([]byte, error) {
	var doc map[string]any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber() // keep large ids exact
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode payload: %w", err)
	}
	for path, v := range fields {
		parts := strings.Split(path, ".")
		obj := doc
		for _, p := range parts[:len(parts)-1] {
			next, ok := obj[p].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("set %s: %s is not an object", path, p)
			}
			obj = next
		}
		obj[parts[len(parts)-1]] = v
	}
	return json.Marshal(doc)
}

// Request returns a POST request carrying body as delivery id of event,
// signed with secret (unsigned when secret is empty).
func Request(secret, event, id string, body []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.EventHeader, event)
	req.Header.Set(webhook.DeliveryHeader, id)
	if secret != "" {
		req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(secret), body))
	}
	return req
}

// FormRequest returns a POST request carrying body as GitHub sends it to
// a hook whose content type is "form": Content-Type
// application/x-www-form-urlencoded, the JSON payload in the form
// parameter "payload", and the signature computed over the encoded body
// (unsigned when secret is empty).
func FormRequest(secret, event, id string, body []byte) *http.Request {
	form := []byte(url.Values{"payload": {string(body)}}.Encode())
	req := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(form))
	req.Header.Set("Content-Type", webhook.ContentTypeForm)
	req.Header.Set(webhook.EventHeader, event)
	req.Header.Set(webhook.DeliveryHeader, id)
	if secret != "" {
		req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(secret), form))
	}
	return req
}

// Post serves a signed delivery with h and returns the response.
func Post(h http.Handler, secret, event, id string, body []byte) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, Request(secret, event, id, body))
	return rec
}
