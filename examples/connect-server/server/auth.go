package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"

	"github.com/tfpilot/tfpilot"
)

// Token is a bearer token and the identity it authenticates.
type Token struct {
	// Token is the secret the client sends as "Authorization: Bearer
	// TOKEN". At least 16 characters.
	Token string `json:"token"`
	// Login is the identity's name, recorded as the actor of what it does.
	Login string `json:"login"`
	// Roles are the identity's roles: viewer, developer, approver, admin.
	Roles []tfpilot.Role `json:"roles"`
}

// MinTokenLength is the shortest token [NewTokens] accepts.
const MinTokenLength = 16

// Tokens authenticates bearer tokens. Only SHA-256 digests of the tokens
// are kept, and a lookup compares the presented token's digest with every
// entry in constant time. It is immutable and safe for concurrent use.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	digest    [sha256.Size]byte
	principal tfpilot.Principal
}

// NewTokens checks ts (logins and tokens non-empty, tokens long enough
// and distinct, roles known) and returns them ready for lookups. Problems
// are reported together in a [*tfpilot.ValidationError].
func NewTokens(ts []Token) (*Tokens, error) {
	var v tfpilot.ValidationError
	add := func(i int, field, format string, args ...any) {
		v.Violations = append(v.Violations, tfpilot.FieldViolation{
			Field: fmt.Sprintf("tokens[%d].%s", i, field), Description: fmt.Sprintf(format, args...)})
	}
	out := &Tokens{}
	seen := map[[sha256.Size]byte]bool{}
	for i, t := range ts {
		if strings.TrimSpace(t.Login) == "" {
			add(i, "login", "must not be empty")
		}
		if len(t.Token) < MinTokenLength {
			add(i, "token", "must be at least %d characters", MinTokenLength)
		}
		if len(t.Roles) == 0 {
			add(i, "roles", "must name at least one role")
		}
		for _, r := range t.Roles {
			switch r {
			case tfpilot.RoleViewer, tfpilot.RoleDeveloper, tfpilot.RoleApprover, tfpilot.RoleAdmin:
			default:
				add(i, "roles", "unknown role %q (viewer, developer, approver, admin)", r)
			}
		}
		d := sha256.Sum256([]byte(t.Token))
		if seen[d] {
			add(i, "token", "is the same as an earlier token")
		}
		seen[d] = true
		out.entries = append(out.entries, tokenEntry{digest: d, principal: tfpilot.Principal{Login: t.Login, Roles: append([]tfpilot.Role(nil), t.Roles...)}})
	}
	if len(v.Violations) > 0 {
		return nil, &v
	}
	return out, nil
}

// Lookup returns the principal of token. It looks at every entry whatever
// it finds, so its time does not depend on which entry matched.
func (t *Tokens) Lookup(token string) (tfpilot.Principal, bool) {
	if t == nil || token == "" {
		return tfpilot.Principal{}, false
	}
	d := sha256.Sum256([]byte(token))
	found := -1
	for i := range t.entries {
		if subtle.ConstantTimeCompare(d[:], t.entries[i].digest[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return tfpilot.Principal{}, false
	}
	return t.entries[found].principal, true
}

// ParseTokenList parses tokens written as comma-separated
// "login:role[+role...]:token" entries, the format of the TFPILOT_TOKENS
// environment variable, e.g. "alice:admin:0123456789abcdef0123".
func ParseTokenList(s string) ([]Token, error) {
	var out []Token
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		parts := strings.SplitN(entry, ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("token entry %d: want login:role[+role...]:token: %w", i, tfpilot.ErrInvalid)
		}
		var roles []tfpilot.Role
		for _, r := range strings.Split(parts[1], "+") {
			roles = append(roles, tfpilot.Role(strings.TrimSpace(r)))
		}
		out = append(out, Token{Login: parts[0], Roles: roles, Token: parts[2]})
	}
	return out, nil
}

// LoadTokenFile reads tokens from a JSON file of the form
//
//	{"tokens": [{"login": "alice", "roles": ["admin"], "token": "..."}]}
func LoadTokenFile(path string) ([]Token, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Tokens []Token `json:"tokens"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("token file %s: %w: %v", path, tfpilot.ErrInvalid, err)
	}
	return f.Tokens, nil
}

type principalKey struct{}

// PrincipalFrom returns the principal the auth interceptor attached to
// ctx.
func PrincipalFrom(ctx context.Context) (tfpilot.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(tfpilot.Principal)
	return p, ok
}

// errUnauthenticated is the only answer to a missing or wrong token: it
// does not say which.
var errUnauthenticated = errors.New("a valid bearer token is required")

// authInterceptor authenticates every call of the tfpilot services from
// its Authorization header and attaches the principal to the context.
type authInterceptor struct {
	tokens *Tokens
}

// fromHeader returns the principal of the bearer token in h.
func (t *Tokens) fromHeader(h http.Header) (tfpilot.Principal, bool) {
	const prefix = "bearer "
	v := h.Get("Authorization")
	if len(v) <= len(prefix) || !strings.EqualFold(v[:len(prefix)], prefix) {
		return tfpilot.Principal{}, false
	}
	return t.Lookup(strings.TrimSpace(v[len(prefix):]))
}

func (a authInterceptor) authenticate(ctx context.Context, h http.Header) (context.Context, error) {
	p, ok := a.tokens.fromHeader(h)
	if !ok {
		return nil, unauthenticated()
	}
	setLogAttr(ctx, "login", p.Login)
	return context.WithValue(ctx, principalKey{}, p), nil
}

// wwwAuthenticate is the challenge sent with UNAUTHENTICATED.
const wwwAuthenticate = `Bearer realm="tfpilot"`

// unauthenticated is the answer to a call without a valid token. The
// WWW-Authenticate challenge is not in its metadata: gRPC sends error
// metadata as trailers, where HTTP/2 forbids that header (net/http drops
// it with a logged warning); authFirst sends it as a response header,
// which every protocol allows.
func unauthenticated() *connect.Error {
	return withInfo(connect.NewError(connect.CodeUnauthenticated, errUnauthenticated), ReasonUnauthenticated, nil)
}

func (a authInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		ctx, err := a.authenticate(ctx, req.Header())
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (a authInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (a authInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := a.authenticate(ctx, conn.RequestHeader())
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

// authFirst answers an API call without a valid bearer token, or with a
// declared body over the limit, before anything reads its body: an
// unauthenticated caller costs no body buffer.
type authFirst struct {
	tokens  *Tokens
	maxBody int64
	errs    *connect.ErrorWriter
	watches *watchLimits
}

func (a authFirst) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := a.tokens.fromHeader(r.Header)
		if !ok {
			// The body stays unread; the server closes the connection
			// rather than drain a large one.
			w.Header().Set("WWW-Authenticate", wwwAuthenticate)
			_ = a.errs.Write(w, r, unauthenticated())
			return
		}
		if r.ContentLength > a.maxBody {
			tooLarge(w, fmt.Sprintf("request body of %d bytes is larger than the limit of %d bytes", r.ContentLength, a.maxBody))
			return
		}
		if r.ContentLength < 0 && unaryConnect(r.Header.Get("Content-Type")) {
			// No declared length (chunked): read the body, now that the
			// caller is authenticated, up to the limit, so that one over
			// it is the same 413 as a declared one rather than
			// connect's resource_exhausted (429).
			body, err := io.ReadAll(io.LimitReader(r.Body, a.maxBody+1))
			var mbe *http.MaxBytesError
			switch {
			case int64(len(body)) > a.maxBody || errors.As(err, &mbe):
				tooLarge(w, fmt.Sprintf("request body is larger than the limit of %d bytes", a.maxBody))
				return
			case err != nil:
				w.Header().Set("Connection", "close")
				http.Error(w, "reading the request body: "+err.Error(), http.StatusBadRequest)
				return
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		if a.watches != nil && strings.HasSuffix(r.URL.Path, "/Watch") {
			release, err := a.watches.open(p.Login)
			if err != nil {
				_ = a.errs.Write(w, r, err)
				return
			}
			defer release()
			ctx, cancel := context.WithTimeout(r.Context(), a.watches.lifetime)
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// unaryConnect reports whether contentType is the Connect protocol's
// unary one (application/json or application/proto, with parameters),
// whose body is one message the handler reads whole anyway. gRPC and
// streaming bodies are left to connect, which reports an oversized
// message in the protocol's own way.
func unaryConnect(contentType string) bool {
	ct, _, _ := strings.Cut(contentType, ";")
	ct = strings.ToLower(strings.TrimSpace(ct))
	return ct == "application/json" || ct == "application/proto"
}

// tooLarge answers 413 with msg.
func tooLarge(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	io.WriteString(w, msg+"\n")
}

// webhookGate bounds what unauthenticated webhook deliveries cost before
// the webhook handler verifies their signature: a delivery without a
// signature header is refused unread, a declared body over the limit is
// 413, at most inFlight bodies are read at once (more are 503 with
// Retry-After), and each body is capped at maxBody.
type webhookGate struct {
	next    http.Handler
	maxBody int64
	slots   chan struct{}
}

func newWebhookGate(next http.Handler, maxBody int64, inFlight int) *webhookGate {
	return &webhookGate{next: next, maxBody: maxBody, slots: make(chan struct{}, inFlight)}
}

func (g *webhookGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	plain := func(code int, msg string) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Connection", "close")
		w.WriteHeader(code)
		io.WriteString(w, msg+"\n")
	}
	if r.Header.Get("X-Hub-Signature-256") == "" {
		plain(http.StatusUnauthorized, "missing X-Hub-Signature-256")
		return
	}
	if r.ContentLength > g.maxBody {
		tooLarge(w, fmt.Sprintf("webhook body of %d bytes is larger than the limit of %d bytes", r.ContentLength, g.maxBody))
		return
	}
	select {
	case g.slots <- struct{}{}:
		defer func() { <-g.slots }()
	default:
		w.Header().Set("Retry-After", "1")
		plain(http.StatusServiceUnavailable, "too many webhook deliveries in flight")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, g.maxBody)
	g.next.ServeHTTP(w, r)
}

// watchLimits counts open Watch streams per principal and in total.
type watchLimits struct {
	perPrincipal, total int
	lifetime            time.Duration

	mu     sync.Mutex
	byUser map[string]int
	all    int
}

func newWatchLimits(perPrincipal, total int, lifetime time.Duration) *watchLimits {
	return &watchLimits{perPrincipal: perPrincipal, total: total, lifetime: lifetime, byUser: map[string]int{}}
}

// open counts a new stream of login, or refuses it with
// resource_exhausted; release uncounts it.
func (l *watchLimits) open(login string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.byUser[login] >= l.perPrincipal:
		return nil, withInfo(connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("%q has %d Watch streams open, the limit", login, l.perPrincipal)),
			ReasonTooManyStreams, nil)
	case l.all >= l.total:
		return nil, withInfo(connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("the server has %d Watch streams open, the limit", l.total)),
			ReasonTooManyStreams, nil)
	}
	l.byUser[login]++
	l.all++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.all--
		if l.byUser[login]--; l.byUser[login] == 0 {
			delete(l.byUser, login)
		}
	}, nil
}
