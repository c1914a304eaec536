package testenv

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// Backend names, as TFPILOT_TEST_REQUIRE spells them.
const (
	Postgres = "postgres"
	S3       = "s3"
	// Docker is the container image and compose tests
	// (internal/composetest): a Docker engine, docker-compose and a
	// Go build image, which scripts/test-containers provides.
	Docker = "docker"
)

// Provider names, as TFPILOT_TEST_PROVIDER spells them.
const (
	ProviderEnv        = "env"
	ProviderContainers = "containers"
	ProviderHost       = "host"
)

// Required reports whether TFPILOT_TEST_REQUIRE names backend.
func Required(backend string) bool {
	return slices.Contains(splitList(os.Getenv("TFPILOT_TEST_REQUIRE")), backend)
}

// ForcedProvider returns TFPILOT_TEST_PROVIDER, or "" when any provider
// may be used.
func ForcedProvider() string { return strings.TrimSpace(os.Getenv("TFPILOT_TEST_PROVIDER")) }

// Allowed reports whether provider may be tried.
func Allowed(provider string) bool {
	f := ForcedProvider()
	return f == "" || f == provider
}

// Unavailable ends t because backend could not be provided: a failure
// when the backend is required, a skip otherwise. why says what was
// tried.
func Unavailable(t testing.TB, backend, why string) {
	t.Helper()
	if Required(backend) {
		t.Fatalf("%s backend required by TFPILOT_TEST_REQUIRE but unavailable: %s", backend, why)
	}
	t.Skipf("%s backend unavailable, skipping (set TFPILOT_TEST_REQUIRE=%s to fail instead): %s", backend, backend, why)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
