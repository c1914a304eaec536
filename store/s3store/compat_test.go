package s3store_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// legacyBucket is a bucket as the original TfPilot left it, key by key
// (seed 000's map of prefixes), written with raw PutObject calls.
var legacyBucket = map[string]string{
	// requests/<id>.json: the seed request (legacy planRun, prNumber,
	// status, templateId, ...) is added from testdata; this one is older,
	// sparse, and carries fields no version of tfpilot models.
	"requests/req_legacy2.json": `{"id":"req_legacy2","project":"search","environment":"prod","module":"rds",
		"receivedAt":"2025-05-01T08:00:00.000Z","updatedAt":"2025-05-02T08:00:00.000Z","version":3,
		"status":"applied","pullRequest":{"number":7},"runs":{"plan":{"currentAttempt":0,"attempts":[]}},
		"customerNote":{"text":"keep me","tags":["a","b"]}}`,
	"history/req_old.json": `{"id":"req_old","project":"search","environment":"dev","module":"sqs","version":12,"status":"destroyed"}`,
	// logs/<id>/<ts>.json with the original's ISO timestamps as names.
	"logs/req_7f3a9c21/2025-06-01T10:00:00.000Z.json": `{"requestId":"req_7f3a9c21","event":"request_created","actor":"alice","source":"ui","timestamp":"2025-06-01T10:00:00.000Z"}`,
	"logs/req_7f3a9c21/2025-06-01T10:05:00.000Z.json": `{"requestId":"req_7f3a9c21","event":"plan_dispatched","actor":"alice","data":{"attempt":2}}`,
	// Indexes: a JSON object, a JSON string and plain text.
	"webhooks/github/run-index/plan/run-222.json":     `{"requestId":"req_7f3a9c21","kind":"plan","runId":222}`,
	"webhooks/github/run-index/apply/run-333.json":    `"req_legacy2"`,
	"webhooks/github/run-index/destroy/run-444.json":  "req_legacy2\n",
	"webhooks/github/pr-index/acme_infra/pr-118.json": `{"requestId":"req_7f3a9c21","prNumber":118}`,
	// A delivery the original recorded after handling it.
	"webhooks/github/deliveries/72d3162e-cc78-11e3-81ab-4c9367dc0958.json": `{"deliveryId":"72d3162e-cc78-11e3-81ab-4c9367dc0958","event":"workflow_run","recordedAt":"2025-06-01T10:07:00.000Z"}`,
	"webhooks/github/ratelimit/global.json":                                `{"until":1748772000000,"reason":"primary rate limit"}`,
	"cost/req_7f3a9c21/infracost-cost.json":                                `{"totalMonthlyCost":"12.40","currency":"USD"}`,
	"cost/req_7f3a9c21/infracost-diff.json":                                `{"diffTotalMonthlyCost":"12.40"}`,
}

func TestCompat_ReadsABucketTheOriginalSystemWrote(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	seed, err := os.ReadFile("../testdata/seed-request.json")
	if err != nil {
		t.Fatal(err)
	}
	e.putRaw(t, "requests/req_7f3a9c21.json", string(seed))
	for k, v := range legacyBucket {
		e.putRaw(t, k, v)
	}

	// Documents read as they are.
	r, err := e.GetRequest(ctx, "req_7f3a9c21")
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 7 || r.PR.Number != 118 || r.Runs.Plan.CurrentAttempt != 2 || r.UnknownFields()["templateId"] == nil {
		t.Fatalf("seed request read as %+v", r)
	}
	if old, err := e.GetArchivedRequest(ctx, "req_old"); err != nil || old.Version != 12 {
		t.Fatalf("history: %+v, %v", old, err)
	}

	// Requests written without the list index are listed after Reindex.
	if got := walk(t, e, store.ListQuery{}); len(got) != 0 {
		t.Fatalf("listed %v before Reindex; the original wrote no index", got)
	}
	res, err := e.Reindex(ctx)
	if err != nil || res.Requests != 2 || res.Added != 2 || len(res.Unlistable) != 0 {
		t.Fatalf("reindex: %+v, %v", res, err)
	}
	if got := walk(t, e, store.ListQuery{Limit: 1}); !slices.Equal(got, []string{"req_7f3a9c21", "req_legacy2"}) {
		t.Fatalf("listed %v", got)
	}
	// A status filter derives the status from the document's facts,
	// never from the status field the original stored (issue 13): it
	// says applied, but nothing was ever planned or applied.
	if got := walk(t, e, store.ListQuery{Project: "search", Statuses: []lifecycle.Status{lifecycle.Applied}}); len(got) != 0 {
		t.Fatalf("applied lists %v, want none: the original's stored status is not a fact", got)
	}
	if got := walk(t, e, store.ListQuery{Project: "search", Statuses: []lifecycle.Status{lifecycle.RequestCreated}}); !slices.Equal(got, []string{"req_legacy2"}) {
		t.Fatalf("request_created lists %v, want the status its facts derive", got)
	}
	if res, err := e.Reindex(ctx); err != nil || res.Added != 0 {
		t.Fatalf("second reindex: %+v, %v", res, err)
	}

	// An update keeps every field the original wrote.
	next := r.Clone()
	next.Approval.Approved = true
	if got, err := e.UpdateRequest(ctx, next); err != nil || got.Version != 8 {
		t.Fatalf("update: %+v, %v", got, err)
	}
	raw := e.getRaw(t, "requests/req_7f3a9c21.json")
	for _, path := range [][]string{{"templateId"}, {"assistantState", "summary"}, {"planRun", "runId"}, {"prNumber"}, {"pr", "title"}, {"approval", "requiredApprovals"}, {"runs", "plan", "lastSyncedAt"}} {
		if lookup(raw, path...) == nil {
			t.Errorf("update dropped %v", path)
		}
	}
	if lookup(raw, "approval", "approved") != true {
		t.Error("update not written")
	}
	legacy2, err := e.GetRequest(ctx, "req_legacy2")
	if err != nil {
		t.Fatal(err)
	}
	legacy2.Module = "rds-aurora"
	if _, err := e.UpdateRequest(ctx, legacy2); err != nil {
		t.Fatal(err)
	}
	if raw := e.getRaw(t, "requests/req_legacy2.json"); lookup(raw, "customerNote", "text") != "keep me" || lookup(raw, "pullRequest", "number") == nil {
		t.Errorf("update dropped unknown fields: %v", raw)
	}
	if got := walk(t, e, store.ListQuery{Statuses: []lifecycle.Status{lifecycle.RequestCreated}}); !slices.Equal(got, []string{"req_legacy2"}) {
		t.Errorf("after an update the status is derived again: filter lists %v", got)
	}
	if raw := e.getRaw(t, "requests/req_legacy2.json"); raw["status"] != "request_created" || raw["statusDerivedAt"] == nil {
		t.Errorf("update stored status %v at %v", raw["status"], raw["statusDerivedAt"])
	}

	// Indexes, in each body shape.
	for _, tt := range []struct {
		kind  runs.Kind
		runID int64
		want  string
	}{{runs.Plan, 222, "req_7f3a9c21"}, {runs.Apply, 333, "req_legacy2"}, {runs.Destroy, 444, "req_legacy2"}} {
		if id, err := e.LookupRun(ctx, tt.kind, tt.runID); err != nil || id != tt.want {
			t.Errorf("run %s/%d: %q, %v", tt.kind, tt.runID, id, err)
		}
	}
	if err := e.IndexRun(ctx, runs.Apply, 333, "req_legacy2"); err != nil {
		t.Errorf("re-indexing the original's mapping: %v", err)
	}
	if err := e.IndexRun(ctx, runs.Apply, 333, "req_7f3a9c21"); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("stealing the original's mapping: %v", err)
	}
	pr := store.PRRef{Owner: "acme", Repo: "infra", Number: 118}
	if id, err := e.LookupPR(ctx, pr); err != nil || id != "req_7f3a9c21" {
		t.Errorf("PR: %q, %v", id, err)
	}

	// A delivery the original handled is completed: it cannot be claimed
	// again or released.
	const guid = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
	d, err := e.GetDelivery(ctx, guid)
	if err != nil || d.Event != "workflow_run" || !d.CompletedAt.Equal(time.Date(2025, 6, 1, 10, 7, 0, 0, time.UTC)) {
		t.Errorf("delivery: %+v, %v", d, err)
	}
	if _, err := e.ClaimDelivery(ctx, guid, "workflow_run"); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("claiming a recorded delivery: %v", err)
	}
	if err := e.ReleaseDelivery(ctx, guid, d.ClaimedAt); !errors.Is(err, store.ErrConflict) {
		t.Errorf("releasing a recorded delivery: %v", err)
	}

	// Events: the original's and ours, in time order.
	if _, err := e.AppendEvent(ctx, store.Event{RequestID: "req_7f3a9c21", Event: "request_approved", Timestamp: time.Date(2025, 6, 1, 10, 3, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	evs, err := e.ListEvents(ctx, "req_7f3a9c21")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ev := range evs {
		names = append(names, ev.Event)
		if ev.ID == "" || ev.RequestID != "req_7f3a9c21" {
			t.Errorf("event %+v lacks id or request", ev)
		}
	}
	if !slices.Equal(names, []string{"request_created", "request_approved", "plan_dispatched"}) || evs[2].Data["attempt"] != float64(2) ||
		!evs[2].Timestamp.Equal(time.Date(2025, 6, 1, 10, 5, 0, 0, time.UTC)) {
		t.Errorf("events %+v", evs)
	}

	// Cost and rate limit.
	c, err := e.GetCost(ctx, "req_7f3a9c21")
	if err != nil || lookup(decode(t, c.Estimate), "totalMonthlyCost") != "12.40" || lookup(decode(t, c.Diff), "diffTotalMonthlyCost") != "12.40" {
		t.Errorf("cost: %+v, %v", c, err)
	}
	b, err := e.GetRateLimitBackoff(ctx, "global")
	if err != nil || !b.Until.Equal(time.UnixMilli(1748772000000)) || b.Reason != "primary rate limit" {
		t.Errorf("rate limit: %+v, %v", b, err)
	}

	// Archiving moves the document to where the original put it.
	cur, _ := e.GetRequest(ctx, "req_legacy2")
	if err := e.ArchiveRequest(ctx, "req_legacy2", cur.Version); err != nil {
		t.Fatal(err)
	}
	if e.exists(t, "requests/req_legacy2.json") || lookup(e.getRaw(t, "history/req_legacy2.json"), "customerNote", "text") != "keep me" {
		t.Error("archive did not move requests/req_legacy2.json to history/")
	}
}

func (e *env) getRaw(t *testing.T, key string) map[string]any {
	t.Helper()
	out, err := e.b.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(e.b.Bucket), Key: aws.String(e.key(key))})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, b)
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

// lookup follows path through nested objects; nil when absent.
func lookup(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		o, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = o[p]
	}
	return v
}
