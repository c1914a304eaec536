package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/pgstore"
)

// messyRequestDoc has, at every depth, what a Node.js app and hand
// edits leave: unknown fields inside attempts, idempotency marks, the
// lock, the pr and the approval; numbers written as strings; a config
// stored as a JSON string; epoch and empty times; 1e+21; U+0000 and a
// lone surrogate.
const messyRequestDoc = `{"id":"req-m","project":"Payments","environment":"dev","module":"s3","version":"5",
 "config":"{\"bucket\":\"m\",\"big\":1e+21}","receivedAt":1709294400000,"updatedAt":"",
 "pr":{"number":"12","open":true,"merged":false,"title":"legacy","labels":["x"]},
 "approval":{"approved":true,"approvers":["bob"],"requiredApprovals":2,"comment":"ok"},
 "lock":{"holder":"alice","operation":"plan","acquiredAt":"not-a-date","expiresAt":"2020-01-01T00:00:00.000Z","pid":4711},
 "idempotency":{"plan":{"key":"k1","at":"","clientIp":"10.0.0.1"}},
 "runs":{"plan":{"currentAttempt":"1","lastSyncedAt":"2024-03-01T12:00:00.000Z","attempts":[
   {"attempt":1,"runId":"77","status":"completed","conclusion":"success","dispatchedAt":"not-a-date","completedAt":"",
    "logsUrl":"https://x","steps":[{"name":"init","ms":1e+21}],"note":"nul \u0000 and lone \ud800"}]},
  "apply":{"currentAttempt":0,"attempts":[]},"destroy":{"currentAttempt":0,"attempts":[]}},
 "status":"plan_ready","portal":{"deep":{"deeper":[1,2.50,"\u00e9"]}}}`

// messyEventDoc is an event with extra fields and strings PostgreSQL's
// JSONB refuses as written (U+0000, a lone surrogate).
const messyEventDoc = `{"requestId":"req-m","event":"request_created","ip":"10.0.0.1","extra":{"k":[1,2.50]},` +
	`"data":{"note":"nul \u0000 and lone \ud800"}}`

// messyDeliveryDoc is a delivery a Node.js app and GitHub's headers
// left: legacy time fields and extras at depth, a number JSONB would
// rewrite.
const messyDeliveryDoc = `{"deliveryId":"d-m","event":"pull_request","state":"completed","receivedAt":1709294400000,` +
	`"processedAt":"2024-03-01T12:00:01.000Z","outcome":"ok","hookId":1e+21,"headers":{"X-GitHub-Hook-ID":"42"},"note":"\u0000"}`

// messyObjects is the bucket: key → body, with the fate each must get.
var messyObjects = []struct {
	key, body string
	fate      store.Fate
}{
	{"requests/req-m.json", messyRequestDoc, store.FateCopy},
	{"requests/req-m.bak.json", `{"id":"req-m","project":"p","environment":"dev","module":"s3","version":1}`, store.FateSkip},
	{"requests/req-m.json.bak", `{"id":"req-m"}`, store.FateSkip},
	{"requests/2024/req-old.json", `{"id":"req-old"}`, store.FateSkip},
	{"requests/req-bom.json", "\xEF\xBB\xBF" + `{"id":"req-bom","project":"p","environment":"dev","module":"m","version":1}`, store.FateCopy},
	{"requests/req-empty.json", ``, store.FateQuarantine},
	{"requests/req-html.json", `<html>502 Bad Gateway</html>`, store.FateQuarantine},
	{"history/req-m.json", `{"id":"req-m","project":"p","environment":"dev","module":"s3","version":9}`, store.FateSkip},
	{"history/req-gone.json", `{"id":"req-gone","project":"p","environment":"dev","module":"s3","version":"2","receivedAt":"2024-01-01T00:00:00.000Z","updatedAt":""}`, store.FateCopy},
	{"logs/req-m/2024-03-01T12-00-00-000Z.json", messyEventDoc, store.FateCopy},
	{"logs/req-m/sub/x.json", `{"event":"x"}`, store.FateSkip},
	{"logs/req-m/2024-03-01T12:05:00.000Z.json", ``, store.FateQuarantine},
	{"webhooks/github/run-index/plan/run-77.json", `{"requestId":"req-m"}`, store.FateCopy},
	{"webhooks/github/run-index/plan/run-undefined.json", `{"requestId":"req-m"}`, store.FateSkip},
	{"webhooks/github/run-index/drift/run-9.json", `{"requestId":"req-m"}`, store.FateSkip},
	{"webhooks/github/pr-index/acme_infra/pr-undefined.json", `{"requestId":"req-m"}`, store.FateSkip},
	{"webhooks/github/deliveries/d-m.json", messyDeliveryDoc, store.FateCopy},
	{"webhooks/github/ratelimit/global.json", `{"until":1}`, store.FateSkip},
	{"cost/req-m/infracost-cost.json", `{"total":"1.00"}`, store.FateCopy},
	{"cost/req-m/notes.txt", `x`, store.FateSkip},
	{"backup.tar.gz", `x`, store.FateSkip},
}

// TestCopy_MessyBucketEveryObjectNamedNothingLost copies a bucket written
// the way the original app wrote it (raw PutObject), debris included,
// into PostgreSQL: the copy runs to the end, names every object it did
// not copy in its report (quarantined with the problem, skipped with
// the reason), keeps every stored value of the copied documents as
// written, and a second run writes nothing.
func TestCopy_MessyBucketEveryObjectNamedNothingLost(t *testing.T) {
	b := testenv.NewS3(t)
	dsn := testenv.PostgresDSN(t)
	t.Setenv("AWS_ACCESS_KEY_ID", b.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", b.SecretKey)
	t.Setenv("AWS_REGION", b.Region)
	for _, o := range messyObjects {
		if _, err := b.Client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(b.Prefix + o.key), Body: strings.NewReader(o.body)}); err != nil {
			t.Fatal(err)
		}
	}
	from := "s3://" + b.Bucket + "/" + b.Prefix
	s3flags := []string{"--s3-endpoint", b.Endpoint, "--s3-path-style"}
	report := filepath.Join(t.TempDir(), "report.json")

	code, out, errOut := runCmd(t, append([]string{"copy", "--from", from, "--to", dsn, "--report", report}, s3flags...)...)
	if code != exitFindings || !strings.Contains(out, "3 quarantined") {
		t.Fatalf("copy: exit %d (want %d: quarantined objects)\n%s%s", code, exitFindings, out, errOut)
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep copyReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	named := map[string]store.Fate{}
	for _, f := range append(append(rep.Quarantined, rep.Skipped...), rep.Lenient...) {
		named[strings.TrimPrefix(f.Object, b.Prefix)] = f.Fate
		if f.Fate != store.FateCopy && f.Reason == "" {
			t.Errorf("%s: %s without a reason", f.Object, f.Fate)
		}
	}
	for _, o := range messyObjects {
		got, ok := named[o.key]
		switch {
		case o.fate != store.FateCopy && got != o.fate:
			t.Errorf("%s: reported %q, want %s", o.key, got, o.fate)
		case o.fate == store.FateCopy && ok && got != store.FateCopy:
			t.Errorf("%s: reported %s, want it copied", o.key, got)
		}
	}

	// Every stored value of the copied request, at every depth, as
	// written.
	s, err := pgstore.Open(t.Context(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.GetRequest(t.Context(), "req-m")
	if err != nil {
		t.Fatal(err)
	}
	gotJSON, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameValues("", []byte(messyRequestDoc), gotJSON, map[string]bool{"version": true, "status": true}); err != nil {
		t.Errorf("copied request lost a value: %v\ncopied: %s", err, gotJSON)
	}
	// Extra fields of an event survive too, and the dashed time in its
	// key is its time.
	evs, err := s.ListEvents(t.Context(), "req-m")
	if err != nil || len(evs) != 1 {
		t.Fatalf("events of req-m: %v, %v", evs, err)
	}
	if u := evs[0].UnknownFields(); string(u["extra"]) != `{"k":[1,2.50]}` || string(u["ip"]) != `"10.0.0.1"` ||
		!evs[0].Timestamp.Equal(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("copied event: %+v, unknown fields %s", evs[0], u)
	}
	// Its strings read back byte for byte, U+0000 and the lone
	// surrogate included.
	if evJSON, err := json.Marshal(evs[0]); err != nil || sameValues("", []byte(messyEventDoc), evJSON, nil) != nil {
		t.Errorf("copied event lost a value: %v %v\ncopied: %s", err, sameValues("", []byte(messyEventDoc), evJSON, nil), evJSON)
	}
	// A delivery's fields tfpilot.Delivery does not model survive, and
	// its times are read from the legacy fields.
	d, err := s.GetDelivery(t.Context(), "d-m")
	if err != nil {
		t.Fatalf("delivery d-m not copied: %v", err)
	}
	dJSON, err := json.Marshal(d)
	if err != nil || sameValues("", []byte(messyDeliveryDoc), dJSON, nil) != nil ||
		!d.ClaimedAt.Equal(time.UnixMilli(1709294400000)) || !d.CompletedAt.Equal(time.Date(2024, 3, 1, 12, 0, 1, 0, time.UTC)) {
		t.Errorf("copied delivery lost a value: %v %v\ncopied: %+v %s", err, sameValues("", []byte(messyDeliveryDoc), dJSON, nil), d, dJSON)
	}
	for _, id := range []string{"req-bom"} {
		if _, err := s.GetRequest(t.Context(), id); err != nil {
			t.Errorf("%s not copied: %v", id, err)
		}
	}
	if _, err := s.GetArchivedRequest(t.Context(), "req-gone"); err != nil {
		t.Errorf("req-gone not copied to history: %v", err)
	}

	code, out, errOut = runCmd(t, append([]string{"copy", "--from", from, "--to", dsn}, s3flags...)...)
	if code != exitFindings || !strings.Contains(out, " 0 written") {
		t.Errorf("second copy: exit %d, want %d and nothing written\n%s%s", code, exitFindings, out, errOut)
	}
	// Events and deliveries copied exactly: the second copy finds them
	// identical.
	for _, kind := range []string{"event", "delivery", "request", "archived_request"} {
		if strings.Contains(out, "conflict: "+kind) || strings.Contains(out, "mismatch: "+kind) {
			t.Errorf("second copy reports a %s differing\n%s", kind, out)
		}
	}

	// The inventory names the same fates in one pass, without a target.
	code, out, errOut = runCmd(t, append([]string{"plan", "--json", "--from", from}, s3flags...)...)
	if code != exitFindings || strings.Count(out, "\n") != len(messyObjects) || !strings.Contains(errOut, "3 quarantine") {
		t.Errorf("plan: exit %d, %d lines for %d objects\n%s%s", code, strings.Count(out, "\n"), len(messyObjects), out, errOut)
	}

	// Serving the bucket as is: the missing list index is detected, and
	// reindex builds it without stopping on the unreadable documents.
	src, closeSrc, err := openStore(t.Context(), from, &storeFlags{s3Endpoint: b.Endpoint, s3PathStyle: true, s3Concurrency: 4}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSrc()
	missing, err := src.(interface {
		ListIndexMissing(context.Context) (bool, error)
	}).ListIndexMissing(t.Context())
	if err != nil || !missing {
		t.Errorf("ListIndexMissing before reindex = %v, %v; want true", missing, err)
	}
	code, out, errOut = runCmd(t, append([]string{"reindex", "--store", from}, s3flags...)...)
	if code != exitFindings || !strings.Contains(out, "unlistable: requests/req-empty.json") || !strings.Contains(out, "unlistable: requests/req-html.json") {
		t.Errorf("reindex: exit %d\n%s%s", code, out, errOut)
	}
	page, err := src.ListRequests(t.Context(), tfpilot.ListQuery{})
	if err != nil || len(page.Requests) < 2 {
		t.Errorf("after reindex the bucket lists %d requests (%v)", len(page.Requests), err)
	}
}

// sameValues reports the first value of the JSON document in (top-level
// names in skip aside) that out does not hold as written, at any depth.
func sameValues(path string, in, out []byte, skip map[string]bool) error {
	in, out = bytes.TrimSpace(in), bytes.TrimSpace(out)
	switch {
	case len(in) > 0 && in[0] == '{':
		var a, b map[string]json.RawMessage
		if json.Unmarshal(in, &a) != nil || json.Unmarshal(out, &b) != nil {
			return fmt.Errorf("%s: stored %s, got %s", path, in, out)
		}
		for k, v := range a {
			if skip[k] {
				continue
			}
			w, ok := b[k]
			if !ok {
				return fmt.Errorf("%s.%s lost", path, k)
			}
			if err := sameValues(path+"."+k, v, w, nil); err != nil {
				return err
			}
		}
		return nil
	case len(in) > 0 && in[0] == '[':
		var a, b []json.RawMessage
		if json.Unmarshal(in, &a) != nil || json.Unmarshal(out, &b) != nil || len(a) != len(b) {
			return fmt.Errorf("%s: stored %s, got %s", path, in, out)
		}
		for i := range a {
			if err := sameValues(fmt.Sprintf("%s[%d]", path, i), a[i], b[i], nil); err != nil {
				return err
			}
		}
		return nil
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, in) != nil || json.Compact(&cb, out) != nil || !bytes.Equal(ca.Bytes(), cb.Bytes()) {
		return fmt.Errorf("%s: stored %s, got %s", path, in, out)
	}
	return nil
}
