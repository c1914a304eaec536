package githubx_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/tfpilot/tfpilot/githubx"
)

// recorder is an HTTP server that records the Authorization header of
// every request it gets.
type recorder struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.auths = append(rec.auths, r.Header.Get("Authorization"))
		rec.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auths...)
}

// TestCredentials_NotForwardedOnARedirectToAnotherHost: the API host
// redirects a read to another host; the token reaches the API host and
// never the other one.
func TestCredentials_NotForwardedOnARedirectToAnotherHost(t *testing.T) {
	t.Parallel()
	elsewhere := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"number": 1, "state": "open", "head": {"sha": "abc"}}`))
	})
	api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})
	c, err := githubx.New(githubx.Options{Token: "s3cret-token", BaseURL: api.URL, AllowInsecureHTTP: true, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.GetPR(context.Background(), githubx.Repo{Owner: "acme", Name: "infra"}, 1)
	if got := api.seen(); len(got) == 0 || got[0] != "Bearer s3cret-token" {
		t.Fatalf("the API host got Authorization %q; want the token", got)
	}
	got := elsewhere.seen()
	if len(got) == 0 {
		t.Fatal("the redirect was not followed; the test proves nothing")
	}
	for _, a := range got {
		if a != "" {
			t.Fatalf("the other host got Authorization %q", a)
		}
	}
}

// TestCredentials_HTTPSOnlyUnlessExplicitlyAllowed: a plain-http API
// root is refused unless AllowInsecureHTTP says it is a local fake.
func TestCredentials_HTTPSOnlyUnlessExplicitlyAllowed(t *testing.T) {
	t.Parallel()
	api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) })
	for name, o := range map[string]githubx.Options{
		"http":       {Token: "t", BaseURL: api.URL},
		"ftp":        {Token: "t", BaseURL: "ftp://example.com/", AllowInsecureHTTP: true},
		"http (app)": {App: &githubx.AppAuth{AppID: 1, PrivateKey: testKey(t)}, BaseURL: api.URL},
	} {
		if _, err := githubx.New(o); !errors.Is(err, githubx.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if len(api.seen()) != 0 {
		t.Fatal("a refused client sent a request")
	}
	if _, err := githubx.New(githubx.Options{Token: "t", BaseURL: api.URL, AllowInsecureHTTP: true}); err != nil {
		t.Fatalf("explicitly allowed http: %v", err)
	}
	if _, err := githubx.New(githubx.Options{Token: "t"}); err != nil {
		t.Fatalf("the default https root: %v", err)
	}
}

func testKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
