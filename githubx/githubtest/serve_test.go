package githubtest

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The steps of Fake.serve, each on its own.

func newStepFake(t *testing.T) *Fake {
	t.Helper()
	f := New(Options{})
	t.Cleanup(f.Close)
	return f
}

// TestServeRoute_CountsEveryCallAndTakesItsFault: every request is
// counted under its endpoint ("unmatched" when none), and takes the
// next fault injected for that endpoint, once.
func TestServeRoute_CountsEveryCallAndTakesItsFault(t *testing.T) {
	t.Parallel()
	f := newStepFake(t)
	f.InjectFault(Fault{Endpoint: EndpointGetRef, Kind: FaultServerError})
	req := httptest.NewRequest(http.MethodGet, "/repos/acme/infra/git/ref/heads/main", nil)
	if ep, fault, routed := f.route(req); ep != EndpointGetRef || fault == nil || !routed {
		t.Fatalf("first: %q, %v, %v", ep, fault, routed)
	}
	if _, fault, _ := f.route(req); fault != nil {
		t.Fatalf("the fault was taken twice: %+v", fault)
	}
	if ep, _, routed := f.route(httptest.NewRequest(http.MethodGet, "/nowhere", nil)); ep != "unmatched" || routed {
		t.Fatalf("unknown route: %q, routed %v", ep, routed)
	}
	if f.CallCount(EndpointGetRef) != 2 || f.CallCount("unmatched") != 1 {
		t.Fatalf("calls %v", f.Calls())
	}
}

// TestServeAuthenticate_RefusesNoTokenExceptOnFreeEndpoints: a request
// without a token gets GitHub's 401 with the rate-limit headers, unless
// the endpoint is free.
func TestServeAuthenticate_RefusesNoTokenExceptOnFreeEndpoints(t *testing.T) {
	t.Parallel()
	f := newStepFake(t)
	anon := httptest.NewRequest(http.MethodGet, "/repos/acme/infra", nil)
	a := f.authenticate(anon, false)
	if a == nil || a.status != http.StatusUnauthorized || a.header.Get("X-RateLimit-Limit") == "" {
		t.Fatalf("anonymous: %+v", a)
	}
	if a := f.authenticate(anon, true); a != nil {
		t.Fatalf("free endpoint refused: %+v", a)
	}
	authed := httptest.NewRequest(http.MethodGet, "/repos/acme/infra", nil)
	authed.Header.Set("Authorization", "Bearer t")
	if a := f.authenticate(authed, false); a != nil {
		t.Fatalf("token refused: %+v", a)
	}
}

// TestServeFaultAnswer_ReplacesTheRouteOnlyForAnsweringKinds: error and
// rate-limit faults answer instead of the route, with their status and
// Retry-After; latency, ambiguous and reset faults do not answer.
func TestServeFaultAnswer_ReplacesTheRouteOnlyForAnsweringKinds(t *testing.T) {
	t.Parallel()
	f := newStepFake(t)
	for _, tc := range []struct {
		fault      Fault
		status     int
		retryAfter string
	}{
		{Fault{Kind: FaultServerError}, http.StatusBadGateway, ""},
		{Fault{Kind: FaultServerError, Status: 503}, 503, ""},
		{Fault{Kind: FaultTooManyRequests, RetryAfter: 1500 * time.Millisecond}, http.StatusTooManyRequests, "2"},
		{Fault{Kind: FaultSecondaryRateLimit}, http.StatusForbidden, "1"},
		{Fault{Kind: FaultLatency}, 0, ""},
		{Fault{Kind: FaultAmbiguous}, 0, ""},
		{Fault{Kind: FaultConnectionReset}, 0, ""},
	} {
		a, ok := f.faultAnswer(&tc.fault)
		if ok != (tc.status != 0) || a.status != tc.status || a.header.Get("Retry-After") != tc.retryAfter {
			t.Errorf("kind %d: answers %v, %d, Retry-After %q; want %d, %q", tc.fault.Kind, ok, a.status, a.header.Get("Retry-After"), tc.status, tc.retryAfter)
		}
	}
}

// TestServeRateLimit_RefusesOnceSpentNeverFreeEndpoints: a spent primary
// rate limit refuses with GitHub's 403 until its reset; free endpoints
// are never refused.
func TestServeRateLimit_RefusesOnceSpentNeverFreeEndpoints(t *testing.T) {
	t.Parallel()
	f := newStepFake(t)
	if a := f.rateLimit(false); a != nil {
		t.Fatalf("fresh limit refused: %+v", a)
	}
	f.SetRateLimit(0, time.Now().Add(time.Hour))
	if a := f.rateLimit(false); a == nil || a.status != http.StatusForbidden || a.header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("spent limit: %+v", a)
	}
	if a := f.rateLimit(true); a != nil {
		t.Fatalf("free endpoint refused: %+v", a)
	}
}

// TestServeAccount_SpendsAUnitUnlessNotModifiedOrFree: a full answer
// spends one unit; a GET whose If-None-Match matches the ETag is a 304
// and spends none, as does a free endpoint.
func TestServeAccount_SpendsAUnitUnlessNotModifiedOrFree(t *testing.T) {
	t.Parallel()
	f := newStepFake(t)
	answered := func() *recorder {
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		rec.body.WriteString(`{"a":1}`)
		return rec
	}
	get := httptest.NewRequest(http.MethodGet, "/repos/acme/infra", nil)
	rec := answered()
	if f.account(get, rec, false) || f.RateLimitSpent() != 1 || rec.header.Get("ETag") == "" {
		t.Fatalf("full answer: spent %d, etag %q", f.RateLimitSpent(), rec.header.Get("ETag"))
	}
	again := httptest.NewRequest(http.MethodGet, "/repos/acme/infra", nil)
	again.Header.Set("If-None-Match", rec.header.Get("ETag"))
	if !f.account(again, answered(), false) || f.RateLimitSpent() != 1 {
		t.Fatalf("conditional GET: spent %d", f.RateLimitSpent())
	}
	if f.account(get, answered(), true); f.RateLimitSpent() != 1 {
		t.Fatalf("free endpoint spent a unit: %d", f.RateLimitSpent())
	}
}
