package webhooktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/webhook"
)

// FixtureEnv names the environment variable that overrides [FixtureDir].
const FixtureEnv = "TFPILOT_WEBHOOK_FIXTURES"

// FixtureDir returns the directory holding the fixture payloads: the
// value of TFPILOT_WEBHOOK_FIXTURES, else shared/fixtures/github-webhooks
// beside the module root found above the working directory.
func FixtureDir() (string, error) {
	if d := os.Getenv(FixtureEnv); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	var tried []string
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			cand := filepath.Join(dir, "..", "shared", "fixtures", "github-webhooks")
			if st, err := os.Stat(cand); err == nil && st.IsDir() {
				return filepath.Clean(cand), nil
			}
			tried = append(tried, cand)
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return "", fmt.Errorf("webhooktest: no fixture directory found from %s (tried %s; set %s)",
		wd, strings.Join(tried, ", "), FixtureEnv)
}

// Fixture returns the payload in the named fixture file, e.g.
// "workflow_run.completed.json", failing t when it cannot be read.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	dir, err := FixtureDir()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("webhooktest: read fixture: %v", err)
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

// Post serves a signed delivery with h and returns the response.
func Post(h http.Handler, secret, event, id string, body []byte) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, Request(secret, event, id, body))
	return rec
}
