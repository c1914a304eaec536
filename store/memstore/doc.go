// Package memstore is an in-memory [store.Store]: maps under one mutex,
// with deep copies of every document going in and coming out, so a caller
// can never change what the store holds except through its methods.
//
// It is meant for tests, demos and single-process tools; nothing survives
// the process. It passes the conformance suite in store/storetest.
//
//	s := memstore.New(nil) // or memstore.New(&memstore.Options{Now: clock})
//	stored, err := s.CreateRequest(ctx, r)
//
// Errors wrap tfpilot's sentinels ([store.ErrNotFound],
// [store.ErrConflict], [store.ErrAlreadyExists], [store.ErrInvalid])
// with the operation and key as context, e.g.
// `memstore: update request "r1": version conflict`; check them
// with errors.Is. A cancelled context makes every method return an error
// wrapping ctx.Err().
package memstore
