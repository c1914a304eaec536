package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/store/memstore"
)

// chunkedPost posts body without a Content-Length (chunked transfer
// encoding) and returns the answer.
func chunkedPost(t *testing.T, url, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", url, io.NopCloser(strings.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	req.TransferEncoding = []string{"chunked"}
	return send(t, req, hdr)
}

// TestHTTP_ChunkedOversizedBodyIs413NamingTheLimit: a body without a
// declared length that grows past MaxBodyBytes is answered 413 naming the
// limit, as a declared one is, not resource_exhausted (429); a small
// chunked call still works.
func TestHTTP_ChunkedOversizedBodyIs413NamingTheLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memstore.New(nil), envOptions{})
	hdr := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + adminToken}
	big := `{"project":"payments","environment":"dev","module":"s3_bucket","config":{"bucket":"` + strings.Repeat("a", 2<<20) + `"}}`
	res, body := chunkedPost(t, e.url+"/tfpilot.v1.RequestService/Create", big, hdr)
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "1048576 bytes") {
		t.Errorf("a 2 MiB chunked body was answered %d %s; want 413 naming the limit", res.StatusCode, body[:min(len(body), 200)])
	}
	res, body = chunkedPost(t, e.url+"/tfpilot.v1.RequestService/Get", `{"id":"req-none"}`, hdr)
	if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "not_found") {
		t.Errorf("a small chunked Get was answered %d %s; want 404 not_found", res.StatusCode, body)
	}
}
