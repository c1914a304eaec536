package githubx

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// AppAuth authenticates as a GitHub App installation: the client signs a
// JWT (RS256) with PrivateKey, exchanges it for an installation token and
// reuses that token until five minutes before it expires.
type AppAuth struct {
	AppID          int64
	InstallationID int64
	PrivateKey     *rsa.PrivateKey
}

// ParsePrivateKey parses the PEM private key GitHub issues for an App
// (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY").
func ParsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("githubx: parse private key: no PEM block: %w", ErrInvalid)
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("githubx: parse private key: %v: %w", err, ErrInvalid)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("githubx: parse private key: not an RSA key: %w", ErrInvalid)
	}
	return rk, nil
}

// signAppJWT returns the JWT GitHub expects from an App: issued a minute
// in the past (clock drift) and valid for nine minutes.
func signAppJWT(appID int64, key *rsa.PrivateKey, now time.Time) (string, error) {
	enc := base64.RawURLEncoding
	hdr := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, err := json.Marshal(map[string]int64{
		"iat": now.Add(-time.Minute).Unix(),
		"exp": now.Add(9 * time.Minute).Unix(),
		"iss": appID,
	})
	if err != nil {
		return "", err
	}
	signing := hdr + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

type tokenSource interface {
	token(ctx context.Context) (string, error)
	// invalidate drops a token GitHub refused, so the next call mints one.
	invalidate(tok string)
}

type staticToken string

func (s staticToken) token(context.Context) (string, error) { return string(s), nil }

func (staticToken) invalidate(string) {}

// installationTokens mints and caches installation tokens.
type installationTokens struct {
	app     AppAuth
	baseURL string
	hc      *http.Client
	clock   Clock
	count   *atomic.Int64

	mu      sync.Mutex
	current string
	expires time.Time
}

// refreshBefore is how long before expiry a token is replaced.
const refreshBefore = 5 * time.Minute

func (s *installationTokens) token(ctx context.Context) (string, error) {
	const op = "githubx.installationToken"
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if s.current != "" && now.Before(s.expires.Add(-refreshBefore)) {
		return s.current, nil
	}
	jwt, err := signAppJWT(s.app.AppID, s.app.PrivateKey, now)
	if err != nil {
		return "", &Error{Op: op, Err: fmt.Errorf("sign jwt: %v: %w", err, ErrUnauthorized)}
	}
	u := s.baseURL + "app/installations/" + strconv.FormatInt(s.app.InstallationID, 10) + "/access_tokens"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader("{}"))
	if err != nil {
		return "", &Error{Op: op, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+jwt)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return "", &Error{Op: op, Err: err}
	}
	defer resp.Body.Close()
	var body struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
		Message   string    `json:"message"`
	}
	_ = json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&body)
	if resp.StatusCode != http.StatusCreated || body.Token == "" {
		cause := ErrUnauthorized
		if resp.StatusCode >= 500 {
			cause = ErrUnavailable
		}
		return "", &Error{Op: op, StatusCode: resp.StatusCode, Message: body.Message, Err: cause}
	}
	s.current, s.expires = body.Token, body.ExpiresAt
	s.count.Add(1)
	return s.current, nil
}

func (s *installationTokens) invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == tok {
		s.current = ""
	}
}

// authTransport adds the Authorization header to each request.
type authTransport struct {
	next http.RoundTripper
	src  tokenSource
}

func (a *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := a.src.token(req.Context())
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	resp, err := a.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		a.src.invalidate(tok) // revoked or expired early: mint anew next time
	}
	return resp, err
}
