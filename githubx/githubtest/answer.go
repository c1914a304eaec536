package githubtest

import (
	"encoding/json"
	"net/http"
)

// answer is a handler's reply. Handlers compute it under f.mu (see
// [Fake.locked]) and it is written after the lock is released, so no
// early return can leave the lock held and no response is written while
// holding it. The body is encoded when the answer is made, under the
// lock, so it never aliases the fake's state once written.
type answer struct {
	status      int
	header      http.Header // extra headers (Location, Link), or nil
	contentType string      // of body; "" writes no Content-Type
	body        []byte      // nil writes no body
}

// jsonAnswer answers v as JSON with status.
func jsonAnswer(status int, v any) answer {
	b, err := json.Marshal(v)
	if err != nil {
		return answer{status: http.StatusInternalServerError, contentType: "text/plain; charset=utf-8", body: []byte(err.Error() + "\n")}
	}
	return answer{status: status, contentType: "application/json; charset=utf-8", body: b}
}

// notFound is GitHub's JSON 404.
func notFound() answer { return jsonAnswer(http.StatusNotFound, apiError("Not Found")) }

// textAnswer answers s as plain text with status 200.
func textAnswer(b []byte) answer {
	return answer{status: http.StatusOK, contentType: "text/plain; charset=utf-8", body: b}
}

// withHeader returns a with header k set to v.
func (a answer) withHeader(k, v string) answer {
	h := a.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(k, v)
	a.header = h
	return a
}

// write writes a to w.
func (a answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	if a.contentType != "" {
		w.Header().Set("Content-Type", a.contentType)
	}
	w.WriteHeader(a.status)
	if a.body != nil {
		_, _ = w.Write(a.body)
	}
}

// locked computes a handler's answer with fn under f.mu, released by a
// deferred unlock whatever path fn returns by, and writes it to w after.
func (f *Fake) locked(w http.ResponseWriter, fn func() answer) {
	f.answerLocked(fn).write(w)
}

// lockedRepo is [Fake.locked] for a handler of the repository r's path
// names: a repository the fake does not hold is GitHub's 404, and fn
// gets the repository otherwise.
func (f *Fake) lockedRepo(w http.ResponseWriter, r *http.Request, fn func(rp *repo) answer) {
	f.locked(w, func() answer {
		rp := f.routeRepo(r)
		if rp == nil {
			return notFound()
		}
		return fn(rp)
	})
}

// answerLocked returns fn's answer, computed under f.mu.
func (f *Fake) answerLocked(fn func() answer) answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fn()
}

// plainNotFound is the plain-text 404 of net/http, which GitHub's raw and
// log download hosts answer.
func plainNotFound() answer {
	return answer{status: http.StatusNotFound, header: http.Header{"X-Content-Type-Options": {"nosniff"}},
		contentType: "text/plain; charset=utf-8", body: []byte("404 page not found\n")}
}
