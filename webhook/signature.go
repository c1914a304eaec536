package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// SignatureHeader is the header GitHub signs deliveries in: "sha256="
// followed by the hex HMAC-SHA256 of the raw body under the webhook
// secret.
const SignatureHeader = "X-Hub-Signature-256"

// Signature verification errors, returned by [VerifySignature].
var (
	// ErrNoSignature: the delivery carries no X-Hub-Signature-256 value,
	// or one without the "sha256=" prefix.
	ErrNoSignature = errors.New("webhook: missing signature")
	// ErrBadSignature: the signature matches none of the secrets.
	ErrBadSignature = errors.New("webhook: signature mismatch")
)

const signaturePrefix = "sha256="

// Sign returns the X-Hub-Signature-256 value GitHub sends for body under
// secret. Tests and simulators use it to sign deliveries.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks header, an X-Hub-Signature-256 value, against
// the HMAC-SHA256 of body under each of secrets (several secrets let a
// secret be rotated without dropping deliveries). The comparison is in
// constant time. It returns nil on a match, else an error wrapping
// [ErrNoSignature] or [ErrBadSignature]. An empty secret never matches.
func VerifySignature(secrets [][]byte, header string, body []byte) error {
	hexSig, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok || hexSig == "" {
		return ErrNoSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return ErrBadSignature
	}
	match := false
	for _, s := range secrets {
		if len(s) == 0 {
			continue
		}
		m := hmac.New(sha256.New, s)
		m.Write(body)
		// Every secret is tried, so the time taken does not say which
		// one matched.
		if hmac.Equal(m.Sum(nil), got) {
			match = true
		}
	}
	if !match {
		return ErrBadSignature
	}
	return nil
}
