package migrate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// Invariant names a rule [Audit] checks. The INV- names are the seed's.
type Invariant string

// The invariants [Audit] checks.
const (
	// InvCore1: run state lives only in runs.{plan,apply,destroy}. A
	// top-level field such as a legacy planRun, applyRunId or runId is
	// run state outside runs.
	InvCore1 Invariant = "INV-CORE-1"
	// InvCore3: only dispatch creates attempts, numbered one past the
	// highest, so a kind's attempt numbers are exactly 1..n: no gaps, no
	// duplicates, none below 1.
	InvCore3 Invariant = "INV-CORE-3"
	// InvCore4: the current attempt is the one whose number equals
	// currentAttempt, so currentAttempt names an existing attempt, or is
	// 0 when there are none.
	InvCore4 Invariant = "INV-CORE-4"
	// InvComp1: completedAt is set only on a completed attempt, and
	// never before its dispatchedAt.
	InvComp1 Invariant = "INV-COMP-1"
	// InvLockExpired: a live request holds a lock whose expiresAt has
	// passed. An expired lock is no lock, and sync clears it; one left
	// in a document means sync never ran on it.
	InvLockExpired Invariant = "LOCK-EXPIRED"
	// InvRunIndex: every attempt with a run id is in the run index under
	// its kind and run id, pointing at its request, and every run index
	// entry points at a request that has that run.
	InvRunIndex Invariant = "INDEX-RUN"
	// InvPRIndex: a request's pull request (targetOwner/targetRepo and
	// pr.number) is in the PR index pointing at the request, and every
	// PR index entry points at a request with that pull request.
	InvPRIndex Invariant = "INDEX-PR"
	// InvLenient: every stored value has the schema's shape. A value
	// the original system wrote loosely (an empty or malformed
	// timestamp, a number written as a string, a config stored as a JSON
	// string, an epoch time, a byte-order mark) is read the way it read
	// it and kept as written (see [store.Request.DecodeIssues]); the
	// audit names each.
	InvLenient Invariant = "LENIENT-READ"
	// InvUnreadable: every object in a kind's place can be read as an
	// item. An object that cannot (an empty or non-JSON body, a document
	// without id) is quarantined by a copy; RequestID is then the
	// object's key. Reported for stores that are a
	// [store.FateExporter].
	InvUnreadable Invariant = "UNREADABLE"
)

// Violation is one breach of an [Invariant] by one request.
type Violation struct {
	// RequestID is the request concerned; for an index entry that points
	// at a missing request, the id the entry names.
	RequestID string
	// Archived is true when the request is in history.
	Archived  bool
	Invariant Invariant
	// Kind is the run kind concerned, if any.
	Kind runs.Kind
	// Detail says what is wrong, for people.
	Detail string
}

// String formats v on one line: "<request> <invariant> [<kind>: ]<detail>".
func (v Violation) String() string {
	var b strings.Builder
	b.WriteString(v.RequestID)
	if v.Archived {
		b.WriteString(" (archived)")
	}
	b.WriteString(" ")
	b.WriteString(string(v.Invariant))
	b.WriteString(" ")
	if v.Kind != "" {
		b.WriteString(string(v.Kind))
		b.WriteString(": ")
	}
	b.WriteString(v.Detail)
	return b.String()
}

// compareViolations orders violations by request, invariant, kind and
// detail, so that a report reads the same on every run.
func compareViolations(a, b Violation) int {
	if c := strings.Compare(a.RequestID, b.RequestID); c != 0 {
		return c
	}
	if a.Archived != b.Archived {
		if a.Archived {
			return 1
		}
		return -1
	}
	if c := strings.Compare(string(a.Invariant), string(b.Invariant)); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
		return c
	}
	return strings.Compare(a.Detail, b.Detail)
}

// legacyRunFields are top-level fields older documents used for run
// state before runs existed.
var legacyRunFields = []string{"runId", "runUrl", "runStatus", "runConclusion", "workflowRunId", "currentAttempt", "attempts"}

// isLegacyRunField reports whether a top-level field name holds run
// state: one of legacyRunFields, or a run kind followed by "Run"
// (planRun, applyRunId, destroyRunStatus, …).
func isLegacyRunField(name string) bool {
	if slices.Contains(legacyRunFields, name) {
		return true
	}
	for _, k := range runs.Kinds() {
		if rest, ok := strings.CutPrefix(name, string(k)); ok && strings.HasPrefix(rest, "Run") {
			return true
		}
	}
	return false
}

// checkDocument returns the violations r's document shows on its own
// (no index look-ups) at now. Locks are checked on live requests only.
func checkDocument(r *store.Request, archived bool, now time.Time) []Violation {
	var out []Violation
	add := func(inv Invariant, kind runs.Kind, format string, args ...any) {
		out = append(out, Violation{RequestID: r.ID, Archived: archived, Invariant: inv, Kind: kind, Detail: fmt.Sprintf(format, args...)})
	}
	for name := range r.UnknownFields() {
		if isLegacyRunField(name) {
			add(InvCore1, "", "top-level field %q holds run state outside runs", name)
		}
	}
	for _, k := range runs.Kinds() {
		op := r.Runs.Op(k)
		seen := make(map[int]int)
		highest := 0
		for i, a := range op.Attempts {
			if a.Attempt < 1 {
				add(InvCore3, k, "attempt at position %d has number %d", i, a.Attempt)
				continue
			}
			seen[a.Attempt]++
			highest = max(highest, a.Attempt)
		}
		var missing []string
		for n := 1; n <= highest; n++ {
			switch c := seen[n]; {
			case c == 0:
				missing = append(missing, strconv.Itoa(n))
			case c > 1:
				add(InvCore3, k, "attempt number %d appears %d times", n, c)
			}
		}
		if len(missing) > 0 {
			add(InvCore3, k, "attempt numbers skip %s (highest %d)", strings.Join(missing, ", "), highest)
		}
		switch {
		case op.CurrentAttempt == 0 && len(op.Attempts) > 0:
			add(InvCore4, k, "currentAttempt is 0 but there are %d attempts", len(op.Attempts))
		case op.CurrentAttempt != 0 && seen[op.CurrentAttempt] == 0:
			add(InvCore4, k, "currentAttempt %d names no attempt (attempts: %s)", op.CurrentAttempt, attemptNumbers(op))
		}
		for _, a := range op.Attempts {
			if a.CompletedAt.IsZero() {
				continue
			}
			if a.Status != runs.StatusCompleted {
				add(InvComp1, k, "attempt %d has completedAt %s but status %q", a.Attempt, stamp(a.CompletedAt), a.Status)
			}
			if !a.DispatchedAt.IsZero() && a.CompletedAt.Before(a.DispatchedAt) {
				add(InvComp1, k, "attempt %d completedAt %s is before dispatchedAt %s", a.Attempt, stamp(a.CompletedAt), stamp(a.DispatchedAt))
			}
		}
	}
	if !archived && r.Lock != nil && !r.Lock.Active(now) {
		add(InvLockExpired, "", "lock held by %q for %q expired at %s", r.Lock.Holder, r.Lock.Operation, stamp(r.Lock.ExpiresAt))
	}
	return out
}

func attemptNumbers(op runs.Op) string {
	if len(op.Attempts) == 0 {
		return "none"
	}
	s := make([]string, len(op.Attempts))
	for i, a := range op.Attempts {
		s[i] = strconv.Itoa(a.Attempt)
	}
	return strings.Join(s, ", ")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "(none)"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// prRef returns the PR index key of r's pull request, if r names one
// completely.
func prRef(r *store.Request) (store.PRRef, bool) {
	if r.PR == nil || r.PR.Number <= 0 || r.TargetOwner == "" || r.TargetRepo == "" {
		return store.PRRef{}, false
	}
	return store.PRRef{Owner: r.TargetOwner, Repo: r.TargetRepo, Number: r.PR.Number}, true
}
