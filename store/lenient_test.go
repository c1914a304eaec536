package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/runs"
)

// messyDoc is a request document as the original Node.js app and
// hand edits leave them: values of the wrong shape at several depths and
// fields tfpilot does not model inside every modelled object.
const messyDoc = `{
  "id": "req-messy",
  "project": "Payments",
  "environment": "dev",
  "module": "s3_bucket",
  "config": "{\"bucket_name\":\"x\",\"size\":1e+21,\"big\":12345678901234567890}",
  "receivedAt": 1709294400000,
  "updatedAt": "",
  "version": "3",
  "status": "planning",
  "pr": {"number": "12", "open": true, "merged": false, "title": "legacy", "labels": ["a"]},
  "approval": {"approved": false, "approvers": [], "requiredApprovals": 2},
  "lock": {"holder": "alice", "operation": "plan", "acquiredAt": "not-a-date", "expiresAt": " 2024-03-01T12:05:00.000Z ", "pid": 4711},
  "idempotency": {"plan": {"key": "k1", "at": "", "clientIp": "10.0.0.1"}},
  "runs": {
    "plan": {"currentAttempt": "1", "lastSyncedAt": "2024-03-01T12:00:00.000Z", "attempts": [
      {"attempt": 1, "runId": "4711", "status": "completed", "conclusion": "success",
       "dispatchedAt": "not-a-date", "completedAt": "", "headSha": "abc", "logsUrl": "https://x", "steps": [{"name": "init", "ok": true}],
       "note": "lone \ud800 surrogate and nul \u0000"}
    ]},
    "apply": {"currentAttempt": 0, "attempts": []},
    "destroy": {"currentAttempt": 0, "attempts": []}
  },
  "timeline": [{"at": "x", "what": "created"}],
  "portalOnly": {"deep": {"deeper": [1, 2.50, "\u00e9"]}}
}`

// TestRequest_LenientDecode names each value the original system wrote
// loosely and checks what it reads as, that it is reported, and that an
// unchanged document writes it back as stored.
func TestRequest_LenientDecode(t *testing.T) {
	t.Parallel()
	var r Request
	if err := json.Unmarshal([]byte(messyDoc), &r); err != nil {
		t.Fatalf("a messy document does not decode: %v", err)
	}
	tests := []struct {
		name    string
		path    string
		ok      bool
		problem string // substring of the reported problem
	}{
		{"config stored as a JSON string reads as the object", "config", r.Config["bucket_name"] == "x", "JSON stored as a string"},
		{"epoch milliseconds read as the time", "receivedAt", r.ReceivedAt.Equal(time.UnixMilli(1709294400000)), "epoch number"},
		{"empty timestamp reads as absent", "updatedAt", r.UpdatedAt.IsZero(), "empty timestamp"},
		{"version written as a string reads as the number", "version", r.Version == 3, "number written as a string"},
		{"pr.number written as a string reads as the number", "pr.number", r.PR != nil && r.PR.Number == 12, "number written as a string"},
		{"malformed lock time reads as absent", "lock.acquiredAt", r.Lock != nil && r.Lock.AcquiredAt.IsZero() && r.Lock.Holder == "alice", "malformed timestamp"},
		{"padded timestamp reads trimmed", "lock.expiresAt", r.Lock != nil && r.Lock.ExpiresAt.Equal(time.Date(2024, 3, 1, 12, 5, 0, 0, time.UTC)), "not in RFC 3339 form"},
		{"empty idempotency time reads as absent", "idempotency.plan.at", r.Idempotency["plan"].Key == "k1" && r.Idempotency["plan"].At.IsZero(), "empty timestamp"},
		{"currentAttempt written as a string reads as the number", "runs.plan.currentAttempt", r.Runs.Plan.CurrentAttempt == 1, "number written as a string"},
		{"runId written as a string reads as the number", "runs.plan.attempts[0].runId", len(r.Runs.Plan.Attempts) == 1 && r.Runs.Plan.Attempts[0].RunID == 4711, "number written as a string"},
		{"malformed dispatchedAt reads as absent", "runs.plan.attempts[0].dispatchedAt", len(r.Runs.Plan.Attempts) == 1 && r.Runs.Plan.Attempts[0].DispatchedAt.IsZero(), "malformed timestamp"},
		{"empty completedAt reads as absent", "runs.plan.attempts[0].completedAt", len(r.Runs.Plan.Attempts) == 1 && r.Runs.Plan.Attempts[0].CompletedAt.IsZero(), "empty timestamp"},
	}
	issues := r.DecodeIssues()
	for _, tc := range tests {
		if !tc.ok {
			t.Errorf("%s: wrong value read", tc.name)
		}
		i := slices.IndexFunc(issues, func(i DecodeIssue) bool { return i.Path == tc.path })
		switch {
		case i < 0:
			t.Errorf("%s: no issue reported at %s (issues: %v)", tc.name, tc.path, issues)
		case !strings.Contains(issues[i].Problem, tc.problem):
			t.Errorf("%s: issue at %s is %q, want it to say %q", tc.name, tc.path, issues[i].Problem, tc.problem)
		}
	}
	if got, want := len(issues), len(tests); got != want {
		t.Errorf("%d issues reported, want %d: %v", got, want, issues)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	assertKeeps(t, []byte(messyDoc), out, derivedFields)
}

// TestRequest_ReadModifyWriteKeepsRawValuesAndUnknownFieldsAtEveryDepth
// changes some fields of a messy document and checks that every field it
// did not change is written back as stored, unknown fields inside
// attempts, idempotency marks, locks, pr and approval included, and that
// the changed fields are written as set.
func TestRequest_ReadModifyWriteKeepsRawValuesAndUnknownFieldsAtEveryDepth(t *testing.T) {
	t.Parallel()
	var r Request
	if err := json.Unmarshal([]byte(messyDoc), &r); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r.Version = 4
	r.Approval.Approved = true
	r.Approval.Approvers = []string{"bob"}
	r.Runs = runs.Dispatch(r.Runs, runs.Plan, runs.DispatchMeta{Actor: "bob"}, now)
	r.Runs.Plan.Attempts[0].Status = "completed" // unchanged value
	r.Lock.Holder = "bob"
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got := tree(t, out)
	want := tree(t, []byte(messyDoc))
	for _, tc := range []struct{ path, want string }{
		{"version", `4`},
		{"approval.approved", `true`},
		{"approval.approvers", `["bob"]`},
		{"approval.requiredApprovals", `2`},
		{"runs.plan.currentAttempt", `2`},
		{"runs.plan.lastSyncedAt", `"2024-03-01T12:00:00.000Z"`},
		{"runs.plan.attempts[1].actor", `"bob"`},
		{"lock.holder", `"bob"`},
		{"lock.pid", `4711`},
		{"lock.acquiredAt", `"not-a-date"`},
		{"lock.expiresAt", `" 2024-03-01T12:05:00.000Z "`},
		{"pr.number", `"12"`},
		{"pr.title", `"legacy"`},
		{"pr.labels", `["a"]`},
		{"idempotency.plan.clientIp", `"10.0.0.1"`},
		{"idempotency.plan.at", `""`},
		{"receivedAt", `1709294400000`},
		{"updatedAt", `""`},
		{"config", lookup(t, want, "config")},
		{"runs.plan.attempts[0].runId", `"4711"`},
		{"runs.plan.attempts[0].dispatchedAt", `"not-a-date"`},
		{"runs.plan.attempts[0].completedAt", `""`},
		{"runs.plan.attempts[0].logsUrl", `"https://x"`},
		{"runs.plan.attempts[0].steps", `[{"name":"init","ok":true}]`},
		{"runs.plan.attempts[0].note", `"lone \ud800 surrogate and nul \u0000"`},
		{"portalOnly", `{"deep":{"deeper":[1,2.50,"\u00e9"]}}`},
	} {
		if g := lookup(t, got, tc.path); g != tc.want {
			t.Errorf("%s = %s, want %s", tc.path, g, tc.want)
		}
	}
	if _, ok := got.(*jsonObject).get("status"); ok {
		t.Error("the derived status field was written back")
	}
	// Releasing the lock removes it, unknown fields and all.
	r.Lock = nil
	out, _ = json.Marshal(r)
	if _, ok := tree(t, out).(*jsonObject).get("lock"); ok {
		t.Error("a released lock came back")
	}
	// Setting a field that was stored malformed writes the new value.
	r.Runs.Plan.Attempts[0].DispatchedAt = now
	out, _ = json.Marshal(r)
	if g := lookup(t, tree(t, out), "runs.plan.attempts[0].dispatchedAt"); g != `"2026-03-01T12:00:00Z"` {
		t.Errorf("a set dispatchedAt was written as %s", g)
	}
}

// TestRequest_CleanDocumentsDecodeWithoutIssues keeps the lenient path
// honest: a document tfpilot wrote and the seed have nothing to report.
func TestRequest_CleanDocumentsDecodeWithoutIssues(t *testing.T) {
	t.Parallel()
	var r Request
	if err := json.Unmarshal(loadSeed(t), &r); err != nil {
		t.Fatal(err)
	}
	if is := r.DecodeIssues(); len(is) != 0 {
		t.Errorf("the seed document reports issues: %v", is)
	}
}

// FuzzRequest_DecodeEncodeKeepsEveryStoredValue: whatever object decodes,
// encoding it unchanged writes back every stored field at every depth
// with its value as written (the derived status fields excepted), and a
// second cycle is stable.
func FuzzRequest_DecodeEncodeKeepsEveryStoredValue(f *testing.F) {
	f.Add([]byte(messyDoc))
	f.Add(loadSeed(f))
	f.Add([]byte(`{"id":"a","version":1e2,"runs":{"plan":{"attempts":[null,"x",{"runId":1.5}]}}}`))
	f.Add([]byte("\xEF\xBB\xBF{\"id\":\"b\",\"pr\":\"{\\\"number\\\":\\\"7\\\"}\"}"))
	f.Add([]byte(`{"idempotency":{"x":5},"lock":[],"cost":{"a":1e+21},"targetFiles":[1,true,null]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var r Request
		if err := json.Unmarshal(in, &r); err != nil {
			return
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("decoded document does not encode: %v", err)
		}
		in = bytes.TrimPrefix(in, utf8BOM)
		assertKeeps(t, in, out, derivedFields)
		var r2 Request
		if err := json.Unmarshal(out, &r2); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		out2, err := json.Marshal(r2)
		if err != nil {
			t.Fatal(err)
		}
		assertKeeps(t, out, out2, nil)
	})
}

// assertKeeps fails unless every value of the JSON document in, at every
// depth, is in out as written (out may add fields).
func assertKeeps(t testing.TB, in, out []byte, drop []string) {
	t.Helper()
	if err := keeps(tree(t, in), tree(t, out), "", drop); err != nil {
		t.Errorf("%v\nin:  %s\nout: %s", err, in, out)
	}
}

func keeps(in, out any, path string, drop []string) error {
	switch iv := in.(type) {
	case *jsonObject:
		ov, ok := out.(*jsonObject)
		if !ok {
			break
		}
		for _, k := range iv.keys {
			if contains(drop, k) {
				continue
			}
			oc, ok := ov.get(k)
			if !ok {
				return fmt.Errorf("%s lost", join(path, k))
			}
			if err := keeps(iv.vals[k], oc, join(path, k), nil); err != nil {
				return err
			}
		}
		return nil
	case []any:
		ov, ok := out.([]any)
		if !ok || len(ov) != len(iv) {
			break
		}
		for i := range iv {
			if err := keeps(iv[i], ov[i], fmt.Sprintf("%s[%d]", path, i), nil); err != nil {
				return err
			}
		}
		return nil
	}
	a, _ := treeJSON(in)
	b, _ := treeJSON(out)
	if !bytes.Equal(a, b) {
		return fmt.Errorf("%s: stored %s, written %s", path, a, b)
	}
	return nil
}

func tree(t testing.TB, b []byte) any {
	t.Helper()
	v, err := parseTree(b)
	if err != nil {
		t.Fatalf("parse %s: %v", b, err)
	}
	return v
}

// lookup returns the JSON at path ("a.b[1].c") in the tree v.
func lookup(t testing.TB, v any, path string) string {
	t.Helper()
	for _, part := range strings.Split(path, ".") {
		name, idx, _ := strings.Cut(part, "[")
		o, ok := v.(*jsonObject)
		if !ok {
			return "<not an object at " + part + ">"
		}
		if v, ok = o.get(name); !ok {
			return "<absent>"
		}
		if idx != "" {
			var i int
			fmt.Sscanf(idx, "%d]", &i)
			a, ok := v.([]any)
			if !ok || i >= len(a) {
				return "<no element " + part + ">"
			}
			v = a[i]
		}
	}
	b, _ := treeJSON(v)
	return string(b)
}

// TestRequest_RandomDocumentsRoundTripEveryStoredValue is the fuzz
// property over generated documents: fields of the schema at every
// depth given values of every shape (right, wrong, empty, strings
// holding JSON, exponents, escapes), plus unknown fields; decode then
// encode keeps every stored value as written.
func TestRequest_RandomDocumentsRoundTripEveryStoredValue(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 13))
	leaves := []string{`""`, `"x"`, `" 2024-03-01T12:00:00Z "`, `"2024-03-01T12:00:00.000Z"`, `"not-a-date"`, `"12"`, `"{\"a\":1}"`,
		`1709294400000`, `1e+21`, `2.50`, `-0`, `3`, `true`, `null`, `"\u0000"`, `"\ud800"`, `[]`, `{}`, `[1,"a"]`, `{"z":{"y":1}}`}
	names := func(t reflect.Type) []string {
		var out []string
		for k := range knownFields(t) {
			out = append(out, k)
		}
		slices.Sort(out)
		return append(out, "unknownA", "unknownB")
	}
	var gen func(t reflect.Type, depth int) string
	gen = func(t reflect.Type, depth int) string {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil || depth > 4 || rng.IntN(4) == 0 {
			return leaves[rng.IntN(len(leaves))]
		}
		switch {
		case t.Kind() == reflect.Struct && t != typeOfTime:
			var parts []string
			for _, k := range names(t) {
				if rng.IntN(2) == 0 {
					ft := knownFields(t)[k]
					parts = append(parts, fmt.Sprintf("%q:%s", k, gen(ft, depth+1)))
				}
			}
			return "{" + strings.Join(parts, ",") + "}"
		case t.Kind() == reflect.Slice && t != typeOfRaw:
			n := rng.IntN(3)
			parts := make([]string, n)
			for i := range parts {
				parts[i] = gen(t.Elem(), depth+1)
			}
			return "[" + strings.Join(parts, ",") + "]"
		case t.Kind() == reflect.Map:
			return fmt.Sprintf(`{"k":%s,"j":%s}`, gen(t.Elem(), depth+1), gen(nil, depth+1))
		}
		return leaves[rng.IntN(len(leaves))]
	}
	for i := range 3000 {
		doc := gen(typeOfRequest, 0)
		if !strings.HasPrefix(doc, "{") {
			continue
		}
		var r Request
		if err := json.Unmarshal([]byte(doc), &r); err != nil {
			t.Fatalf("document %d does not decode: %v\n%s", i, err, doc)
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("document %d does not encode: %v\n%s", i, err, doc)
		}
		assertKeeps(t, []byte(doc), out, derivedFields)
		if t.Failed() {
			t.Fatalf("document %d", i)
		}
	}
}
