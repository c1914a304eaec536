// Package storetest is the conformance suite for [store.Store]
// backends. A backend's test calls [Run] with a function returning a
// [Harness]; the suite runs every property of the Store contract as a
// parallel subtest against a fresh, empty store, with a clock the suite
// controls:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Harness { return harness{} })
//	}
//
//	type harness struct{}
//
//	func (harness) NewStore(t *testing.T, now func() time.Time) store.Store {
//		return memstore.New(&memstore.Options{Now: now})
//	}
//
// Subtests are named after the property they protect
// (UpdateRequest/ConcurrentWritersLoseNoUpdate), so a failure says which
// promise a backend broke; run one with go test -run.
//
// Besides the contract in the tfpilot package's doc comments, the suite
// pins down the behaviour the contract leaves to the backend, so that
// every backend behaves alike:
//   - errors wrap the sentinel with %w and name the key they concern
//     (`pgstore: update request "r1": version conflict`);
//   - malformed input is [store.ErrInvalid]: a nil or invalid request
//     ([store.Request.Validate]), an event without request id or name, an
//     invalid run kind, a run id or PR number below 1, an empty PR
//     owner/repo, index target, delivery id, idempotency operation/key,
//     zero idempotency expiry, empty rate-limit scope or cost request id,
//     a negative page size, an unknown status filter or a malformed cursor;
//   - an update carrying a stale version is [store.ErrConflict] even when
//     its document is identical to the stored one;
//   - an idempotency record is live while the store's clock is before its
//     ExpiresAt;
//   - a delivery's in-progress claim holds while the store's clock is
//     before its ClaimedAt plus [store.DeliveryClaimTTL], and is stale
//     (reclaimable) from that instant on;
//   - a cancelled context makes every method return an error wrapping
//     context.Canceled.
//
// Optional extensions are checked when the store implements them and
// skipped otherwise; for [store.InsightsStore], Insights/* checks that
// the insights computed from the store's aggregate equal those computed
// by walking every request, over requests in every status, messy,
// archived and updated ones.
//
// Failures are reported through the testing.T; the suite never panics on
// a backend's misbehaviour.
package storetest
