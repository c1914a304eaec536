package tfoutput_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tfpilot/tfpilot/tfoutput"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParse_RealisticJobLogs: Terraform's summary, change lines and
// errors come out of GitHub job logs (timestamps, groups, box drawing,
// colour) as an approver needs them.
func TestParse_RealisticJobLogs(t *testing.T) {
	t.Parallel()
	const m = "module.s3_bucket_req_abc123."
	cases := []struct {
		file string
		want tfoutput.Summary
	}{
		{"plan_create.log", tfoutput.Summary{State: tfoutput.StatePlanned,
			Headline: "Plan: 2 to add, 0 to change, 0 to destroy.", Counts: &tfoutput.Counts{Add: 2},
			Changes:       []tfoutput.Change{{m + "aws_s3_bucket.this", "create"}, {m + "aws_s3_bucket_versioning.this", "create"}},
			PlanDigest:    "sha256:3f6c2a1e9b8d7c6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa0011",
			PlannedCommit: "7d5a3c0e1f2b4a6c8e9d0f1a2b3c4d5e6f708192"}},
		{"plan_mixed.log", tfoutput.Summary{State: tfoutput.StatePlanned,
			Headline: "Plan: 1 to import, 1 to add, 1 to change, 2 to destroy.",
			Counts:   &tfoutput.Counts{Import: 1, Add: 1, Change: 1, Destroy: 2},
			Changes: []tfoutput.Change{{"aws_iam_role.legacy", "import"}, {m + "aws_s3_bucket.this", "update"},
				{m + "aws_s3_bucket_policy.this", "delete"}, {m + "random_id.suffix", "replace"},
				{m + "aws_s3_object.readme", "move"}}}},
		{"plan_no_changes.log", tfoutput.Summary{State: tfoutput.StateNoChanges,
			Headline: "No changes. Your infrastructure matches the configuration.", Counts: &tfoutput.Counts{}}},
		{"plan_no_changes_colour.log", tfoutput.Summary{State: tfoutput.StateNoChanges,
			Headline: "No changes. Your infrastructure matches the configuration.", Counts: &tfoutput.Counts{}}},
		{"plan_failed.log", tfoutput.Summary{State: tfoutput.StateFailed,
			Errors: []string{"Error: Unsupported argument", "Error: Missing required argument"}}},
		{"apply.log", tfoutput.Summary{State: tfoutput.StateApplied,
			Headline: "Apply complete! Resources: 2 added, 0 changed, 0 destroyed.", Counts: &tfoutput.Counts{Add: 2},
			Changes: []tfoutput.Change{{m + "aws_s3_bucket.this", "create"}, {m + "aws_s3_bucket_versioning.this", "create"}}}},
		{"apply_failed.log", tfoutput.Summary{State: tfoutput.StateFailed,
			Headline: "Plan: 1 to add, 0 to change, 0 to destroy.", Counts: &tfoutput.Counts{Add: 1},
			Errors: []string{"Error: creating S3 Bucket (acme-reports): BucketAlreadyExists: The requested bucket name is not available."}}},
		{"destroy.log", tfoutput.Summary{State: tfoutput.StateDestroyed,
			Headline: "Destroy complete! Resources: 1 destroyed.", Counts: &tfoutput.Counts{Destroy: 1},
			Changes: []tfoutput.Change{{m + "aws_s3_bucket.this", "delete"}}}},
		{"not_terraform.log", tfoutput.Summary{State: tfoutput.StateNotTerraform}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			got := tfoutput.Parse(fixture(t, tc.file))
			if !reflect.DeepEqual(got, tc.want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(tc.want, "", " ")
				t.Fatalf("got\n%s\nwant\n%s", g, w)
			}
		})
	}
}

func TestParse_AbsentLogIsAStateNotAnError(t *testing.T) {
	t.Parallel()
	for _, in := range [][]byte{nil, {}, []byte(" \n\t\n")} {
		if s := tfoutput.Parse(in); s.State != tfoutput.StateNoLog {
			t.Errorf("Parse(%q).State = %q, want %q", in, s.State, tfoutput.StateNoLog)
		}
	}
}

// TestParse_HugeLogIsReadFromItsEndWithinBounds: a log far beyond the
// input limit (a refresh of thousands of resources, thousands of change
// lines) still yields the final summary, reports truncation, and keeps
// the output within its limits.
func TestParse_HugeLogIsReadFromItsEndWithinBounds(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	for b.Len() < 12<<20 {
		b.WriteString("2026-01-02T03:04:05.0000000Z module.big.aws_s3_object.part: Refreshing state... [id=" + strings.Repeat("x", 80) + "]\n")
	}
	for i := 0; i < 5000; i++ {
		b.WriteString("2026-01-02T03:04:06.0000000Z   # module.big.aws_s3_object.part[" + strings.Repeat("9", 4) + "] will be created\n")
	}
	b.WriteString("2026-01-02T03:04:07.0000000Z Error: " + strings.Repeat("é", 2000) + "\n")
	b.WriteString("2026-01-02T03:04:07.0000000Z Plan: 5000 to add, 0 to change, 0 to destroy.\n")
	lim := tfoutput.Limits{MaxInput: 1 << 20, MaxChanges: 50, MaxErrors: 3, MaxLine: 100}
	s := tfoutput.ParseLimits(b.Bytes(), lim)
	if !s.Truncated || s.State != tfoutput.StateFailed || s.Counts == nil || s.Counts.Add != 5000 {
		t.Fatalf("summary %+v", s)
	}
	if len(s.Changes) != 50 || s.OmittedChanges != 4950 || len(s.Errors) != 1 {
		t.Fatalf("changes %d (omitted %d), errors %d", len(s.Changes), s.OmittedChanges, len(s.Errors))
	}
	if len(s.Errors[0]) > 100 || !utf8.ValidString(s.Errors[0]) {
		t.Fatalf("error line not bounded on a rune boundary: %d bytes", len(s.Errors[0]))
	}
	out, _ := json.Marshal(s)
	if len(out) > 16<<10 {
		t.Fatalf("summary is %d bytes", len(out))
	}
}

// TestParse_PlannedCommitOnlyFromTheWorkflowsOwnLine: the commit a plan
// checked out is read from the plan workflow's "tfpilot-planned-commit:"
// line only when it is a whole commit id; anything else (a short or
// upper-case id, trailing text, the line inside a step's echo command) is
// no planned commit, so a pinned plan is never verified by a look-alike.
func TestParse_PlannedCommitOnlyFromTheWorkflowsOwnLine(t *testing.T) {
	t.Parallel()
	const sha = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name, log, want string
	}{
		{"plain", "tfpilot-planned-commit: " + sha + "\n", sha},
		{"timestamped", "2026-01-02T03:04:14.4530000Z tfpilot-planned-commit: " + sha + "\n", sha},
		{"sha256 repository", "tfpilot-planned-commit: " + sha + sha[:24] + "\n", sha + sha[:24]},
		{"short", "tfpilot-planned-commit: " + sha[:12] + "\n", ""},
		{"upper case", "tfpilot-planned-commit: " + strings.ToUpper(sha) + "\n", ""},
		{"trailing text", "tfpilot-planned-commit: " + sha + " (main)\n", ""},
		{"the step's command", "##[group]Run echo \"tfpilot-planned-commit: $(git rev-parse HEAD)\"\n", ""},
		{"absent", "Plan: 1 to add, 0 to change, 0 to destroy.\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tfoutput.Parse([]byte(tc.log)).PlannedCommit; got != tc.want {
				t.Fatalf("PlannedCommit = %q, want %q", got, tc.want)
			}
		})
	}
}
