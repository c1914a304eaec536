package migrate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/migrate"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// object is one S3 object of a bucket in the original TfPilot layout.
type object struct {
	Key  string
	Body string
}

// auditNow is when the legacy bucket is audited: a day after its
// requests were made, so that their locks have expired, except the one
// that runs to 2030.
var auditNow = time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)

// legacyRequest returns a request document as the original TfPilot wrote
// it: derived status stored, legacy duplicates (prNumber, prUrl), fields
// tfpilot does not model (templateId, assistantState, pr.title,
// runs.plan.lastSyncedAt), millisecond timestamps. extra fields replace
// or add top-level fields.
func legacyRequest(id string, pr int, plan, apply, destroy string, extra map[string]string) string {
	fields := map[string]string{
		"id":              strconv.Quote(id),
		"project":         `"payments"`,
		"environment":     `"dev"`,
		"module":          `"s3-bucket"`,
		"config":          fmt.Sprintf(`{"bucket_name": %q, "versioning": true, "tags": {"team": "core", "cost-center": 42}, "lifecycle_days": 30.5}`, id),
		"receivedAt":      `"2025-06-01T10:00:00.000Z"`,
		"updatedAt":       `"2025-06-01T10:07:12.345Z"`,
		"version":         "7",
		"status":          `"plan_ready"`,
		"statusDerivedAt": `"2025-06-01T10:07:12.345Z"`,
		"pr":              fmt.Sprintf(`{"number": %d, "url": "https://github.com/acme/infra/pull/%d", "open": true, "merged": false, "headSha": "9fceb02d0ae598e95dc970b74767f19372d61af8", "title": "tfpilot: s3-bucket %s"}`, pr, pr, id),
		"prNumber":        strconv.Itoa(pr),
		"prUrl":           fmt.Sprintf(`"https://github.com/acme/infra/pull/%d"`, pr),
		"branchName":      fmt.Sprintf(`"tfpilot/%s"`, id),
		"commitSha":       `"9fceb02d0ae598e95dc970b74767f19372d61af8"`,
		"targetOwner":     `"acme"`,
		"targetRepo":      `"infra"`,
		"targetBase":      `"main"`,
		"targetEnvPath":   `"envs/dev"`,
		"targetFiles":     `["envs/dev/tfpilot.tf"]`,
		"runs":            fmt.Sprintf(`{"plan": %s, "apply": %s, "destroy": %s}`, plan, apply, destroy),
		"approval":        `{"approved": true, "approvers": ["bob"], "requiredApprovals": 1}`,
		"idempotency":     `{"plan": {"key": "k-123", "at": "2025-06-01T10:05:00.000Z"}}`,
		"timeline":        `[{"step": "Plan", "status": "done", "at": "2025-06-01T10:07:00.000Z"}]`,
		"templateId":      `"tmpl-s3-standard"`,
		"assistantState":  `{"turns": 3, "summary": "bucket for reports <and> logs"}`,
	}
	if pr == 0 {
		delete(fields, "pr")
		delete(fields, "prNumber")
		delete(fields, "prUrl")
	}
	for k, v := range extra {
		if v == "" {
			delete(fields, k)
		} else {
			fields[k] = v
		}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("{\n")
	for i, k := range keys {
		fmt.Fprintf(&b, "  %q: %s", k, fields[k])
		if i < len(keys)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// attempt returns one attempt's JSON.
func attempt(n int, runID int64, status, conclusion, dispatched, completed string) string {
	a := fmt.Sprintf(`{"attempt": %d, "status": %q, "dispatchedAt": %q, "headSha": "9fceb02d0ae598e95dc970b74767f19372d61af8", "ref": "main", "actor": "alice"`, n, status, dispatched)
	if runID != 0 {
		a += fmt.Sprintf(`, "runId": %d, "url": "https://github.com/acme/infra/actions/runs/%d"`, runID, runID)
	}
	if conclusion != "" {
		a += fmt.Sprintf(`, "conclusion": %q`, conclusion)
	}
	if completed != "" {
		a += fmt.Sprintf(`, "completedAt": %q`, completed)
	}
	return a + "}"
}

func op(current int, attempts ...string) string {
	return fmt.Sprintf(`{"currentAttempt": %d, "attempts": [%s], "lastSyncedAt": "2025-06-01T10:07:12.345Z"}`, current, strings.Join(attempts, ", "))
}

const (
	t0   = "2025-06-01T10:00:05.000Z"
	t1   = "2025-06-01T10:02:00.000Z"
	t2   = "2025-06-01T10:05:00.000Z"
	t3   = "2025-06-01T10:07:00.000Z"
	noOp = `{"currentAttempt": 0, "attempts": []}`
)

func ok(n int, runID int64) string {
	return attempt(n, runID, runs.StatusCompleted, runs.ConclusionSuccess, t0, t1)
}

func runIndexEntry(kind runs.Kind, runID int64, requestID string) object {
	return object{
		Key:  fmt.Sprintf("webhooks/github/run-index/%s/run-%d.json", kind, runID),
		Body: fmt.Sprintf(`{"requestId": %q, "kind": %q, "runId": %d, "createdAt": "2025-06-01T10:00:06.000Z"}`, requestID, kind, runID),
	}
}

func prIndexEntry(n int, requestID string) object {
	return object{
		Key:  fmt.Sprintf("webhooks/github/pr-index/acme_infra/pr-%d.json", n),
		Body: fmt.Sprintf(`{"requestId": %q, "owner": "acme", "repo": "infra", "prNumber": %d}`, requestID, n),
	}
}

func event(requestID, ts, name string, data string) object {
	body := fmt.Sprintf(`{"requestId": %q, "event": %q, "actor": "alice", "source": "api", "timestamp": %q`, requestID, name, ts)
	if data != "" {
		body += `, "data": ` + data
	}
	return object{Key: fmt.Sprintf("logs/%s/%s.json", requestID, ts), Body: body + "}"}
}

// legacyBucket returns a bucket as the original TfPilot left it, with
// the violations of [plantedViolations] planted on purpose and nothing
// else wrong. Every request is indexed (runs and pull request) unless
// the point is that it is not.
func legacyBucket() []object {
	objs := []object{
		// A clean request, merged and applied.
		{"requests/req-ok.json", legacyRequest("req-ok", 101,
			op(2, attempt(1, 1001, runs.StatusCompleted, runs.ConclusionFailure, t0, t1), attempt(2, 1002, runs.StatusCompleted, runs.ConclusionSuccess, t2, t3)),
			op(1, ok(1, 2001)), noOp, map[string]string{"mergedSha": `"abcdef0123456789abcdef0123456789abcdef01"`})},
		runIndexEntry(runs.Plan, 1001, "req-ok"),
		runIndexEntry(runs.Plan, 1002, "req-ok"),
		runIndexEntry(runs.Apply, 2001, "req-ok"),
		prIndexEntry(101, "req-ok"),
		// Legacy top-level run state (INV-CORE-1), and its pull
		// request missing from the PR index.
		{"requests/req-legacy.json", legacyRequest("req-legacy", 102, op(1, ok(1, 1003)), op(1, ok(1, 2003)), noOp, map[string]string{
			"planRun":    `{"runId": 1003, "status": "completed", "conclusion": "success"}`,
			"applyRunId": "2003",
		})},
		runIndexEntry(runs.Plan, 1003, "req-legacy"),
		runIndexEntry(runs.Apply, 2003, "req-legacy"),
		// Attempt numbers with a gap (INV-CORE-3).
		{"requests/req-gap.json", legacyRequest("req-gap", 103, op(3, ok(1, 1004), ok(3, 1005)), noOp, noOp, nil)},
		runIndexEntry(runs.Plan, 1004, "req-gap"),
		runIndexEntry(runs.Plan, 1005, "req-gap"),
		prIndexEntry(103, "req-gap"),
		// A duplicate attempt number (INV-CORE-3).
		{"requests/req-dup.json", legacyRequest("req-dup", 104, op(1, ok(1, 1006)), op(1, ok(1, 2006), ok(1, 2007)), noOp, nil)},
		runIndexEntry(runs.Plan, 1006, "req-dup"),
		runIndexEntry(runs.Apply, 2006, "req-dup"),
		runIndexEntry(runs.Apply, 2007, "req-dup"),
		prIndexEntry(104, "req-dup"),
		// currentAttempt naming no attempt (INV-CORE-4).
		{"requests/req-current.json", legacyRequest("req-current", 105, op(1, ok(1, 1008)), op(1, ok(1, 2008)),
			op(2, attempt(1, 3008, runs.StatusInProgress, "", t2, "")), nil)},
		runIndexEntry(runs.Plan, 1008, "req-current"),
		runIndexEntry(runs.Apply, 2008, "req-current"),
		runIndexEntry(runs.Destroy, 3008, "req-current"),
		prIndexEntry(105, "req-current"),
		// completedAt on a running attempt, and before dispatch
		// (INV-COMP-1, twice).
		{"requests/req-completed.json", legacyRequest("req-completed", 106,
			op(1, attempt(1, 1009, runs.StatusInProgress, "", t0, t1)),
			op(1, attempt(1, 2009, runs.StatusCompleted, runs.ConclusionSuccess, t3, t2)), noOp, nil)},
		runIndexEntry(runs.Plan, 1009, "req-completed"),
		runIndexEntry(runs.Apply, 2009, "req-completed"),
		prIndexEntry(106, "req-completed"),
		// An expired lock, and a request with a lock still active.
		{"requests/req-locked.json", legacyRequest("req-locked", 0, noOp, noOp, noOp, map[string]string{
			"lock": `{"holder": "alice", "operation": "plan", "acquiredAt": "2025-06-01T10:05:00.000Z", "expiresAt": "2025-06-01T10:07:00.000Z"}`,
		})},
		{"requests/req-active-lock.json", legacyRequest("req-active-lock", 0, noOp, noOp, noOp, map[string]string{
			"lock": `{"holder": "bob", "operation": "apply", "acquiredAt": "2025-06-01T10:05:00.000Z", "expiresAt": "2030-01-01T00:00:00.000Z"}`,
		})},
		// A run missing from the run index.
		{"requests/req-unindexed.json", legacyRequest("req-unindexed", 107, op(1, ok(1, 9001)), noOp, noOp, nil)},
		prIndexEntry(107, "req-unindexed"),
		// Index entries that point at a request without that run or
		// pull request, or at no request at all.
		runIndexEntry(runs.Plan, 5555, "req-ok"),
		runIndexEntry(runs.Apply, 7777, "req-ghost"),
		prIndexEntry(999, "req-ok"),
		// A request queued for plan, no run id yet, no pull request.
		{"requests/req-new.json", legacyRequest("req-new", 0, op(1, attempt(1, 0, runs.StatusQueued, "", t2, "")), noOp, noOp, map[string]string{"targetOwner": "", "targetRepo": ""})},
		// An archived request, destroyed.
		{"history/req-old.json", legacyRequest("req-old", 90, op(1, ok(1, 900)), op(1, ok(1, 901)), op(1, ok(1, 902)), map[string]string{"version": "12"})},
		runIndexEntry(runs.Plan, 900, "req-old"),
		runIndexEntry(runs.Apply, 901, "req-old"),
		runIndexEntry(runs.Destroy, 902, "req-old"),
		prIndexEntry(90, "req-old"),
		// Lifecycle events.
		event("req-ok", "2025-06-01T10:00:00.000Z", "request_created", `{"module": "s3-bucket"}`),
		event("req-ok", "2025-06-01T10:00:05.000Z", "plan_dispatched", `{"attempt": 1, "runId": 1001}`),
		event("req-ok", "2025-06-01T10:05:00.000Z", "plan_dispatched", `{"attempt": 2}`),
		event("req-ok", "2025-06-01T10:09:00.000Z", "request_approved", ""),
		event("req-legacy", "2025-06-01T10:00:00.000Z", "request_created", ""),
		event("req-old", "2025-05-01T09:00:00.000Z", "destroy_dispatched", `{"attempt": 1}`),
		// Webhook deliveries, as recordDelivery wrote them.
		{"webhooks/github/deliveries/5b1e2c00-4a1f-11f0-8d5a-1c0d4e6f7a8b.json", `{"deliveryId": "5b1e2c00-4a1f-11f0-8d5a-1c0d4e6f7a8b", "event": "workflow_run", "receivedAt": "2025-06-01T10:02:01.000Z"}`},
		{"webhooks/github/deliveries/6c2f3d11-4a1f-11f0-8d5a-1c0d4e6f7a8b.json", `{"deliveryId": "6c2f3d11-4a1f-11f0-8d5a-1c0d4e6f7a8b", "event": "pull_request", "receivedAt": "2025-06-01T10:09:30.000Z"}`},
		// Infracost documents, uploaded by the workflow.
		{"cost/req-ok/infracost-cost.json", `{"version":"0.2","currency":"USD","totalMonthlyCost":"12.50","projects":[{"name":"envs/dev"}]}` + "\n"},
		{"cost/req-ok/infracost-diff.json", `{"version":"0.2","currency":"USD","diffTotalMonthlyCost":"1.25"}` + "\n"},
		{"cost/req-gap/infracost-cost.json", `{"totalMonthlyCost":"0"}`},
	}
	return objs
}

// syntheticBucket returns n clean requests in the original layout, each
// with a plan and an apply run (indexed), its pull request (indexed) and
// two lifecycle events: six objects a request.
func syntheticBucket(n int) []object {
	objs := make([]object, 0, 6*n)
	for i := range n {
		id := fmt.Sprintf("req-%06d", i)
		plan, apply := int64(1_000_000+i), int64(2_000_000+i)
		objs = append(objs,
			object{"requests/" + id + ".json", legacyRequest(id, 10_000+i, op(1, ok(1, plan)), op(1, ok(1, apply)), noOp, nil)},
			runIndexEntry(runs.Plan, plan, id),
			runIndexEntry(runs.Apply, apply, id),
			prIndexEntry(10_000+i, id),
			event(id, "2025-06-01T10:00:00.000Z", "request_created", `{"module": "s3-bucket"}`),
			event(id, "2025-06-01T10:00:05.000Z", "plan_dispatched", `{"attempt": 1}`),
		)
	}
	return objs
}

// plantedViolations are exactly the findings an audit of [legacyBucket]
// at auditNow must report.
var plantedViolations = []migrate.Violation{
	{RequestID: "req-completed", Invariant: migrate.InvComp1, Kind: runs.Apply},
	{RequestID: "req-completed", Invariant: migrate.InvComp1, Kind: runs.Plan},
	{RequestID: "req-current", Invariant: migrate.InvCore4, Kind: runs.Destroy},
	{RequestID: "req-dup", Invariant: migrate.InvCore3, Kind: runs.Apply},
	{RequestID: "req-gap", Invariant: migrate.InvCore3, Kind: runs.Plan},
	{RequestID: "req-ghost", Invariant: migrate.InvRunIndex, Kind: runs.Apply},
	{RequestID: "req-legacy", Invariant: migrate.InvPRIndex},
	{RequestID: "req-legacy", Invariant: migrate.InvCore1},
	{RequestID: "req-legacy", Invariant: migrate.InvCore1},
	{RequestID: "req-locked", Invariant: migrate.InvLockExpired},
	{RequestID: "req-ok", Invariant: migrate.InvPRIndex},
	{RequestID: "req-ok", Invariant: migrate.InvRunIndex, Kind: runs.Plan},
	{RequestID: "req-unindexed", Invariant: migrate.InvRunIndex, Kind: runs.Plan},
}

// checkPlanted fails unless rep holds exactly plantedViolations (by
// request, invariant and kind).
func checkPlanted(t *testing.T, rep migrate.Report) {
	t.Helper()
	got := make([]migrate.Violation, len(rep.Violations))
	for i, v := range rep.Violations {
		got[i] = migrate.Violation{RequestID: v.RequestID, Invariant: v.Invariant, Kind: v.Kind}
	}
	if !reflect.DeepEqual(got, plantedViolations) {
		var b strings.Builder
		for _, v := range rep.Violations {
			fmt.Fprintf(&b, "\n  %s", v)
		}
		t.Errorf("audit found %d violations, want the %d planted:%s", len(got), len(plantedViolations), b.String())
	}
}

// layoutItems reads a bucket's objects as the items a store of it holds,
// the way s3store reads the original layout (an event's id is its key's
// name; a delivery without state was recorded after handling, so it is
// complete). It stands in for s3store where tests run without S3.
func layoutItems(t testing.TB, objs []object) []store.Item {
	t.Helper()
	var items []store.Item
	costs := map[string]*store.Cost{}
	for _, o := range objs {
		parts := strings.Split(strings.TrimSuffix(o.Key, ".json"), "/")
		switch {
		case parts[0] == "requests" || parts[0] == "history":
			var r store.Request
			if err := json.Unmarshal([]byte(o.Body), &r); err != nil {
				t.Fatalf("%s: %v", o.Key, err)
			}
			kind := store.KindRequest
			if parts[0] == "history" {
				kind = store.KindArchivedRequest
			}
			items = append(items, store.Item{Kind: kind, Request: &r})
		case parts[0] == "logs":
			var e store.Event
			if err := json.Unmarshal([]byte(o.Body), &e); err != nil {
				t.Fatalf("%s: %v", o.Key, err)
			}
			e.ID = parts[2]
			items = append(items, store.Item{Kind: store.KindEvent, Event: &e})
		case strings.HasPrefix(o.Key, "webhooks/github/run-index/"):
			runID, _ := strconv.ParseInt(strings.TrimPrefix(parts[4], "run-"), 10, 64)
			items = append(items, store.Item{Kind: store.KindRunIndex, Run: &store.RunIndexEntry{
				Kind: runs.Kind(parts[3]), RunID: runID, RequestID: requestIDOf(t, o)}})
		case strings.HasPrefix(o.Key, "webhooks/github/pr-index/"):
			owner, repo, _ := strings.Cut(parts[3], "_")
			n, _ := strconv.Atoi(strings.TrimPrefix(parts[4], "pr-"))
			items = append(items, store.Item{Kind: store.KindPRIndex, PR: &store.PRIndexEntry{
				PR: store.PRRef{Owner: owner, Repo: repo, Number: n}, RequestID: requestIDOf(t, o)}})
		case strings.HasPrefix(o.Key, "webhooks/github/deliveries/"):
			var d struct {
				DeliveryID string    `json:"deliveryId"`
				Event      string    `json:"event"`
				ReceivedAt time.Time `json:"receivedAt"`
			}
			if err := json.Unmarshal([]byte(o.Body), &d); err != nil {
				t.Fatalf("%s: %v", o.Key, err)
			}
			items = append(items, store.Item{Kind: store.KindDelivery, Delivery: &store.Delivery{
				ID: d.DeliveryID, Event: d.Event, ClaimedAt: d.ReceivedAt, CompletedAt: d.ReceivedAt}})
		case parts[0] == "cost":
			c := costs[parts[1]]
			if c == nil {
				c = &store.Cost{RequestID: parts[1]}
				costs[parts[1]] = c
				items = append(items, store.Item{Kind: store.KindCost, Cost: c})
			}
			if parts[2] == "infracost-cost" {
				c.Estimate = []byte(o.Body)
			} else {
				c.Diff = []byte(o.Body)
			}
		default:
			t.Fatalf("layoutItems: unexpected key %s", o.Key)
		}
	}
	return items
}

func requestIDOf(t testing.TB, o object) string {
	t.Helper()
	var v struct {
		RequestID string `json:"requestId"`
	}
	if err := json.Unmarshal([]byte(o.Body), &v); err != nil {
		t.Fatalf("%s: %v", o.Key, err)
	}
	return v.RequestID
}

// checkArrived fails unless dst holds everything objs hold: each request
// document whole (unknown fields included), each event, each index
// entry, each delivery and each cost document byte for byte.
func checkArrived(ctx context.Context, t *testing.T, objs []object, dst store.Store) {
	t.Helper()
	events := map[string]int{}
	for _, it := range layoutItems(t, objs) {
		switch it.Kind {
		case store.KindRequest, store.KindArchivedRequest:
			get := dst.GetRequest
			if it.Kind == store.KindArchivedRequest {
				get = dst.GetArchivedRequest
			}
			got, err := get(ctx, it.Request.ID)
			if err != nil {
				t.Errorf("%s %s: %v", it.Kind, it.Request.ID, err)
				continue
			}
			if g, w := generic(t, got), generic(t, it.Request); !reflect.DeepEqual(g, w) {
				t.Errorf("%s %s differs after the copy:\n got %v\nwant %v", it.Kind, it.Request.ID, g, w)
			}
			for name, raw := range it.Request.UnknownFields() {
				if g := got.UnknownFields()[name]; !jsonEqual(g, raw) {
					t.Errorf("%s %s: unknown field %q = %s, want %s", it.Kind, it.Request.ID, name, g, raw)
				}
			}
		case store.KindEvent:
			events[it.Event.RequestID]++
			evs, err := dst.ListEvents(ctx, it.Event.RequestID)
			if err != nil {
				t.Fatalf("ListEvents(%s): %v", it.Event.RequestID, err)
			}
			found := slices.ContainsFunc(evs, func(e store.Event) bool {
				return e.Event == it.Event.Event && e.Timestamp.Equal(it.Event.Timestamp) &&
					reflect.DeepEqual(generic(t, e.Data), generic(t, it.Event.Data))
			})
			if !found {
				t.Errorf("event %s %s at %s did not arrive; target has %+v", it.Event.RequestID, it.Event.Event, it.Event.Timestamp, evs)
			}
		case store.KindRunIndex:
			if id, err := dst.LookupRun(ctx, it.Run.Kind, it.Run.RunID); err != nil || id != it.Run.RequestID {
				t.Errorf("LookupRun(%s, %d) = %q, %v; want %q", it.Run.Kind, it.Run.RunID, id, err, it.Run.RequestID)
			}
		case store.KindPRIndex:
			if id, err := dst.LookupPR(ctx, it.PR.PR); err != nil || id != it.PR.RequestID {
				t.Errorf("LookupPR(%+v) = %q, %v; want %q", it.PR.PR, id, err, it.PR.RequestID)
			}
		case store.KindDelivery:
			d, err := dst.GetDelivery(ctx, it.Delivery.ID)
			if err != nil || d.Event != it.Delivery.Event || d.CompletedAt.IsZero() || !d.ClaimedAt.Equal(it.Delivery.ClaimedAt) {
				t.Errorf("GetDelivery(%s) = %+v, %v; want a completed %s delivery claimed at %v", it.Delivery.ID, d, err, it.Delivery.Event, it.Delivery.ClaimedAt)
			}
		case store.KindCost:
			c, err := dst.GetCost(ctx, it.Cost.RequestID)
			if err != nil || string(c.Estimate) != string(it.Cost.Estimate) || string(c.Diff) != string(it.Cost.Diff) {
				t.Errorf("GetCost(%s) = %q, %q, %v; want %q, %q", it.Cost.RequestID, c.Estimate, c.Diff, err, it.Cost.Estimate, it.Cost.Diff)
			}
		}
	}
	for id, n := range events {
		evs, err := dst.ListEvents(ctx, id)
		if err != nil || len(evs) != n {
			t.Errorf("ListEvents(%s) has %d events, %v; want %d", id, len(evs), err, n)
		}
	}
}

func generic(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return out
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// BenchmarkCopy_MemToMem copies benchRequests requests of
// [syntheticBucket] between two memstores: the cost of Copy itself
// (export, canonical JSON, checksums, import, verification) without any
// I/O.
func BenchmarkCopy_MemToMem(b *testing.B) {
	n := benchRequests()
	src := memstore.New(nil)
	for _, it := range layoutItems(b, syntheticBucket(n)) {
		if _, err := src.Import(b.Context(), it); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		res, err := migrate.Copy(b.Context(), src, memstore.New(nil), nil)
		if err != nil || !res.OK() {
			b.Fatalf("Copy = %+v, %v", res.Total(), err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "requests/s")
}

// benchRequests is TFPILOT_BENCH_REQUESTS, default 10,000.
func benchRequests() int {
	if n, err := strconv.Atoi(os.Getenv("TFPILOT_BENCH_REQUESTS")); err == nil && n > 0 {
		return n
	}
	return 10_000
}
