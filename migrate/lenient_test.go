package migrate_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/migrate"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// TestAudit_ReportsEveryValueReadLeniently: an empty or malformed
// timestamp, a number written as a string and a config stored as a
// JSON string read as the original read them, and the audit names each
// by path.
func TestAudit_ReportsEveryValueReadLeniently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	doc := `{"id":"req-l","project":"p","environment":"dev","module":"m","version":"2",
		"config":"{\"a\":1}","receivedAt":"2024-03-01T12:00:00Z",
		"runs":{"plan":{"currentAttempt":1,"attempts":[{"attempt":1,"runId":5,"status":"completed","conclusion":"success",
		"dispatchedAt":"not-a-date","completedAt":""}]}}}`
	var r store.Request
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		t.Fatal(err)
	}
	s := memstore.New(nil)
	if _, err := s.CreateRequest(ctx, &r); err != nil {
		t.Fatal(err)
	}
	if err := s.IndexRun(ctx, "plan", 5, "req-l"); err != nil {
		t.Fatal(err)
	}
	rep, err := migrate.Audit(ctx, s, &migrate.AuditOptions{Now: time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range rep.Violations {
		if v.Invariant == migrate.InvLenient {
			got = append(got, v.Detail)
		}
	}
	for _, path := range []string{"version", "config", "runs.plan.attempts[0].dispatchedAt", "runs.plan.attempts[0].completedAt"} {
		found := false
		for _, d := range got {
			found = found || strings.HasPrefix(d, path+" = ")
		}
		if !found {
			t.Errorf("audit does not report %s; lenient findings: %q", path, got)
		}
	}
}
