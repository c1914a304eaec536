package githubtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// handleAppToken mints an installation token for a JWT signed by the
// configured App's key, as POST /app/installations/{id}/access_tokens does.
func (f *Fake) handleAppToken(w http.ResponseWriter, r *http.Request) {
	app := f.opts.App
	if app == nil || app.PublicKey == nil {
		errNotFound(w)
		return
	}
	jwt, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		writeJSON(w, http.StatusUnauthorized, apiError("A JSON web token could not be decoded"))
		return
	}
	if msg := verifyAppJWT(jwt, app, f.clock.Now()); msg != "" {
		writeJSON(w, http.StatusUnauthorized, apiError(msg))
		return
	}
	if r.PathValue("installation_id") != strconv.FormatInt(app.InstallationID, 10) {
		errNotFound(w)
		return
	}
	ttl := app.TokenTTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	var b [20]byte
	_, _ = rand.Read(b[:])
	tok := installationTokenPrefix + hex.EncodeToString(b[:])
	exp := f.clock.Now().Add(ttl)
	f.locked(w, func() answer {
		f.appTokens[tok] = exp
		return jsonAnswer(http.StatusCreated, map[string]any{
			"token": tok, "expires_at": exp.UTC().Format(time.RFC3339),
			"permissions":          map[string]string{"contents": "write", "pull_requests": "write", "actions": "write"},
			"repository_selection": "all",
		})
	})
}

// verifyAppJWT checks an App's JWT as GitHub does and returns GitHub's
// message for the first thing wrong with it, or "" when it is valid. The
// messages are GitHub's (capitalised, for the HTTP body), hence not Go
// errors.
func verifyAppJWT(jwt string, app *App, now time.Time) (refusal string) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "A JSON web token could not be decoded"
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil || hdr.Alg != "RS256" {
		return "A JSON web token could not be decoded"
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "A JSON web token could not be decoded"
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(app.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return "A JSON web token could not be decoded"
	}
	var claims struct {
		Iat int64           `json:"iat"`
		Exp int64           `json:"exp"`
		Iss json.RawMessage `json:"iss"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return "A JSON web token could not be decoded"
	}
	iss := strings.Trim(string(claims.Iss), `"`)
	if iss != strconv.FormatInt(app.ID, 10) {
		return "'Issuer' claim ('iss') must be an Integer"
	}
	if now.Unix() >= claims.Exp {
		return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	}
	if claims.Exp-now.Unix() > 11*60 {
		return "'Expiration time' claim ('exp') is too far in the future"
	}
	if claims.Iat > now.Unix()+60 {
		return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	}
	return ""
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// RevokeTokens invalidates every installation token minted so far, as
// uninstalling or rotating an App would.
func (f *Fake) RevokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for tok := range f.appTokens {
		f.appTokens[tok] = time.Time{}
	}
}
