package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"

	_ "embed"

	"github.com/tfpilot/tfpilot/store"
)

// messyRequest is a document as the original Node.js app and hand edits
// leave them: a legacy project name, values of the wrong shape (numbers
// written as strings, config stored as a JSON string, an epoch time,
// empty and malformed timestamps), a number jsonb would rewrite (1e+21),
// a U+0000 and a lone surrogate, and unmodelled fields inside attempts,
// idempotency marks, the lock, the pr and the approval.
//
//go:embed messy-request.json
var messyRequest []byte

var legacyTests = []test{
	{"UpdateRequest/LegacyNameStaysUpdatable", testLegacyNameUpdatable},
	{"UpdateRequest/MessyDocumentKeepsEveryStoredValue", testMessyDocumentKeeps},
}

// testLegacyNameUpdatable: stores check only what their keys depend on
// (the id); a project name that predates today's rules reads and
// updates.
func testLegacyNameUpdatable(e *env) {
	r := newRequest("r1")
	r.Project, r.Environment, r.Module = "Payments", "Prod EU", "S3 Bucket"
	cur := e.create(r)
	cur.BranchName = "tfpilot/r1"
	got, err := e.s.UpdateRequest(e.ctx, cur)
	if err != nil {
		e.Fatalf("UpdateRequest of a request with legacy names: %v", err)
	}
	if got.Project != "Payments" || e.get("r1").BranchName != "tfpilot/r1" {
		e.Errorf("update of a legacy-named request stored project %q branch %q", got.Project, e.get("r1").BranchName)
	}
}

// testMessyDocumentKeeps writes a messy document, changes one field and
// checks that every stored value, at every depth and as written, comes
// back from the store.
func testMessyDocumentKeeps(e *env) {
	var r store.Request
	if err := json.Unmarshal(messyRequest, &r); err != nil {
		e.Fatalf("decode the messy document: %v", err)
	}
	e.create(&r)
	cur := e.get(r.ID)
	cur.BranchName = "tfpilot/renamed"
	if _, err := e.s.UpdateRequest(e.ctx, cur); err != nil {
		e.Fatalf("UpdateRequest: %v", err)
	}
	got := e.get(r.ID)
	if got.BranchName != "tfpilot/renamed" {
		e.Errorf("the update is lost: branchName %q", got.BranchName)
	}
	out, err := json.Marshal(got)
	if err != nil {
		e.Fatal(err)
	}
	// CreateRequest stamps the absent (empty) updatedAt; the rest is as
	// stored.
	skip := map[string]bool{"version": true, "status": true, "statusDerivedAt": true, "branchName": true, "updatedAt": true}
	if err := keepsValues(messyRequest, out, skip); err != nil {
		e.Errorf("%v\nstored: %s", err, out)
	}
}

// keepsValues reports the first value of the JSON object in (top-level
// names in skip aside) that out does not hold as written.
func keepsValues(in, out []byte, skip map[string]bool) error {
	var a, b map[string]json.RawMessage
	if err := json.Unmarshal(in, &a); err != nil {
		return err
	}
	if err := json.Unmarshal(out, &b); err != nil {
		return err
	}
	for k, v := range a {
		if skip[k] {
			continue
		}
		w, ok := b[k]
		if !ok {
			return fmt.Errorf("field %s lost", k)
		}
		if err := sameRaw(k, v, w); err != nil {
			return err
		}
	}
	return nil
}

// sameRaw compares two JSON values as written: objects by key at every
// depth, arrays by element, everything else byte for byte (compacted).
func sameRaw(path string, a, b json.RawMessage) error {
	a, b = bytes.TrimSpace(a), bytes.TrimSpace(b)
	if len(a) > 0 && a[0] == '{' {
		var ma, mb map[string]json.RawMessage
		if json.Unmarshal(a, &ma) != nil || json.Unmarshal(b, &mb) != nil {
			return fmt.Errorf("%s: stored %s, got %s", path, a, b)
		}
		for k, v := range ma {
			w, ok := mb[k]
			if !ok {
				return fmt.Errorf("%s.%s lost", path, k)
			}
			if err := sameRaw(path+"."+k, v, w); err != nil {
				return err
			}
		}
		return nil
	}
	if len(a) > 0 && a[0] == '[' {
		var la, lb []json.RawMessage
		if json.Unmarshal(a, &la) != nil || json.Unmarshal(b, &lb) != nil || len(la) != len(lb) {
			return fmt.Errorf("%s: stored %s, got %s", path, a, b)
		}
		for i := range la {
			if err := sameRaw(fmt.Sprintf("%s[%d]", path, i), la[i], lb[i]); err != nil {
				return err
			}
		}
		return nil
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil || !bytes.Equal(ca.Bytes(), cb.Bytes()) {
		return fmt.Errorf("%s: stored %s, got %s", path, a, b)
	}
	return nil
}
