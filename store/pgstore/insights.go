package pgstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
	"github.com/tfpilot/tfpilot/store"
)

var _ store.InsightsStore = (*Store)(nil)

// noneDone is the done_until of a request without completed attempts
// (migration 0005): earlier than any completion time a window asks for.
var noneDone = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)

// doneUntil is r's done_until: the latest completion time of its
// attempts, never earlier than noneDone. Only an upper bound matters
// (insights filter the documents it selects exactly), so a time before
// noneDone is raised to it.
func doneUntil(r *store.Request) time.Time {
	out := noneDone
	for _, c := range store.InsightFactsOf(r).Completions {
		if c.CompletedAt.After(out) {
			out = c.CompletedAt
		}
	}
	return out.UTC()
}

// doneMargin widens the window insights select documents by, beyond
// PostgreSQL's rounding of done_until to microseconds.
const doneMargin = time.Millisecond

// insightsSQL is one statement, so one snapshot: the count of live
// requests by the status column ([lifecycle.IndexStatus], kept at every
// write), then the documents insights read: those of the requests in
// status destroying (to tell stale destroys) and of those that may have
// an attempt completed at or after $1 (done_until, or not known).
const insightsSQL = `SELECT status, count(*), NULL::bigint, NULL::jsonb, NULL::text
FROM tfpilot_requests GROUP BY status
UNION ALL
SELECT NULL, NULL, version, doc, raw FROM tfpilot_requests
WHERE status = 'destroying' OR done_until IS NULL OR done_until >= $1`

// InsightsAggregate implements [store.InsightsStore] with two
// statements: a count of requests by the indexed status column (an
// index-only scan of the status index, no document read), and the
// documents of the requests in status destroying and of those with an
// attempt completed in the window (the done_until index, migration
// 0005), which are decoded and counted exactly as the scan counts them.
// Its cost grows with the in-flight destroys and the recent completions,
// not with the number of requests (but for rows whose done_until is not
// known yet, see [Store.Rederive]).
func (s *Store) InsightsAggregate(ctx context.Context, q store.InsightsQuery) (store.InsightsAggregate, error) {
	const op = "insights"
	agg := store.InsightsAggregate{StatusCounts: make(map[lifecycle.Status]int)}
	// The counts come from the column; the documents add only stale
	// destroys and completions.
	var docs store.InsightsAggregate
	rows, err := s.db.DB.QueryContext(ctx, insightsSQL, q.Since.Add(-doneMargin).UTC())
	if err != nil {
		return store.InsightsAggregate{}, wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			st      sql.NullString
			n       sql.NullInt64
			version sql.NullInt64
			doc     []byte
			raw     *string
		)
		if err := rows.Scan(&st, &n, &version, &doc, &raw); err != nil {
			return store.InsightsAggregate{}, wrap(op, err)
		}
		if st.Valid {
			agg.StatusCounts[lifecycle.Status(st.String)] += int(n.Int64)
			continue
		}
		r, err := decodeRequest(doc, raw, version.Int64)
		if err != nil {
			return store.InsightsAggregate{}, wrap(op+": decode a document", err)
		}
		docs.Add(store.InsightFactsOf(r), q)
	}
	if err := rows.Err(); err != nil {
		return store.InsightsAggregate{}, wrap(op, err)
	}
	agg.StaleDestroys = docs.StaleDestroys
	agg.Completions = docs.Completions
	return agg, nil
}
