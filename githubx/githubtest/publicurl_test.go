package githubtest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot/githubx/githubtest"
)

// TestPublicURL_LinksInAnswersPointThere protects what the standalone
// fake in a container relies on: with Options.PublicURL set, the links
// inside answers (object URLs, contents' download_url) name that
// address, which other machines reach, and not the fake's own loopback
// server, which only its own container can.
func TestPublicURL_LinksInAnswersPointThere(t *testing.T) {
	t.Parallel()
	const public = "http://fake-github:8090"
	f, _ := newFake(t, githubtest.Options{PublicURL: public + "/"})
	for _, path := range []string{"/repos/acme/infra", "/repos/acme/infra/contents/envs/dev/main.tf?ref=main"} {
		a := call(t, f, "GET", path, nil)
		if a.status != 200 {
			t.Fatalf("GET %s: %d %s", path, a.status, a.body)
		}
		var m map[string]any
		if err := json.Unmarshal(a.body, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"url", "html_url", "download_url"} {
			v, ok := m[k].(string)
			if !ok {
				continue
			}
			if !strings.HasPrefix(v, public+"/") {
				t.Errorf("GET %s: %s = %q, want a link under %s", path, k, v, public)
			}
		}
	}
}
