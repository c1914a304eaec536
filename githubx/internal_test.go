package githubx

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
)

func TestETagCache_EvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	c := newETagCache(3)
	for i := 0; i < 3; i++ {
		c.put(&cacheEntry{key: strconv.Itoa(i), etag: "e"})
	}
	c.get("0") // 1 is now the least recently used
	c.put(&cacheEntry{key: "3", etag: "e"})
	if c.len() != 3 || c.get("1") != nil || c.get("0") == nil || c.get("3") == nil {
		t.Fatalf("cache holds %d entries; 1 present=%v", c.len(), c.get("1") != nil)
	}
	c.put(&cacheEntry{key: "3", etag: "e2"})
	if c.len() != 3 || c.get("3").etag != "e2" {
		t.Fatal("replacing an entry must not grow the cache")
	}
}

func TestClassify_MapsStatusesToSentinels(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		msg    string
		want   error
	}{
		{http.StatusUnauthorized, "Bad credentials", ErrUnauthorized},
		{http.StatusForbidden, "Resource not accessible by integration", ErrForbidden},
		{http.StatusNotFound, "Not Found", ErrNotFound},
		{http.StatusConflict, "Head branch was modified", ErrConflict},
		{http.StatusMethodNotAllowed, "Pull Request is not mergeable", ErrNotMergeable},
		{http.StatusUnprocessableEntity, "Reference already exists", ErrAlreadyExists},
		{http.StatusUnprocessableEntity, "A pull request already exists for acme:x.", ErrAlreadyExists},
		{http.StatusUnprocessableEntity, "Update is not a fast forward", ErrConflict},
		{http.StatusUnprocessableEntity, "No ref found for: x", ErrInvalid},
		{http.StatusBadGateway, "", ErrUnavailable},
	}
	for _, tc := range cases {
		if got := classify(tc.status, tc.msg, nil); !errors.Is(got, tc.want) {
			t.Errorf("classify(%d, %q) = %v, want %v", tc.status, tc.msg, got, tc.want)
		}
	}
	if !errors.Is(ErrHeadSHAMismatch, ErrConflict) || !errors.Is(ErrNotMergeable, ErrConflict) {
		t.Fatal("merge refusals must match ErrConflict")
	}
	if !errors.Is(&Error{Op: "x", Err: &RateLimitError{}}, ErrRateLimited) {
		t.Fatal("a RateLimitError must match ErrRateLimited")
	}
}

func TestTailBuffer_KeepsTheLastBytes(t *testing.T) {
	t.Parallel()
	tb := &tailBuffer{max: 5}
	for _, s := range []string{"abc", "defgh", "ijklmnopqrstu", "vw"} {
		_, _ = tb.Write([]byte(s))
	}
	if got := string(tb.bytes()); got != "stuvw" || !tb.dropped {
		t.Fatalf("tail = %q dropped=%v", got, tb.dropped)
	}
}
