package pgstore

// Statements that run once per webhook delivery or API read, written
// with real placeholders instead of through bun, which inlines values
// into the text (see claimSQL).

// claimSQL is [Store.ClaimDelivery]'s statement: insert delivery $1 of
// event $2 claimed at $3, or take over its row when that is in progress
// and claimed at or before $4 (the claim time less
// [store.DeliveryClaimTTL]). It is sent with real placeholders, so that
// its text is the same for every delivery: pgx then prepares it once
// per connection. Built by bun's query builder, which inlines the
// values, every claim was a new text, which pgx's statement cache
// prepared in a round trip of its own (and, once full, evicted and
// deallocated another statement for): two or three round trips, and a
// parse and plan in PostgreSQL, for every delivery.
const claimSQL = `INSERT INTO tfpilot_deliveries AS d (id, event, claimed_at, outcome)
VALUES ($1, $2, $3, '')
ON CONFLICT (id) DO UPDATE SET event = EXCLUDED.event, claimed_at = EXCLUDED.claimed_at, outcome = EXCLUDED.outcome
WHERE d.completed_at IS NULL AND d.claimed_at <= $4`

// getRequestSQL is [Store.GetRequest]'s query ($1 the id), with a real
// placeholder for the same reason as claimSQL: built by bun, every id
// was a text of its own, prepared in a round trip of its own.
const getRequestSQL = `SELECT version, doc, raw FROM tfpilot_requests WHERE id = $1`
