package runs

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/tfpilot/tfpilot/tfoutput"
)

// Kind names the operation a run performs.
type Kind string

// The run kinds a request owns.
const (
	Plan    Kind = "plan"
	Apply   Kind = "apply"
	Destroy Kind = "destroy"
)

// Kinds lists every [Kind] in lifecycle order.
func Kinds() []Kind { return []Kind{Plan, Apply, Destroy} }

// Valid reports whether k is one of [Plan], [Apply] or [Destroy].
func (k Kind) Valid() bool { return k == Plan || k == Apply || k == Destroy }

// GitHub workflow-run statuses, as GitHub spells them.
const (
	StatusRequested  = "requested"
	StatusQueued     = "queued"
	StatusPending    = "pending"
	StatusWaiting    = "waiting"
	StatusInProgress = "in_progress"
	StatusCompleted  = "completed"
)

// GitHub workflow-run conclusions, as GitHub spells them.
const (
	ConclusionSuccess        = "success"
	ConclusionFailure        = "failure"
	ConclusionCancelled      = "cancelled"
	ConclusionTimedOut       = "timed_out"
	ConclusionActionRequired = "action_required"
	ConclusionStartupFailure = "startup_failure"
	ConclusionStale          = "stale"
	ConclusionNeutral        = "neutral"
	ConclusionSkipped        = "skipped"
)

// IsFailedConclusion reports whether c is one of the six conclusions that
// make a run count as failed: failure, cancelled, timed_out,
// action_required, startup_failure and stale.
func IsFailedConclusion(c string) bool {
	switch c {
	case ConclusionFailure, ConclusionCancelled, ConclusionTimedOut,
		ConclusionActionRequired, ConclusionStartupFailure, ConclusionStale:
		return true
	}
	return false
}

// Attempt is one dispatch of a workflow for a request.
type Attempt struct {
	// Attempt is the attempt's number, 1-based and unique within its Op.
	Attempt int `json:"attempt"`
	// RunID is GitHub's workflow run id, 0 until it is known.
	RunID int64 `json:"runId,omitempty"`
	// URL is the run's html_url.
	URL string `json:"url,omitempty"`
	// Status is GitHub's run status (queued, in_progress, completed, …).
	Status string `json:"status,omitempty"`
	// Conclusion is GitHub's run conclusion, empty until the run completes.
	Conclusion string `json:"conclusion,omitempty"`
	// DispatchedAt is when tfpilot recorded the dispatch.
	DispatchedAt time.Time `json:"dispatchedAt,omitzero"`
	// CompletedAt is when the run completed (INV-COMP-1).
	CompletedAt time.Time `json:"completedAt,omitzero"`
	// HeadSHA is the commit the run is of: the commit the attempt was
	// dispatched for until GitHub reports the run's head_sha, then
	// GitHub's (as the original TfPilot records it). Compare it with
	// DispatchedSHA through [HeadMismatch].
	HeadSHA string `json:"headSha,omitempty"`
	// DispatchedSHA is the commit tfpilot dispatched the attempt for. It
	// is set by [Dispatch] and never changed, except that
	// [PatchByRunID] fills it from HeadSHA for an attempt recorded
	// without it (a document the original wrote) when it replaces
	// HeadSHA with a different run head. Empty when unknown.
	DispatchedSHA string `json:"dispatchedSha,omitempty"`
	// PinnedSHA is the commit a plan attempt was pinned to: the workflow
	// was asked (the plan_sha input) to check out and plan this commit
	// rather than its ref's head. The run's head_sha (HeadSHA) is then
	// only the ref's head whose workflow file ran; what the run planned is
	// what its log reports (Output.PlannedCommit). See [PlannedCommit]
	// and [HeadMismatch]. Empty for an attempt that runs its ref's head.
	PinnedSHA string `json:"pinnedSha,omitempty"`
	// Ref is the git ref the workflow was dispatched on.
	Ref string `json:"ref,omitempty"`
	// Actor is who asked for the dispatch.
	Actor string `json:"actor,omitempty"`
	// Nonce is a random value passed to the workflow as an input so the
	// run can be found again if the dispatch's answer is lost.
	Nonce string `json:"nonce,omitempty"`
	// Output is Terraform's summary read from the completed run's job log
	// (see [SetOutput]); nil until read. Set once, never modified.
	Output *tfoutput.Summary `json:"output,omitempty"`
}

// Op is the run history of one [Kind].
type Op struct {
	// CurrentAttempt is the number of the current attempt; 0 means none.
	CurrentAttempt int `json:"currentAttempt"`
	// Attempts holds every attempt, in dispatch order.
	Attempts []Attempt `json:"attempts"`
}

// State holds the runs of a request, one [Op] per [Kind] (INV-CORE-1: run
// state lives nowhere else).
type State struct {
	Plan    Op `json:"plan"`
	Apply   Op `json:"apply"`
	Destroy Op `json:"destroy"`
}

// Op returns the Op of kind k, or the zero Op for an unknown kind.
func (s State) Op(k Kind) Op {
	switch k {
	case Plan:
		return s.Plan
	case Apply:
		return s.Apply
	case Destroy:
		return s.Destroy
	}
	return Op{}
}

// withOp returns a copy of s whose Op of kind k is op.
func (s State) withOp(k Kind, op Op) State {
	switch k {
	case Plan:
		s.Plan = op
	case Apply:
		s.Apply = op
	case Destroy:
		s.Destroy = op
	}
	return s
}

// Clone returns a deep copy of s.
func (s State) Clone() State {
	s.Plan.Attempts = cloneOutputs(slices.Clone(s.Plan.Attempts))
	s.Apply.Attempts = cloneOutputs(slices.Clone(s.Apply.Attempts))
	s.Destroy.Attempts = cloneOutputs(slices.Clone(s.Destroy.Attempts))
	return s
}

// DispatchMeta describes a dispatch being recorded by [Dispatch].
type DispatchMeta struct {
	HeadSHA string
	Ref     string
	Actor   string
	Nonce   string
	// Pinned asks the workflow to run HeadSHA itself, not Ref's head:
	// the attempt records it as PinnedSHA.
	Pinned bool
}

// Dispatch returns s with a new attempt of kind k appended and made
// current. It is the only function that adds attempts or moves
// CurrentAttempt (INV-CORE-3). The new attempt is numbered one past the
// highest existing number, starts queued, and has no run id yet: the caller
// persists it before calling GitHub, then attaches the run id with
// [AttachRunID]. An unknown kind returns s unchanged.
func Dispatch(s State, k Kind, meta DispatchMeta, now time.Time) State {
	if !k.Valid() {
		return s
	}
	op := s.Op(k)
	n := 0
	for _, a := range op.Attempts {
		n = max(n, a.Attempt)
	}
	n++
	attempts := make([]Attempt, len(op.Attempts), len(op.Attempts)+1)
	copy(attempts, op.Attempts)
	pinned := ""
	if meta.Pinned {
		pinned = meta.HeadSHA
	}
	attempts = append(attempts, Attempt{
		Attempt:       n,
		PinnedSHA:     pinned,
		Status:        StatusQueued,
		DispatchedAt:  now,
		HeadSHA:       meta.HeadSHA,
		DispatchedSHA: meta.HeadSHA,
		Ref:           meta.Ref,
		Actor:         meta.Actor,
		Nonce:         meta.Nonce,
	})
	return s.withOp(k, Op{CurrentAttempt: n, Attempts: attempts})
}

// Current returns the attempt of kind k whose number equals
// CurrentAttempt (INV-CORE-4). It reports false when CurrentAttempt is 0 or
// names no attempt; it never falls back to the last attempt.
func Current(s State, k Kind) (Attempt, bool) {
	op := s.Op(k)
	if op.CurrentAttempt == 0 {
		return Attempt{}, false
	}
	for _, a := range op.Attempts {
		if a.Attempt == op.CurrentAttempt {
			return a, true
		}
	}
	return Attempt{}, false
}

// FindByRunID returns the attempt of kind k that carries runID.
func FindByRunID(s State, k Kind, runID int64) (Attempt, bool) {
	if runID == 0 {
		return Attempt{}, false
	}
	for _, a := range s.Op(k).Attempts {
		if a.RunID == runID {
			return a, true
		}
	}
	return Attempt{}, false
}

// FindByNonce returns the attempt of kind k dispatched with nonce.
func FindByNonce(s State, k Kind, nonce string) (Attempt, bool) {
	if nonce == "" {
		return Attempt{}, false
	}
	for _, a := range s.Op(k).Attempts {
		if a.Nonce == nonce {
			return a, true
		}
	}
	return Attempt{}, false
}

// AttachRunID returns s with runID and url recorded on attempt number
// attempt of kind k. It never replaces a different run id already attached,
// and never attaches a run id that another attempt of the same kind
// already carries; in those cases, and when the attempt does not exist, it
// returns s unchanged and false. Attaching the run id an attempt already
// has is a no-op unless it fills in a missing url.
func AttachRunID(s State, k Kind, attempt int, runID int64, url string) (State, bool) {
	if runID <= 0 {
		return s, false
	}
	op := s.Op(k)
	idx := -1
	for i, a := range op.Attempts {
		switch {
		case a.Attempt == attempt:
			idx = i
		case a.RunID == runID:
			return s, false
		}
	}
	if idx < 0 {
		return s, false
	}
	a := op.Attempts[idx]
	switch {
	case a.RunID == 0:
		a.RunID = runID
		if url != "" {
			a.URL = url
		}
	case a.RunID == runID && a.URL == "" && url != "":
		a.URL = url
	default:
		return s, false
	}
	return s.withOp(k, replaceAttempt(op, idx, a)), true
}

func replaceAttempt(op Op, idx int, a Attempt) Op {
	attempts := slices.Clone(op.Attempts)
	attempts[idx] = a
	return Op{CurrentAttempt: op.CurrentAttempt, Attempts: attempts}
}

// FailDispatch returns s with attempt number attempt of kind k marked as
// never started (status completed, conclusion startup_failure), for the
// dispatch path to record a workflow_dispatch that GitHub refused outright.
// It applies only to an attempt that has no run id and no conclusion: once
// a run exists, only [PatchByRunID] concludes it. CompletedAt stays empty
// (INV-COMP-1: it comes only from a run's facts). It reports whether s
// changed.
func FailDispatch(s State, k Kind, attempt int) (State, bool) {
	op := s.Op(k)
	idx := slices.IndexFunc(op.Attempts, func(a Attempt) bool { return a.Attempt == attempt })
	if idx < 0 {
		return s, false
	}
	a := op.Attempts[idx]
	if a.RunID != 0 || a.Conclusion != "" {
		return s, false
	}
	a.Status, a.Conclusion = StatusCompleted, ConclusionStartupFailure
	return s.withOp(k, replaceAttempt(op, idx, a)), true
}

// RunFacts are the facts about a workflow run that GitHub reports, in a
// webhook's workflow_run object or the REST API's run object. It
// unmarshals from that JSON directly.
type RunFacts struct {
	ID          int64     `json:"id"`
	Status      string    `json:"status"`
	Conclusion  string    `json:"conclusion"`
	CompletedAt time.Time `json:"completed_at,omitzero"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
	HeadSHA     string    `json:"head_sha"`
	HTMLURL     string    `json:"html_url"`
}

// UnmarshalJSON decodes a GitHub run object, reading null conclusions and
// timestamps as empty. Timestamps are read leniently, as the original
// TfPilot reads them: surrounding spaces are trimmed, and a timestamp
// that is empty, not a string or not RFC 3339 reads as absent (zero)
// instead of failing the whole object.
func (f *RunFacts) UnmarshalJSON(b []byte) error {
	var raw struct {
		ID          int64           `json:"id"`
		Status      *string         `json:"status"`
		Conclusion  *string         `json:"conclusion"`
		CompletedAt json.RawMessage `json:"completed_at"`
		UpdatedAt   json.RawMessage `json:"updated_at"`
		HeadSHA     *string         `json:"head_sha"`
		HTMLURL     *string         `json:"html_url"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*f = RunFacts{
		ID:          raw.ID,
		Status:      strings.TrimSpace(deref(raw.Status)),
		Conclusion:  strings.TrimSpace(deref(raw.Conclusion)),
		CompletedAt: ParseTime(raw.CompletedAt),
		UpdatedAt:   ParseTime(raw.UpdatedAt),
		HeadSHA:     strings.TrimSpace(deref(raw.HeadSHA)),
		HTMLURL:     deref(raw.HTMLURL),
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ParseTime reads a GitHub timestamp leniently: raw is a JSON value; a
// string is trimmed and parsed as RFC 3339. Anything else (null, an empty
// or malformed string, a number) is absent: the zero time. GitHub's time
// strings are facts about a run, and one bad one must not hide the rest.
func ParseTime(raw json.RawMessage) time.Time {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return time.Time{}
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// statusRank orders run statuses so that a patch can only move forward.
// Statuses GitHub may add later rank just above requested; ties between
// two different statuses of equal rank break by name, so the result of
// patching does not depend on the order facts arrive in.
func statusRank(s string) int {
	switch s {
	case "":
		return 0
	case StatusRequested:
		return 1
	case StatusQueued:
		return 3
	case StatusPending:
		return 4
	case StatusWaiting:
		return 5
	case StatusInProgress:
		return 6
	case StatusCompleted:
		return 7
	}
	return 2
}

func laterStatus(cur, next string) string {
	rc, rn := statusRank(cur), statusRank(next)
	if rn > rc || (rn == rc && next > cur) {
		return next
	}
	return cur
}

// PatchByRunID returns s with the attempt of kind k that carries runID
// patched from f, and whether anything changed. The patch is monotonic:
// the status only moves forward (queued → in_progress → completed), a
// conclusion once set is never cleared or replaced, and CompletedAt is set
// once, from f.CompletedAt, else f.UpdatedAt, when the run is completed
// (INV-COMP-1). HeadSHA becomes the run's head SHA when f carries one
// (DispatchedSHA keeps the commit the attempt was dispatched for; see
// [HeadMismatch]); a missing URL is filled in. It never appends an
// attempt or moves CurrentAttempt (INV-CORE-3); with no attempt carrying
// runID it returns s unchanged and false.
func PatchByRunID(s State, k Kind, runID int64, f RunFacts) (State, bool) {
	if runID == 0 {
		return s, false
	}
	op := s.Op(k)
	idx := slices.IndexFunc(op.Attempts, func(a Attempt) bool { return a.RunID == runID })
	if idx < 0 {
		return s, false
	}
	old := op.Attempts[idx]
	a := old
	status := f.Status
	if status == "" && f.Conclusion != "" {
		status = StatusCompleted
	}
	a.Status = laterStatus(a.Status, status)
	if a.Conclusion == "" && f.Conclusion != "" {
		a.Conclusion = f.Conclusion
	}
	if a.CompletedAt.IsZero() && status == StatusCompleted {
		switch {
		case !f.CompletedAt.IsZero():
			a.CompletedAt = f.CompletedAt
		case !f.UpdatedAt.IsZero():
			a.CompletedAt = f.UpdatedAt
		}
	}
	if f.HeadSHA != "" && f.HeadSHA != a.HeadSHA {
		// GitHub's head_sha is what the run is of. Keep what the attempt
		// was dispatched for beside it, so a run of another commit shows
		// ([HeadMismatch]).
		if a.DispatchedSHA == "" {
			a.DispatchedSHA = a.HeadSHA
		}
		a.HeadSHA = f.HeadSHA
	}
	if a.URL == "" {
		a.URL = f.HTMLURL
	}
	if a == old {
		return s, false
	}
	return s.withOp(k, replaceAttempt(op, idx, a)), true
}

// NeedsReconcile reports whether a must be fetched from GitHub to learn
// its outcome: it has a run id and lacks a conclusion or a completion time
// (INV-REC-1).
func NeedsReconcile(a Attempt) bool {
	return a.RunID != 0 && (a.Conclusion == "" || a.CompletedAt.IsZero())
}

// Active reports whether a is in flight: it has no conclusion yet,
// whatever its status says. An attempt that is dispatched, running, or
// reported completed without a conclusion is in flight; only a
// conclusion ends it (as in the original TfPilot, where a current apply
// or destroy attempt without a conclusion is applying or destroying).
// Gates use it so that no second run of a kind starts over one whose
// outcome is unknown.
func Active(a Attempt) bool { return a.Conclusion == "" }

// Running reports whether GitHub reports a as waiting or running: it has
// no conclusion and a status other than empty or completed. It is
// narrower than [Active]; lifecycle derivation uses it for plans
// ("planning" means a plan run is queued or in progress).
func Running(a Attempt) bool {
	if a.Conclusion != "" {
		return false
	}
	switch a.Status {
	case "", StatusCompleted:
		return false
	}
	return true
}

// DispatchedFor returns the commit a was dispatched for: DispatchedSHA,
// or HeadSHA for an attempt recorded without it whose run head is not
// known to differ.
func DispatchedFor(a Attempt) string {
	if a.DispatchedSHA != "" {
		return a.DispatchedSHA
	}
	return a.HeadSHA
}

// HeadMismatch reports whether a's run is of another commit than the one
// a was dispatched for: both are known and differ. A plan whose run
// mismatches is not a plan of the commit it was dispatched for. For an
// attempt pinned to a commit (PinnedSHA), the run's head_sha is its
// ref's head and says nothing about what it planned: it mismatches when
// the commit its log reports having planned differs from PinnedSHA.
func HeadMismatch(a Attempt) bool {
	if a.PinnedSHA != "" {
		return a.Output != nil && a.Output.PlannedCommit != "" && a.Output.PlannedCommit != a.PinnedSHA
	}
	return a.DispatchedSHA != "" && a.HeadSHA != "" && a.HeadSHA != a.DispatchedSHA
}

// Succeeded reports whether a completed with conclusion success.
func Succeeded(a Attempt) bool { return a.Conclusion == ConclusionSuccess }

// Failed reports whether a ended with a failed conclusion
// (see [IsFailedConclusion]).
func Failed(a Attempt) bool { return IsFailedConclusion(a.Conclusion) }

// PlannedCommit returns the commit a's run planned, as far as it is
// known: for an attempt pinned to a commit, the commit its log reported
// (Output.PlannedCommit; empty until the output is read, or when the
// workflow did not report it); otherwise the run's head SHA (HeadSHA).
func PlannedCommit(a Attempt) string {
	if a.PinnedSHA != "" {
		if a.Output == nil {
			return ""
		}
		return a.Output.PlannedCommit
	}
	return a.HeadSHA
}
