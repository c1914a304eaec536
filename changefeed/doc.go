// Package changefeed tells watchers, in one process, that a request
// changed: a [Hub] of subscriptions per request id, and [Notify], a
// [store.Store] decorator that publishes each successful request or
// event write to a hub.
//
//	hub := changefeed.New()
//	store := changefeed.Notify(memstore.New(nil), hub)
//	pilot, err := tfpilot.New(store, gh, cfg)
//	sub := hub.Subscribe(requestID)
//	defer sub.Close()
//	<-sub.C // the request may have changed: read it again
//
// A signal carries no data and several changes may arrive as one, so a
// watcher always re-reads. Writes made by other processes sharing the
// store are not heard: watchers poll as well.
//
// Notify's wrapper hides the optional extensions of the store it wraps
// (such as [store.LeaseStore] or [store.Exporter]); give those users the
// unwrapped store. Nothing here returns an error.
//
// Notify decorates the store contract (package
// [github.com/tfpilot/tfpilot/store]) and imports nothing of the engine,
// so it wraps any backend without compiling in GitHub, HCL or webhook
// code.
package changefeed
