package tfoutput

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// State says what a log showed.
type State string

// The states of a [Summary].
const (
	// StateNoLog: there was no log to read (empty input).
	StateNoLog State = "no_log"
	// StateNotTerraform: the log holds no plan, apply or destroy summary
	// and no Terraform error (another tool's log, or a job that failed
	// before Terraform ran).
	StateNotTerraform State = "not_terraform"
	// StatePlanned: a plan with changes ("Plan: ...", or output changes).
	StatePlanned State = "planned"
	// StateNoChanges: a plan without changes ("No changes.").
	StateNoChanges State = "no_changes"
	// StateApplied: "Apply complete! Resources: ...".
	StateApplied State = "applied"
	// StateDestroyed: "Destroy complete! Resources: ...".
	StateDestroyed State = "destroyed"
	// StateFailed: Terraform printed at least one error.
	StateFailed State = "failed"
)

// Counts are the numbers of a plan's or an apply's summary line.
type Counts struct {
	Import  int `json:"import,omitempty"`
	Add     int `json:"add"`
	Change  int `json:"change"`
	Destroy int `json:"destroy"`
}

// Change is one resource change line of a plan.
type Change struct {
	// Address is the resource address, e.g.
	// "module.s3_bucket_req_abc.aws_s3_bucket.this".
	Address string `json:"address"`
	// Action is what the plan does to it: "create", "update", "replace",
	// "delete", "read", "move" or "import".
	Action string `json:"action"`
}

// Summary is what [Parse] found in a log. Its JSON encoding is what
// tfpilot stores on an attempt.
type Summary struct {
	State State `json:"state"`
	// Headline is Terraform's summary line as printed (bounded), e.g.
	// "Plan: 1 to add, 0 to change, 0 to destroy.".
	Headline string `json:"headline,omitempty"`
	// Counts are the numbers of the headline, when it has them.
	Counts *Counts `json:"counts,omitempty"`
	// Changes are the plan's resource change lines, in log order.
	Changes []Change `json:"changes,omitempty"`
	// OmittedChanges counts change lines beyond Limits.MaxChanges.
	OmittedChanges int `json:"omittedChanges,omitempty"`
	// Errors are Terraform's error summaries ("Error: ..."), in log
	// order, at most Limits.MaxErrors.
	Errors []string `json:"errors,omitempty"`
	// PlanDigest is the digest of the saved plan file the plan workflow
	// printed ("tfpilot-plan-digest: sha256:<hex>", see workflows/plan.yml),
	// when it did: what an approval can name and an apply can verify.
	PlanDigest string `json:"planDigest,omitempty"`
	// PlannedCommit is the commit the plan workflow checked out and
	// planned, as it printed it ("tfpilot-planned-commit: <sha>", see
	// workflows/plan.yml), when it did. A plan pinned to a commit (the
	// plan_sha input) is verified against it.
	PlannedCommit string `json:"plannedCommit,omitempty"`
	// Truncated is true when the input was longer than Limits.MaxInput
	// (only its end was read) or a kept line was shortened.
	Truncated bool `json:"truncated,omitempty"`
}

// Limits bound [ParseLimits]. Zero fields take the defaults.
type Limits struct {
	// MaxInput is how many bytes of the log are read, from its end.
	// Default 4 MiB.
	MaxInput int
	// MaxChanges is how many change lines are kept. Default 200.
	MaxChanges int
	// MaxErrors is how many errors are kept. Default 20.
	MaxErrors int
	// MaxLine is the longest kept line, in bytes. Default 512.
	MaxLine int
}

// Defaults of [Limits].
const (
	DefaultMaxInput   = 4 << 20
	DefaultMaxChanges = 200
	DefaultMaxErrors  = 20
	DefaultMaxLine    = 512
)

func (l Limits) withDefaults() Limits {
	if l.MaxInput <= 0 {
		l.MaxInput = DefaultMaxInput
	}
	if l.MaxChanges <= 0 {
		l.MaxChanges = DefaultMaxChanges
	}
	if l.MaxErrors <= 0 {
		l.MaxErrors = DefaultMaxErrors
	}
	if l.MaxLine <= 0 {
		l.MaxLine = DefaultMaxLine
	}
	return l
}

var (
	// GitHub prefixes each job log line with its time.
	timestampPrefix = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?`)
	ansi            = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)
	planLine        = regexp.MustCompile(`^Plan: (?:(\d+) to import, )?(\d+) to add, (\d+) to change, (\d+) to destroy\.`)
	applyLine       = regexp.MustCompile(`^Apply complete! Resources: (?:(\d+) imported, )?(\d+) added, (\d+) changed, (\d+) destroyed\.`)
	destroyLine     = regexp.MustCompile(`^Destroy complete! Resources: (\d+) destroyed\.`)
	digestLine      = regexp.MustCompile(`^tfpilot-plan-digest: (sha256:[0-9a-f]{64})$`)
	commitLine      = regexp.MustCompile(`^tfpilot-planned-commit: ([0-9a-f]{40}|[0-9a-f]{64})$`)
	changeLine      = regexp.MustCompile(`^# (\S+) (will be created|will be destroyed|will be updated in-place|must be replaced|will be replaced, as requested|will be read during apply|has moved to \S+|will be imported)`)
)

var actions = map[string]string{
	"will be created":                "create",
	"will be destroyed":              "delete",
	"will be updated in-place":       "update",
	"must be replaced":               "replace",
	"will be replaced, as requested": "replace",
	"will be read during apply":      "read",
	"will be imported":               "import",
}

// Parse returns the summary of a job log with the default [Limits].
func Parse(log []byte) Summary { return ParseLimits(log, Limits{}) }

// ParseLimits returns the summary of a job log within lim.
func ParseLimits(log []byte, lim Limits) Summary {
	lim = lim.withDefaults()
	var s Summary
	if len(bytes.TrimSpace(log)) == 0 {
		s.State = StateNoLog
		return s
	}
	if len(log) > lim.MaxInput {
		log = log[len(log)-lim.MaxInput:]
		if i := bytes.IndexByte(log, '\n'); i >= 0 {
			log = log[i+1:] // drop the partial first line
		}
		s.Truncated = true
	}
	var (
		headline    string
		counts      *Counts
		kind        State
		outputsOnly bool
	)
	for len(log) > 0 {
		var raw []byte
		if i := bytes.IndexByte(log, '\n'); i >= 0 {
			raw, log = log[:i], log[i+1:]
		} else {
			raw, log = log, nil
		}
		line := clean(raw)
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "Error: "):
			if len(s.Errors) < lim.MaxErrors {
				s.Errors = append(s.Errors, s.bound(line, lim.MaxLine))
			}
		case strings.HasPrefix(line, "# "):
			m := changeLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			if len(s.Changes) >= lim.MaxChanges {
				s.OmittedChanges++
				continue
			}
			action, ok := actions[m[2]]
			if !ok {
				action = "move"
			}
			s.Changes = append(s.Changes, Change{Address: s.bound(m[1], lim.MaxLine), Action: action})
		case strings.HasPrefix(line, "Plan: "):
			if m := planLine.FindStringSubmatch(line); m != nil {
				headline, kind = line, StatePlanned
				counts = &Counts{Import: atoi(m[1]), Add: atoi(m[2]), Change: atoi(m[3]), Destroy: atoi(m[4])}
			}
		case strings.HasPrefix(line, "tfpilot-plan-digest: "):
			if m := digestLine.FindStringSubmatch(line); m != nil {
				s.PlanDigest = m[1]
			}
		case strings.HasPrefix(line, "tfpilot-planned-commit: "):
			if m := commitLine.FindStringSubmatch(line); m != nil {
				s.PlannedCommit = m[1]
			}
		case strings.HasPrefix(line, "No changes."):
			headline, kind, counts = line, StateNoChanges, &Counts{}
		case strings.HasPrefix(line, "Changes to Outputs:"):
			outputsOnly = true
		case strings.HasPrefix(line, "Apply complete!"):
			if m := applyLine.FindStringSubmatch(line); m != nil {
				headline, kind = line, StateApplied
				counts = &Counts{Import: atoi(m[1]), Add: atoi(m[2]), Change: atoi(m[3]), Destroy: atoi(m[4])}
			}
		case strings.HasPrefix(line, "Destroy complete!"):
			if m := destroyLine.FindStringSubmatch(line); m != nil {
				headline, kind, counts = line, StateDestroyed, &Counts{Destroy: atoi(m[1])}
			}
		}
	}
	switch {
	case len(s.Errors) > 0:
		s.State = StateFailed
	case kind != "":
		s.State = kind
	case outputsOnly:
		s.State, counts = StatePlanned, &Counts{}
	default:
		s.State = StateNotTerraform
	}
	if headline != "" {
		s.Headline = s.bound(headline, lim.MaxLine)
	}
	s.Counts = counts
	return s
}

// clean removes GitHub's timestamp, ANSI colour codes, Terraform's box
// drawing ("│ Error: ...") and surrounding space from a log line.
func clean(raw []byte) string {
	line := string(raw)
	line = strings.TrimRight(line, "\r")
	line = timestampPrefix.ReplaceAllString(line, "")
	if strings.IndexByte(line, 0x1b) >= 0 {
		line = ansi.ReplaceAllString(line, "")
	}
	line = strings.TrimSpace(line)
	for _, box := range []string{"│", "╷", "╵"} {
		line = strings.TrimPrefix(line, box)
	}
	return strings.TrimSpace(line)
}

// bound cuts s to at most n bytes on a rune boundary, noting the cut.
func (sum *Summary) bound(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	sum.Truncated = true
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
