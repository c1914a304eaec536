// Package enginetest checks that the tfpilot engine and a store agree:
// it drives a [tfpilot.Pilot] over the store (and the in-process fake
// GitHub) and compares what Get, List and Insights report. Every backend
// runs it beside [storetest.Run]:
//
//	func TestEngineOverStore(t *testing.T) {
//		enginetest.Run(t, func(t *testing.T) storetest.Harness { return harness{} })
//	}
//
// It lives apart from storetest because it imports the engine (and so
// GitHub, HCL and webhook code); storetest's contract suite needs only
// package store.
package enginetest
