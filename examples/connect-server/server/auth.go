package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

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

func (a authInterceptor) authenticate(ctx context.Context, h http.Header) (context.Context, error) {
	const prefix = "bearer "
	v := h.Get("Authorization")
	if len(v) <= len(prefix) || !strings.EqualFold(v[:len(prefix)], prefix) {
		return nil, unauthenticated()
	}
	p, ok := a.tokens.Lookup(strings.TrimSpace(v[len(prefix):]))
	if !ok {
		return nil, unauthenticated()
	}
	setLogAttr(ctx, "login", p.Login)
	return context.WithValue(ctx, principalKey{}, p), nil
}

func unauthenticated() error {
	err := connect.NewError(connect.CodeUnauthenticated, errUnauthenticated)
	err.Meta().Set("WWW-Authenticate", `Bearer realm="tfpilot"`)
	return err
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
