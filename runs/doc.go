// Package runs models the GitHub Actions runs that a tfpilot request owns:
// one [Op] per [Kind] (plan, apply, destroy), each holding numbered
// [Attempt]s and the number of the current one.
//
// The package is pure: no I/O, no clock (time is a parameter), and no
// function mutates its inputs — each returns a new [State] and whether it
// changed. Its JSON encoding is the original TfPilot document's
// (`runs.plan.currentAttempt`, `runs.plan.attempts[].runId`, …), so stored
// documents read and write unchanged.
//
// The invariants it enforces, and the functions that enforce them:
//
//   - INV-CORE-3: only [Dispatch] adds an attempt and moves CurrentAttempt.
//     Webhooks and sync use [AttachRunID] and [PatchByRunID], which find an
//     attempt and patch it but never append.
//   - INV-CORE-4: [Current] returns the attempt whose number equals
//     CurrentAttempt, with no "last" or "latest" fallback.
//   - INV-REC-1: [NeedsReconcile] is true iff the attempt has a run id and
//     lacks a conclusion or a completion time.
//   - A dispatch that GitHub refused outright is recorded on its own
//     attempt by [FailDispatch] (conclusion startup_failure), which only
//     applies before a run id exists.
//   - INV-COMP-1: CompletedAt is set only by [PatchByRunID], from the run's
//     completed_at, else updated_at, when its status is completed; it is
//     never cleared.
//   - Monotonic patches: a completed run never goes back to queued or
//     in_progress, a conclusion is never cleared or replaced, and a patch
//     that changes nothing reports changed == false so callers skip the
//     write.
package runs
