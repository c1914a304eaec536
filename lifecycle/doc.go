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
// A current apply or destroy attempt without a conclusion is in flight
// whatever its status field says (a run reported completed without a
// conclusion is still applying or destroying), as in the original. A
// destroy in flight is stale, and derives as failed, when its run id and
// its dispatch time are both known and it was dispatched more than
// [DefaultStaleDestroyAfter] ago; [Rules] changes that threshold. A
// destroy whose dispatch time is unknown is never stale.
//
// Derivation depends on the clock and on [Rules] in exactly one place,
// the stale destroy. [IndexStatus] is derivation without it: what a store
// keeps beside a request to filter lists by, a function of the facts
// alone, so it is never out of date and needs no clock. A list filter
// reads the stored statuses [IndexStatuses] names and re-derives each
// request with the caller's Rules at read time; that way Get, List and
// the insights agree for every Rules.
//
// [PollPolicy] tells a client how long to wait before polling again:
// never for terminal statuses, and the active, idle, hidden or
// rate-limited interval otherwise.
package lifecycle
