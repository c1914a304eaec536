package githubtest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestLocked_ReleasesTheLockOnEveryPath: a handler's answer is computed
// under the fake's lock and the lock is released however the computation
// ends — returning early, or panicking — and the answer is written after.
func TestLocked_ReleasesTheLockOnEveryPath(t *testing.T) {
	t.Parallel()
	f := New(Options{})
	t.Cleanup(f.Close)

	rec := httptest.NewRecorder()
	f.locked(rec, func() answer {
		if f.mu.TryLock() {
			t.Error("the answer was computed without the lock")
		}
		return notFound()
	})
	if rec.Code != http.StatusNotFound || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("answer written as %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !f.mu.TryLock() {
		t.Fatal("the lock is held after an early return")
	}
	f.mu.Unlock()

	func() {
		defer func() { _ = recover() }()
		f.locked(httptest.NewRecorder(), func() answer { panic("boom") })
	}()
	if !f.mu.TryLock() {
		t.Fatal("the lock is held after a panic")
	}
	f.mu.Unlock()
}
