package tfpilot_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/hclblocks"
	"github.com/tfpilot/tfpilot/store"
)

// requestIDRuleSeeds are ids on both sides of every clause of the rule.
var requestIDRuleSeeds = []string{
	"", "a", "req_7f3a9c21", "A-1.b_c", "-a", ".a", "_a", "a..b", "a.b", "a/b", "a b", "é", "a\x00",
	strings.Repeat("a", store.MaxRequestIDLen), strings.Repeat("a", store.MaxRequestIDLen+1),
}

// FuzzRequestIDRule_SameAsHCLMarkerIDs: one rule for request ids (issue
// 21). Package store may not import hclblocks, so it keeps the rule
// itself; a request id becomes hclblocks marker text, so the two must
// accept the same ids and describe a rejected one in the same words.
func FuzzRequestIDRule_SameAsHCLMarkerIDs(f *testing.F) {
	for _, id := range requestIDRuleSeeds {
		f.Add(id)
	}
	f.Fuzz(func(t *testing.T, id string) {
		serr, herr := store.ValidateRequestID(id), hclblocks.ValidateID(id)
		if (serr == nil) != (herr == nil) {
			t.Fatalf("ValidateRequestID(%q) = %v, hclblocks.ValidateID = %v", id, serr, herr)
		}
		if serr == nil {
			return
		}
		var ve *store.ValidationError
		if !errors.As(serr, &ve) || len(ve.Violations) != 1 {
			t.Fatalf("ValidateRequestID(%q) = %v, want one violation", id, serr)
		}
		want := strings.TrimPrefix(herr.Error(), hclblocks.ErrInvalidID.Error()+": ")
		if ve.Violations[0].Description != want {
			t.Fatalf("ValidateRequestID(%q) says %q, hclblocks says %q", id, ve.Violations[0].Description, want)
		}
	})
}

func TestMaxRequestIDLen_IsHCLMarkerLimit(t *testing.T) {
	if store.MaxRequestIDLen != hclblocks.MaxIDLen {
		t.Fatalf("store.MaxRequestIDLen = %d, hclblocks.MaxIDLen = %d", store.MaxRequestIDLen, hclblocks.MaxIDLen)
	}
}
