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
//   - In flight: [Active] is true for every attempt without a conclusion,
//     whatever its status (a run GitHub reported completed whose
//     conclusion has not arrived is still in flight). Gates use it, so no
//     second run of a kind starts over one whose outcome is unknown.
//     [Running] is the narrower "GitHub reports it queued or running".
//   - Head SHAs: [Dispatch] records the commit an attempt is dispatched
//     for in both HeadSHA (`headSha`, the original's field) and
//     DispatchedSHA (`dispatchedSha`). [PatchByRunID] replaces HeadSHA
//     with the run's head_sha when GitHub reports one, as the original
//     does, and DispatchedSHA keeps what was asked for. [HeadMismatch]
//     reports a run of another commit than its attempt was dispatched
//     for; [DispatchedFor] is the commit asked for, also for documents
//     the original wrote without dispatchedSha.
//   - GitHub's time strings ([RunFacts], [ParseTime]) are trimmed, and an
//     empty or malformed one reads as absent rather than failing the run.
package runs
