package githubtest

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"
)

// The steps of [Fake.serve], in the order it takes them.

// route finds the endpoint (route pattern) of r, counts the call under
// it ("unmatched" when no route matches, then routed is false) and takes
// the first injected fault matching it, if any.
func (f *Fake) route(r *http.Request) (endpoint string, fault *Fault, routed bool) {
	_, pattern := f.mux.Handler(r)
	endpoint = pattern
	if endpoint == "" {
		endpoint = "unmatched"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[endpoint]++
	return endpoint, f.takeFaultLocked(endpoint), pattern != ""
}

// isFree reports whether endpoint needs no token and spends no rate
// limit: the log download and the App token exchange.
func isFree(endpoint string) bool {
	return endpoint == endpointLogDownload || endpoint == EndpointAppToken
}

// authenticate returns GitHub's 401 for a request to a non-free
// endpoint without a valid token, or nil to go on.
func (f *Fake) authenticate(r *http.Request, free bool) *answer {
	if free || f.authorized(r) {
		return nil
	}
	a := jsonAnswer(http.StatusUnauthorized, apiError("Bad credentials"))
	a.header = f.rateHeaders()
	return &a
}

// faultBefore applies the part of fault that acts before the route: it
// waits out a latency, or answers (an error, a rate limit) or drops the
// connection instead of the route. It reports whether to go on to the
// route; a nil fault, and an ambiguous one (applied after, by
// [Fake.reply]), go on at once.
func (f *Fake) faultBefore(w http.ResponseWriter, r *http.Request, fault *Fault) bool {
	if fault == nil {
		return true
	}
	switch fault.Kind {
	case FaultLatency:
		return waitLatency(r, fault)
	case FaultConnectionReset:
		dropConnection(w)
		return false
	}
	if a, ok := f.faultAnswer(fault); ok {
		a.write(w)
		return false
	}
	return true
}

// waitLatency waits fault.Delay (real time) or until fault.Until is
// closed, whichever comes first; it reports false when the client gave
// up meanwhile.
func waitLatency(r *http.Request, fault *Fault) bool {
	if fault.Delay <= 0 && fault.Until == nil {
		return true
	}
	var elapsed <-chan time.Time // nil: no Delay, wait for Until
	if fault.Delay > 0 {
		t := time.NewTimer(fault.Delay)
		defer t.Stop()
		elapsed = t.C
	}
	select {
	case <-elapsed:
	case <-fault.Until:
	case <-r.Context().Done():
		return false
	}
	return true
}

// faultAnswer is the answer a fault gives instead of the route, and
// false for the kinds that give none (latency, ambiguous, reset).
func (f *Fake) faultAnswer(fault *Fault) (answer, bool) {
	switch fault.Kind {
	case FaultServerError:
		status := fault.Status
		if status == 0 {
			status = http.StatusBadGateway
		}
		return jsonAnswer(status, apiError("Server Error")), true
	case FaultTooManyRequests:
		return jsonAnswer(http.StatusTooManyRequests, apiError("Too many requests")).
			withHeader("Retry-After", retryAfterSeconds(fault.RetryAfter)), true
	case FaultSecondaryRateLimit:
		a := jsonAnswer(http.StatusForbidden, map[string]any{
			"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		})
		a.header = f.rateHeaders()
		return a.withHeader("Retry-After", retryAfterSeconds(fault.RetryAfter)), true
	}
	return answer{}, false
}

// rateLimit returns GitHub's 403 for a non-free request when the
// primary rate limit is spent (after refilling it if its window reset),
// or nil to go on.
func (f *Fake) rateLimit(free bool) *answer {
	if free {
		return nil
	}
	f.mu.Lock()
	f.refillLocked()
	exhausted := f.rlRemaining <= 0
	f.mu.Unlock()
	if !exhausted {
		return nil
	}
	a := jsonAnswer(http.StatusForbidden, map[string]any{
		"message":           "API rate limit exceeded for user ID 1.",
		"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit",
	})
	a.header = f.rateHeaders()
	return &a
}

// account sets the ETag of a successful GET's answer, reports whether
// the request's If-None-Match matches it (a 304), and spends one unit of
// the rate limit for a non-free request answered in full.
func (f *Fake) account(r *http.Request, rec *recorder, free bool) (notModified bool) {
	if r.Method == http.MethodGet && rec.status == http.StatusOK && !free {
		sum := sha256.Sum256(rec.body.Bytes())
		etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
		rec.header.Set("ETag", etag)
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
			notModified = true
		}
	}
	if !free && !notModified {
		f.mu.Lock()
		f.unitsSpent++
		if f.rlRemaining > 0 {
			f.rlRemaining--
		}
		f.mu.Unlock()
	}
	return notModified
}

// reply writes the route's recorded answer, with the rate-limit headers
// for a non-free request, as a 304 when notModified — or, for an
// ambiguous fault, loses it: the request was applied, the client gets a
// 500 or a dropped connection.
func (f *Fake) reply(w http.ResponseWriter, rec *recorder, fault *Fault, free, notModified bool) {
	if fault != nil && fault.Kind == FaultAmbiguous {
		if fault.Drop {
			dropConnection(w)
			return
		}
		writeJSON(w, http.StatusInternalServerError, apiError("Server Error"))
		return
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	if !free {
		f.writeRateHeaders(w.Header())
	}
	if notModified {
		w.Header().Del("Content-Type")
		w.Header().Del("Content-Length")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes())
}

// rateHeaders returns the X-RateLimit headers of the current state.
func (f *Fake) rateHeaders() http.Header {
	h := http.Header{}
	f.writeRateHeaders(h)
	return h
}
