package store

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/lock"
	"github.com/tfpilot/tfpilot/runs"
)

func loadSeed(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/seed-request.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// generic decodes JSON into plain maps for structural comparison.
func generic(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRequest_SeedDocumentRoundTripKeepsEveryField(t *testing.T) {
	t.Parallel()
	in := loadSeed(t)
	var r Request
	if err := json.Unmarshal(in, &r); err != nil {
		t.Fatal(err)
	}
	if r.ID != "req_7f3a9c21" || r.Version != 7 || r.PR.Number != 118 || r.Runs.Plan.CurrentAttempt != 2 || r.Lock.Holder != "alice" {
		t.Fatalf("decoded %+v", r)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := generic(t, in)
	// status and statusDerivedAt are derived, never facts: dropped.
	delete(want, "status")
	delete(want, "statusDerivedAt")
	got := generic(t, out)
	normalizeTimes(want)
	normalizeTimes(got)
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", " ")
		t.Fatalf("round trip lost or changed fields:\n%s", gj)
	}
}

// normalizeTimes rewrites RFC 3339 strings to one form, since
// "…00.000Z" and "…00Z" are the same instant.
func normalizeTimes(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok {
				if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
					v[k] = tm.UTC().Format(time.RFC3339Nano)
					continue
				}
			}
			normalizeTimes(e)
		}
	case []any:
		for _, e := range v {
			normalizeTimes(e)
		}
	}
}

func TestRequest_UnknownFieldsSurviveReadModifyWrite(t *testing.T) {
	t.Parallel()
	var r Request
	if err := json.Unmarshal(loadSeed(t), &r); err != nil {
		t.Fatal(err)
	}
	// Modify: release the lock, approve, dispatch an apply.
	r.Lock = nil
	r.Approval.Approved = true
	r.Runs = runs.Dispatch(r.Runs, runs.Apply, runs.DispatchMeta{Actor: "bob"}, time.Now())
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got := generic(t, out)
	if _, ok := got["lock"]; ok {
		t.Error("a released lock came back from the unknown-field store")
	}
	for _, k := range []string{"templateId", "assistantState", "planRun", "prNumber", "prUrl"} {
		if _, ok := got[k]; !ok {
			t.Errorf("top-level unknown field %q lost", k)
		}
	}
	if got["pr"].(map[string]any)["title"] != "tfpilot: s3-bucket reports" {
		t.Error("pr.title lost")
	}
	ap := got["approval"].(map[string]any)
	if ap["requiredApprovals"] != 1.0 || ap["approved"] != true {
		t.Errorf("approval = %v", ap)
	}
	if got["runs"].(map[string]any)["plan"].(map[string]any)["lastSyncedAt"] == nil {
		t.Error("runs.plan.lastSyncedAt lost")
	}
	if r.UnknownFields()["templateId"] == nil {
		t.Error("UnknownFields does not expose templateId")
	}
	// And a second decode/encode cycle is stable.
	var r2 Request
	if err := json.Unmarshal(out, &r2); err != nil {
		t.Fatal(err)
	}
	out2, _ := json.Marshal(r2)
	if string(out2) != string(out) {
		t.Errorf("second round trip differs:\n%s\n%s", out, out2)
	}
}

func TestRequest_StatusIsDerivedNotRead(t *testing.T) {
	t.Parallel()
	var r Request
	if err := json.Unmarshal([]byte(`{"id":"r1","status":"applied","pr":{"number":1,"open":true}}`), &r); err != nil {
		t.Fatal(err)
	}
	if got := r.Status(time.Now()); got != lifecycle.Planning {
		t.Fatalf("Status = %s, want planning (stored status must be ignored)", got)
	}
	out, _ := json.Marshal(r)
	if strings.Contains(string(out), `"status"`) {
		t.Fatalf("stored status written back: %s", out)
	}
}

func TestRequest_CloneIsDeep(t *testing.T) {
	t.Parallel()
	var r Request
	if err := json.Unmarshal(loadSeed(t), &r); err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(r)
	c := r.Clone()
	c.Config["tags"].(map[string]any)["team"] = "changed"
	c.Config["allowed_ips"].([]any)[0] = "changed"
	c.PR.Open = false
	c.Runs.Plan.Attempts[0].Conclusion = "changed"
	c.Approval.Approvers = append(c.Approval.Approvers, "x")
	c.Lock.Holder = "changed"
	c.Idempotency["plan"] = IdempotencyMark{Key: "changed"}
	c.Timeline[0][0] = ' '
	c.TargetFiles[0] = "changed"
	after, _ := json.Marshal(r)
	if string(before) != string(after) {
		t.Fatalf("mutating the clone changed the original:\n%s\n%s", before, after)
	}
	if (*Request)(nil).Clone() != nil {
		t.Fatal("nil clone")
	}
}

func TestRequest_DecodeErrors(t *testing.T) {
	t.Parallel()
	// Only a body that is not a JSON object fails; values of the wrong
	// shape are read leniently (TestRequest_LenientDecode).
	for _, in := range []string{`[]`, ``, `"x"`, `{"id": "a"`, `{"id": "a"} {}`, "\xEF\xBB\xBF[]"} {
		var r Request
		if err := json.Unmarshal([]byte(in), &r); err == nil {
			t.Errorf("decoding %s succeeded", in)
		}
	}
}

func TestValidate_Identifiers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		r     Request
		field []string
	}{
		{"valid", Request{ID: "req_7f3a.9c21", Project: "payments", Environment: "dev", Module: "s3_bucket"}, nil},
		{"all empty", Request{}, []string{"id", "project", "environment", "module"}},
		{"path traversal in id", Request{ID: "..", Project: "p", Environment: "e", Module: "m"}, []string{"id"}},
		{"dots inside id", Request{ID: "a..b", Project: "p", Environment: "e", Module: "m"}, []string{"id"}},
		{"slash in project", Request{ID: "a", Project: "a/b", Environment: "e", Module: "m"}, []string{"project"}},
		{"upper case env", Request{ID: "a", Project: "p", Environment: "Prod", Module: "m"}, []string{"environment"}},
		{"leading digit module", Request{ID: "a", Project: "p", Environment: "e", Module: "3bucket"}, []string{"module"}},
		{"space in module", Request{ID: "a", Project: "p", Environment: "e", Module: "s3 bucket"}, []string{"module"}},
		{"too long project", Request{ID: "a", Project: strings.Repeat("p", MaxNameLen+1), Environment: "e", Module: "m"}, []string{"project"}},
		{"too long id", Request{ID: strings.Repeat("a", MaxRequestIDLen+1), Project: "p", Environment: "e", Module: "m"}, []string{"id"}},
		{"id starting with dash", Request{ID: "-rf", Project: "p", Environment: "e", Module: "m"}, []string{"id"}},
		{"newline in id", Request{ID: "a\nb", Project: "p", Environment: "e", Module: "m"}, []string{"id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.r.Validate()
			if tt.field == nil {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want *ValidationError", err)
			}
			var fields []string
			for _, v := range ve.Violations {
				fields = append(fields, v.Field)
			}
			if !reflect.DeepEqual(fields, tt.field) {
				t.Fatalf("violations on %v, want %v (%v)", fields, tt.field, err)
			}
		})
	}
}

func FuzzRequestDecode(f *testing.F) {
	f.Add(loadSeed(f))
	f.Add([]byte(`{"id":"x","runs":{"plan":{"currentAttempt":1,"attempts":[{"attempt":1}]}}}`))
	f.Add([]byte(`{"pr":{"number":1,"x":{"y":[1,2]}},"z":null}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Request
		if err := json.Unmarshal(b, &r); err != nil {
			return
		}
		_ = r.Status(time.Unix(0, 0))
		_ = r.Validate()
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("decoded document does not encode: %v", err)
		}
		var r2 Request
		if err := json.Unmarshal(out, &r2); err != nil {
			t.Fatalf("encoded document does not decode: %v\n%s", err, out)
		}
		out2, err := json.Marshal(r2)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(out2) {
			t.Fatalf("encode is not stable:\n%s\n%s", out, out2)
		}
		c := r.Clone()
		if cj, _ := json.Marshal(c); string(cj) != string(out) {
			t.Fatalf("clone encodes differently")
		}
	})
}

func TestLockFieldIsTheLockPackagesType(t *testing.T) {
	t.Parallel()
	r := Request{Lock: &lock.Lock{Holder: "a", Operation: "apply"}}
	if !r.Lock.Expired(time.Now()) {
		t.Fatal("zero-expiry lock is active")
	}
}

func TestCanonicalJSON_SameDocumentIgnoresVersionOnly(t *testing.T) {
	t.Parallel()
	var a Request
	if err := json.Unmarshal(loadSeed(t), &a); err != nil {
		t.Fatal(err)
	}
	b := a.Clone()
	b.Version += 3
	ca, err := a.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := b.CanonicalJSON()
	if string(ca) != string(cb) {
		t.Fatal("documents differing only in version are not the same document")
	}
	// Unknown fields take part: decoding the same document with its keys
	// in another order gives the same canonical form.
	var reordered Request
	if err := json.Unmarshal([]byte(`{"templateId":"t","version":1,"id":"r","pr":{"open":true,"number":2,"title":"x"}}`), &reordered); err != nil {
		t.Fatal(err)
	}
	var original Request
	_ = json.Unmarshal([]byte(`{"id":"r","pr":{"number":2,"title":"x","open":true},"templateId":"t","version":9}`), &original)
	c1, _ := reordered.CanonicalJSON()
	c2, _ := original.CanonicalJSON()
	if string(c1) != string(c2) {
		t.Fatalf("key order changed the canonical form:\n%s\n%s", c1, c2)
	}
	b.Config["bucket_name"] = "other"
	if cb, _ := b.CanonicalJSON(); string(ca) == string(cb) {
		t.Fatal("a changed config is the same document")
	}
}

func TestValidateName_ReportsTheFieldItChecks(t *testing.T) {
	t.Parallel()
	if err := ValidateName("environment", "dev-eu_1"); err != nil {
		t.Fatalf("valid name refused: %v", err)
	}
	for _, bad := range []string{"", "Dev", "1dev", "dev/eu", "..", "dev eu", strings.Repeat("d", MaxNameLen+1)} {
		err := ValidateName("environment", bad)
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Violations) != 1 || ve.Violations[0].Field != "environment" {
			t.Errorf("ValidateName(%q) = %v, want one violation on environment", bad, err)
		}
	}
}
