package s3store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/store"
)

// messyObject is one object of a bucket as a Node.js app and its
// operators really leave it, with the fate a migration must give it.
type messyObject struct {
	key, body string
	fate      store.Fate
	why       string // substring of the reason (and field) reported
}

var messyBucket = []messyObject{
	{"requests/req_a.json", `{"id":"req_a","project":"Payments","environment":"dev","module":"s3","version":"4","receivedAt":1709294400000,"updatedAt":"","config":"{\"bucket\":\"a\"}","pr":{"number":"12","open":true,"merged":false},"runs":{"plan":{"currentAttempt":"1","attempts":[{"attempt":1,"runId":"77","status":"completed","dispatchedAt":"not-a-date","completedAt":"","stepsUrl":"x"}]}}}`, store.FateCopy, "read leniently"},
	{"requests/req_a.bak.json", `{"id":"req_a","project":"payments","environment":"dev","module":"s3","version":1}`, store.FateSkip, "canonical key wins"},
	{"requests/req_a.json.bak", `{"id":"req_a"}`, store.FateSkip, "not a .json key"},
	{"requests/2024/req_b.json", `{"id":"req_b"}`, store.FateSkip, "sub-folder"},
	{"requests/req_bom.json", "\xEF\xBB\xBF" + `{"id":"req_bom","project":"p","environment":"dev","module":"m","version":1}`, store.FateCopy, "byte-order mark"},
	{"requests/req_empty.json", ``, store.FateQuarantine, "empty object"},
	{"requests/req_html.json", `<html>oops</html>`, store.FateQuarantine, "not JSON"},
	{"requests/req_noid.json", `{"project":"p"}`, store.FateQuarantine, "id"},
	{"requests/req_moved.json", `{"id":"req_elsewhere","project":"p","environment":"dev","module":"m","version":1}`, store.FateCopy, "non-canonical key"},
	{"history/req_a.json", `{"id":"req_a","project":"payments","environment":"dev","module":"s3","version":9}`, store.FateSkip, "live beats archived"},
	{"history/req_gone.old.json", `{"id":"req_gone","version":1}`, store.FateSkip, "canonical key wins"},
	{"history/req_gone.json", `{"id":"req_gone","version":2,"receivedAt":""}`, store.FateCopy, "empty timestamp"},
	{"logs/req_a/2024-03-01T12-00-00-000Z.json", `{"requestId":"req_a","event":"request_created","extra":{"k":1}}`, store.FateCopy, ""},
	{"logs/req_a/sub/2024-03-01T12:00:00.000Z.json", `{"event":"x"}`, store.FateSkip, "sub-folder"},
	{"logs/req_a/2024-03-01T12:01:00.000Z.json", ``, store.FateQuarantine, "empty object"},
	{"logs/readme.txt", `hello`, store.FateSkip, ""},
	{"webhooks/github/run-index/plan/run-undefined.json", `{"requestId":"req_a"}`, store.FateSkip, "not a number"},
	{"webhooks/github/run-index/drift/run-5.json", `{"requestId":"req_a"}`, store.FateSkip, "none of plan"},
	{"webhooks/github/run-index/plan/run-77.json", `{"requestId":"req_a"}`, store.FateCopy, ""},
	{"webhooks/github/run-index/apply/run-78.json", `{}`, store.FateQuarantine, "requestId"},
	{"webhooks/github/pr-index/acme_infra/pr-undefined.json", `{"requestId":"req_a"}`, store.FateSkip, "pr-<number>"},
	{"webhooks/github/pr-index/acme_infra/pr-12.json", `{"requestId":"req_a"}`, store.FateCopy, ""},
	{"webhooks/github/deliveries/d-1.json", `{"event":"ping"}`, store.FateCopy, ""},
	{"webhooks/github/ratelimit/global.json", `{"until":1}`, store.FateSkip, "rate-limit"},
	{"cost/req_a/infracost-cost.json", `{"total":"1"}`, store.FateCopy, ""},
	{"cost/req_a/plan.txt", `text`, store.FateSkip, "infracost"},
	{"cost/req_a/old/infracost-cost.json", `{}`, store.FateSkip, "infracost"},
	{"terraform.tfstate", `{}`, store.FateSkip, "outside the TfPilot layout"},
}

// TestExportFates_EveryObjectOfAMessyBucketGetsOneNamedFate: one pass
// over every kind and the rest of the bucket names, for every object,
// exactly one fate (copy, skip with the reason, quarantine with the
// field and problem), and never stops on one object.
func TestExportFates_EveryObjectOfAMessyBucketGetsOneNamedFate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, o := range messyBucket {
		e.putRaw(t, o.key, o.body)
	}
	got := map[string][]store.ObjectFate{}
	collect := func(f store.ObjectFate) error {
		key := strings.TrimPrefix(f.Object, e.b.Prefix)
		got[key] = append(got[key], f)
		return nil
	}
	var events []store.Event
	for _, kind := range store.ItemKinds() {
		err := e.ExportFates(ctx, kind, func(it store.Item) error {
			if it.Event != nil {
				events = append(events, *it.Event)
			}
			return nil
		}, collect)
		if err != nil {
			t.Fatalf("ExportFates(%s) stopped: %v", kind, err)
		}
	}
	if err := e.OtherObjects(ctx, collect); err != nil {
		t.Fatal(err)
	}
	for _, o := range messyBucket {
		fs := got[o.key]
		if len(fs) != 1 {
			t.Errorf("%s: %d fates %v, want exactly one", o.key, len(fs), fs)
			continue
		}
		f := fs[0]
		why := f.Field + ": " + f.Reason
		if f.Fate != o.fate || !strings.Contains(why, o.why) {
			t.Errorf("%s: fate %s (%s), want %s mentioning %q", o.key, f.Fate, why, o.fate, o.why)
		}
		if f.Fate != store.FateCopy && f.Reason == "" {
			t.Errorf("%s: %s without a reason", o.key, f.Fate)
		}
	}
	if len(got) != len(messyBucket) {
		t.Errorf("%d objects have fates, %d were written", len(got), len(messyBucket))
	}
	// An event key with dashes in the time reads as that time, not the
	// object's upload time.
	want := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	if len(events) != 1 || !events[0].Timestamp.Equal(want) {
		t.Errorf("events %+v, want one at %s", events, want)
	}
}
