package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/lock"
	"github.com/tfpilot/tfpilot/runs"
)

// SchemaVersion is the request document schema this package writes.
// Documents written by the original TfPilot have no schemaVersion (0).
const SchemaVersion = 1

// Request is the request document: the single schema of a tfpilot request
// and the only source of truth about it. Its JSON encoding is the original
// TfPilot's S3 document, so existing documents read and write unchanged.
//
// Fields that a stored document holds but this type does not model survive
// a decode/encode round trip, at the top level and inside modelled objects
// such as pr, approval and lock (see [Request.UnknownFields]). The legacy
// derived fields status and statusDerivedAt are dropped on decode: status
// is derived by [Request.Status], never read back.
type Request struct {
	SchemaVersion int            `json:"schemaVersion,omitempty"`
	ID            string         `json:"id"`
	Project       string         `json:"project"`
	Environment   string         `json:"environment"`
	Module        string         `json:"module"`
	Config        map[string]any `json:"config,omitzero"`
	ReceivedAt    time.Time      `json:"receivedAt,omitzero"`
	UpdatedAt     time.Time      `json:"updatedAt,omitzero"`
	// Version is the compare-and-swap counter every write checks.
	Version int64 `json:"version"`
	// CreatedBy is the login of the principal who created the request
	// (empty in documents written before it was recorded).
	CreatedBy string `json:"createdBy,omitempty"`

	PR            *PullRequest `json:"pr,omitempty"`
	MergedSHA     string       `json:"mergedSha,omitempty"`
	BranchName    string       `json:"branchName,omitempty"`
	CommitSHA     string       `json:"commitSha,omitempty"`
	TargetOwner   string       `json:"targetOwner,omitempty"`
	TargetRepo    string       `json:"targetRepo,omitempty"`
	TargetBase    string       `json:"targetBase,omitempty"`
	TargetEnvPath string       `json:"targetEnvPath,omitempty"`
	TargetFiles   []string     `json:"targetFiles,omitzero"`
	// CleanupPR is the pull request that removes the block after a
	// successful destroy.
	CleanupPR *PullRequest `json:"cleanupPr,omitempty"`

	// Runs is the only place run state lives (INV-CORE-1).
	Runs        runs.State                 `json:"runs"`
	Approval    *Approval                  `json:"approval,omitempty"`
	Lock        *lock.Lock                 `json:"lock,omitempty"`
	Idempotency map[string]IdempotencyMark `json:"idempotency,omitzero"`
	Timeline    []json.RawMessage          `json:"timeline,omitzero"`
	Cost        json.RawMessage            `json:"cost,omitzero"`
	// Drift is the request's latest drift check (see
	// [Pilot.StartDriftCheck]); nil before the first.
	Drift *DriftCheck `json:"driftCheck,omitempty"`
	// Cancelled is set once the request was cancelled (see
	// [Pilot.Cancel]); a cancelled request is archived.
	Cancelled *Cancellation `json:"cancellation,omitempty"`
	// Outbox holds lifecycle events written with the change they describe
	// and not yet appended to the event store (see [StageEvent]).
	Outbox []Event `json:"outbox,omitzero"`

	raw *rawDoc
}

// PullRequest is the request's pull request in the infra repo.
type PullRequest struct {
	Number  int    `json:"number"`
	URL     string `json:"url,omitempty"`
	Open    bool   `json:"open"`
	Merged  bool   `json:"merged"`
	HeadSHA string `json:"headSha,omitempty"`
}

// Approval records who approved the request, for which head commit, and
// the GitHub reviews seen. Approved and Approvers are derived from the
// grants for HeadSHA by the approval rules (see [ApprovalWithReview]).
type Approval struct {
	Approved  bool     `json:"approved"`
	Approvers []string `json:"approvers,omitzero"`
	// HeadSHA is the head commit the approvers approved; a new head
	// voids the approval ([ApprovalForHead]).
	HeadSHA string `json:"headSha,omitempty"`
	// Grants are the approvals, each of one head commit.
	Grants []ApprovalGrant `json:"grants,omitzero"`
	// Reviews are the GitHub reviews seen, by review id, including those
	// that approve nothing.
	Reviews []ReviewFact `json:"reviews,omitzero"`
}

// IdempotencyMark records the last idempotency key used for an operation
// on the request.
type IdempotencyMark struct {
	Key string    `json:"key"`
	At  time.Time `json:"at,omitzero"`
}

// Facts returns the parts of r that its lifecycle status derives from.
func (r *Request) Facts() lifecycle.Facts {
	f := lifecycle.Facts{Runs: r.Runs, MergedSHA: r.MergedSHA}
	if r.PR != nil {
		f.PROpen, f.PRMerged = r.PR.Open, r.PR.Merged
	}
	f.Approved = ApprovalCounts(r.Approval, r.ApprovalHead())
	f.PlanApproved = r.PlanApproved()
	return f
}

// Status derives r's lifecycle status at now. Status is never stored as a
// fact; every caller derives it.
func (r *Request) Status(now time.Time) lifecycle.Status {
	return lifecycle.Derive(r.Facts(), now)
}

// Clone returns a deep copy of r.
func (r *Request) Clone() *Request {
	if r == nil {
		return nil
	}
	c := *r
	c.Config = cloneJSONMap(r.Config)
	if r.PR != nil {
		pr := *r.PR
		c.PR = &pr
	}
	if r.CleanupPR != nil {
		pr := *r.CleanupPR
		c.CleanupPR = &pr
	}
	c.TargetFiles = slices.Clone(r.TargetFiles)
	c.Runs = r.Runs.Clone()
	c.Approval = r.Approval.Clone()
	if r.Lock != nil {
		l := *r.Lock
		c.Lock = &l
	}
	c.Idempotency = maps.Clone(r.Idempotency)
	if r.Timeline != nil {
		c.Timeline = make([]json.RawMessage, len(r.Timeline))
		for i, t := range r.Timeline {
			c.Timeline[i] = bytes.Clone(t)
		}
	}
	c.Cost = bytes.Clone(r.Cost)
	c.Outbox = slices.Clone(r.Outbox) // staged events are never changed in place
	c.Drift = r.Drift.Clone()         // drift.go
	if r.Cancelled != nil {
		cc := *r.Cancelled
		c.Cancelled = &cc
	}
	// raw is never mutated after decode, so it is shared.
	return &c
}

// CloneConfig returns a deep copy of m, a decoded JSON object such as a
// request's Config (nil for nil).
func CloneConfig(m map[string]any) map[string]any { return cloneJSONMap(m) }

func cloneJSONMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneJSONValue(v)
	}
	return out
}

func cloneJSONValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneJSONMap(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneJSONValue(e)
		}
		return out
	case []string:
		return slices.Clone(v)
	case json.RawMessage:
		return bytes.Clone(v)
	}
	return v
}

// CanonicalJSON returns r's JSON encoding with Version zeroed, object
// keys sorted, no insignificant space and numbers kept as written. Two
// documents are the same document, whatever their versions, iff their
// canonical encodings are equal; stores use it to make an update that
// changes nothing a no-op.
func (r *Request) CanonicalJSON() ([]byte, error) {
	c := *r
	c.Version = 0
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// UnknownFields returns the top-level fields of the stored document that
// Request does not model (e.g. a legacy planRun or a portal's templateId),
// as raw JSON. The map is a copy.
func (r *Request) UnknownFields() map[string]json.RawMessage {
	if r.raw == nil {
		return nil
	}
	return r.raw.unknownTop(typeOfRequest)
}

// DecodeIssues returns the values of the stored document that decoding
// read leniently, the way the original system did: an empty or malformed
// timestamp read as absent, a number written as a string, a config
// stored as a JSON string, an epoch-millisecond time, a byte-order mark.
// Each stored value is written back unchanged unless its field is
// changed. None for a document tfpilot wrote or a Request built in code.
func (r *Request) DecodeIssues() []DecodeIssue {
	if r.raw == nil {
		return nil
	}
	return slices.Clone(r.raw.issues)
}

// requestJSON has Request's fields without its methods.
type requestJSON Request

// derivedFields are fields older documents store that are derived, not
// facts; they are dropped on decode.
var derivedFields = []string{"status", "statusDerivedAt"}

// UnmarshalJSON decodes a request document leniently and losslessly: a
// value whose shape is not the schema's is read the way the original
// system read it and reported by [Request.DecodeIssues]; what the type
// does not model, at any depth, is kept; [Request.MarshalJSON] writes
// both back as stored. A body that is not a JSON object is an error.
func (r *Request) UnmarshalJSON(b []byte) error {
	// Fast path: a document tfpilot wrote decodes in one strict pass;
	// DisallowUnknownFields applies at every level, so success proves
	// there is nothing to keep, and plainJSON that encoding it gives the
	// same text back.
	var doc requestJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if dec.Decode(&doc) == nil && doc.SchemaVersion >= 1 && plainJSON(b) {
		if _, err := dec.Token(); err == io.EOF {
			*r = Request(doc)
			return nil
		}
	}
	raw, doc, err := decodeLenient(b)
	if err != nil {
		return err
	}
	*r = Request(doc)
	r.raw = raw
	return nil
}

// decodeLenient is the slow path of [Request.UnmarshalJSON].
func decodeLenient(b []byte) (*rawDoc, requestJSON, error) {
	var doc requestJSON
	raw, err := decodeLossless(b, typeOfRequest, derivedFields, &doc)
	if err != nil {
		return nil, requestJSON{}, fmt.Errorf("store: decode request: %w", err)
	}
	return raw, doc, nil
}

// MarshalJSON encodes the request document, including what it was
// decoded with and does not model (see [Request.UnmarshalJSON]).
func (r Request) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(requestJSON(r))
	if err != nil {
		return nil, err
	}
	if r.raw == nil {
		return b, nil
	}
	return r.raw.encode(b)
}

// DecodeRequest decodes a stored request document as
// [Request.UnmarshalJSON] does, and also one that starts with a UTF-8
// byte-order mark (which encoding/json refuses before UnmarshalJSON sees
// it); the mark is reported by [Request.DecodeIssues] and not written
// back. Backends that read documents other programs wrote use it.
func DecodeRequest(b []byte) (*Request, error) {
	var r Request
	if !bytes.HasPrefix(b, utf8BOM) {
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, err
		}
		return &r, nil
	}
	raw, doc, err := decodeLenient(b)
	if err != nil {
		return nil, err
	}
	r = Request(doc)
	r.raw = raw
	return &r, nil
}
