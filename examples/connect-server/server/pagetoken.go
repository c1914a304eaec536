package server

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/tfpilot/tfpilot"
	pb "github.com/tfpilot/tfpilot/gen/tfpilot/v1"
)

// A List page token is the engine's cursor bound to the filters of the
// call that produced it: "<digest>.<cursor>", the digest being of the
// ListRequest without its page_token and page_size (which may change
// from page to page). A token reused with other filters, or not made by
// the server, is INVALID_ARGUMENT rather than a silently wrong page.

// listFilterDigest is the digest of m's filters.
func listFilterDigest(m *pb.ListRequest) string {
	f := proto.Clone(m).(*pb.ListRequest)
	f.PageToken, f.PageSize = "", 0
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(f)
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// bindPageToken returns the page token of the engine's cursor for the
// call m ("" for none).
func bindPageToken(m *pb.ListRequest, cursor string) string {
	if cursor == "" {
		return ""
	}
	return listFilterDigest(m) + "." + cursor
}

// unbindPageToken returns the engine's cursor of m's page token, or
// INVALID_ARGUMENT when the token was made for other filters.
func unbindPageToken(m *pb.ListRequest) (string, error) {
	token := m.GetPageToken()
	if token == "" {
		return "", nil
	}
	digest, cursor, ok := strings.Cut(token, ".")
	if !ok || cursor == "" || digest != listFilterDigest(m) {
		return "", invalidArgument("invalid page token", tfpilot.FieldViolation{Field: "page_token",
			Description: "is not a next_page_token of an earlier answer with the same filters"})
	}
	return cursor, nil
}
