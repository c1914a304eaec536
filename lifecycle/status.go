package lifecycle

import "strings"

// Status is a request's lifecycle status.
type Status string

// The ten canonical statuses.
const (
	RequestCreated Status = "request_created"
	Planning       Status = "planning"
	PlanReady      Status = "plan_ready"
	Approved       Status = "approved"
	Merged         Status = "merged"
	Applying       Status = "applying"
	Applied        Status = "applied"
	Destroying     Status = "destroying"
	Destroyed      Status = "destroyed"
	Failed         Status = "failed"
)

// Statuses lists the canonical statuses in lifecycle order.
func Statuses() []Status {
	return []Status{RequestCreated, Planning, PlanReady, Approved, Merged, Applying, Applied, Destroying, Destroyed, Failed}
}

// Valid reports whether s is one of the ten canonical statuses.
func (s Status) Valid() bool {
	switch s {
	case RequestCreated, Planning, PlanReady, Approved, Merged, Applying, Applied, Destroying, Destroyed, Failed:
		return true
	}
	return false
}

// IsTerminal reports whether nothing more happens to a request in status s
// without a user action: applied, destroyed and failed.
func IsTerminal(s Status) bool {
	return s == Applied || s == Destroyed || s == Failed
}

// IsActive reports whether a workflow is running for a request in status
// s: planning, applying and destroying.
func IsActive(s Status) bool {
	return s == Planning || s == Applying || s == Destroying
}

// aliases maps legacy and display spellings to canonical statuses. Keys
// are lower case with spaces and hyphens folded to underscores.
var aliases = map[string]Status{
	"created":             RequestCreated,
	"new":                 RequestCreated,
	"pending":             RequestCreated,
	"submitted":           RequestCreated,
	"requested":           RequestCreated,
	"plan_running":        Planning,
	"plan_in_progress":    Planning,
	"plan_queued":         Planning,
	"pr_open":             Planning,
	"planned":             PlanReady,
	"plan_succeeded":      PlanReady,
	"plan_success":        PlanReady,
	"awaiting_approval":   PlanReady,
	"ready":               PlanReady,
	"pr_merged":           Merged,
	"apply_running":       Applying,
	"apply_in_progress":   Applying,
	"apply_queued":        Applying,
	"complete":            Applied,
	"completed":           Applied,
	"apply_succeeded":     Applied,
	"apply_success":       Applied,
	"deployed":            Applied,
	"destroy_running":     Destroying,
	"destroy_in_progress": Destroying,
	"destroy_queued":      Destroying,
	"destroy_succeeded":   Destroyed,
	"destroy_success":     Destroyed,
	"deleted":             Destroyed,
	"error":               Failed,
	"errored":             Failed,
	"failure":             Failed,
	"plan_failed":         Failed,
	"apply_failed":        Failed,
	"destroy_failed":      Failed,
}

// Normalize maps a stored or displayed status string, including legacy
// variants ("Plan Ready", "apply_failed", "completed", "pr_merged"), to a
// canonical [Status]. It returns "" for a value it does not recognise;
// check the result with [Status.Valid].
func Normalize(s string) Status {
	k := strings.ToLower(strings.TrimSpace(s))
	k = strings.NewReplacer(" ", "_", "-", "_").Replace(k)
	if st := Status(k); st.Valid() {
		return st
	}
	return aliases[k]
}
