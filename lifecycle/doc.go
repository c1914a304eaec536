// Package lifecycle derives a request's lifecycle [Status] from facts.
//
// Status is never stored as a source of truth: [Derive] computes it from
// the request's runs, pull request and approval ([Facts]) and the current
// time, which is a parameter so the function stays pure. The priority
// order is the original TfPilot's:
//
//	destroy (failed conclusion → failed; success → destroyed;
//	         in flight → destroying, or failed once stale)
//	→ apply failed → plan failed → apply in flight → applied
//	→ merged → approved → plan_ready → planning → request_created
//
// A destroy is stale when its run id is known and it was dispatched more
// than [DefaultStaleDestroyAfter] ago while still in flight; [Rules]
// changes that threshold.
//
// [PollPolicy] tells a client how long to wait before polling again:
// never for terminal statuses, and the active, idle, hidden or
// rate-limited interval otherwise.
package lifecycle
