package runs

import (
	"strings"
	"testing"
)

func TestParseRunName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, id, nonce string
		ok              bool
	}{
		{RunName("req-1", "n0nce"), "req-1", "n0nce", true},
		{"Plan: tfpilot req-1 abc (dev)", "req-1", "abc", true},
		{"tfpilot  req-1\tabc", "req-1", "abc", true},
		{"tfpilot req-1", "", "", false},
		{"Terraform plan", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		id, nonce, ok := ParseRunName(tt.name)
		if id != tt.id || nonce != tt.nonce || ok != tt.ok {
			t.Errorf("ParseRunName(%q) = %q, %q, %v", tt.name, id, nonce, ok)
		}
	}
}

func FuzzParseRunName(f *testing.F) {
	f.Add("req-1", "nonce")
	f.Add("a b", "")
	f.Fuzz(func(t *testing.T, id, nonce string) {
		got, n, ok := ParseRunName(RunName(id, nonce))
		simple := id != "" && nonce != "" && len(strings.Fields(id)) == 1 && len(strings.Fields(nonce)) == 1 &&
			strings.TrimSpace(id) == id && strings.TrimSpace(nonce) == nonce
		if simple && (!ok || got != id || n != nonce) {
			t.Fatalf("round trip of %q %q = %q %q %v", id, nonce, got, n, ok)
		}
	})
}
