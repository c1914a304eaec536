package main

import (
	"strings"
	"testing"
)

func TestSubcommandHelp_ExitsZeroWithTheFlagsOnStdout(t *testing.T) {
	for _, sub := range []string{"audit", "copy", "plan", "reindex"} {
		for _, arg := range []string{"-h", "--help"} {
			code, stdout, stderr := runCmd(t, sub, arg)
			if code != exitOK || !strings.Contains(stdout, "Usage of tfpilot-migrate "+sub) || stderr != "" {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q; want 0 and the usage on stdout only", sub, arg, code, stdout, stderr)
			}
		}
		if code, stdout, stderr := runCmd(t, sub, "--no-such-flag"); code != exitError || stdout != "" || !strings.Contains(stderr, "no-such-flag") {
			t.Errorf("%s --no-such-flag: exit %d, stdout %q, stderr %q; want 1 and the error on stderr", sub, code, stdout, stderr)
		}
	}
}
