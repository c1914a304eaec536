package pgstore

// Statements that run once per webhook delivery, API read or event, written
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

// The statements an API operation or an outbox flush runs per request,
// with real placeholders for the same reason as claimSQL.
const (
	// appendEventSQL inserts event $2 of request $1 at $3 with document
	// $4 and exact text $5 (NULL when the document is it).
	appendEventSQL = `INSERT INTO tfpilot_events (request_id, id, ts, doc, raw)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`
	// indexRunSQL maps run $2 of kind $1 to request $3, indexed at $4,
	// unless the run is mapped already.
	indexRunSQL = `INSERT INTO tfpilot_run_index (kind, run_id, request_id, indexed_at)
VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`
	// runRequestSQL reads the request of run $2 of kind $1.
	runRequestSQL = `SELECT request_id FROM tfpilot_run_index WHERE kind = $1 AND run_id = $2`
	// indexPRSQL maps pull request $1/$2#$3 to request $4, indexed at
	// $5, unless it is mapped already.
	indexPRSQL = `INSERT INTO tfpilot_pr_index (owner, repo, number, request_id, indexed_at)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`
	// prRequestSQL reads the request of pull request $1/$2#$3.
	prRequestSQL = `SELECT request_id FROM tfpilot_pr_index WHERE owner = $1 AND repo = $2 AND number = $3`
	// completeDeliverySQL completes delivery $1 claimed at $2, at $3
	// with outcome $4.
	completeDeliverySQL = `UPDATE tfpilot_deliveries SET completed_at = $3, outcome = $4 WHERE id = $1 AND claimed_at = $2`
)
