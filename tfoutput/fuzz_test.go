package tfoutput_test

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/tfpilot/tfpilot/tfoutput"
)

// FuzzParse: any input gives a summary within the limits, with a known
// state, valid UTF-8 lines, non-negative counts, and the same summary
// every time.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"plan_create.log", "plan_mixed.log", "plan_failed.log", "apply.log", "not_terraform.log"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte("Plan: 99999999999999999999 to add, 0 to change, 0 to destroy.\n"))
	f.Add([]byte("│ Error: \xff\xfe\n# a.b will be created\n"))
	lim := tfoutput.Limits{MaxInput: 4096, MaxChanges: 5, MaxErrors: 2, MaxLine: 64}
	states := map[tfoutput.State]bool{tfoutput.StateNoLog: true, tfoutput.StateNotTerraform: true, tfoutput.StatePlanned: true,
		tfoutput.StateNoChanges: true, tfoutput.StateApplied: true, tfoutput.StateDestroyed: true, tfoutput.StateFailed: true}
	f.Fuzz(func(t *testing.T, log []byte) {
		s := tfoutput.ParseLimits(log, lim)
		if !states[s.State] {
			t.Fatalf("state %q", s.State)
		}
		if len(s.Changes) > lim.MaxChanges || len(s.Errors) > lim.MaxErrors || len(s.Headline) > lim.MaxLine {
			t.Fatalf("unbounded: %+v", s)
		}
		for _, l := range append(append([]string{s.Headline}, s.Errors...), func() []string {
			var a []string
			for _, c := range s.Changes {
				a = append(a, c.Address)
			}
			return a
		}()...) {
			if len(l) > lim.MaxLine || !utf8.ValidString(l) {
				t.Fatalf("line %q", l)
			}
		}
		if c := s.Counts; c != nil && (c.Add < 0 || c.Change < 0 || c.Destroy < 0 || c.Import < 0) {
			t.Fatalf("counts %+v", c)
		}
		a, _ := json.Marshal(s)
		b, _ := json.Marshal(tfoutput.ParseLimits(log, lim))
		if string(a) != string(b) {
			t.Fatal("not deterministic")
		}
	})
}
