package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// fanout is the fake's webhook transport: every delivery the fake makes
// is queued, unchanged and with its signature, for every target, and
// each target gets its deliveries in order from a worker of its own, so
// a slow or dead replica delays nobody else. As on GitHub, a failed post
// is recorded and not retried.
type fanout struct {
	client  *http.Client
	targets []*target

	mu    sync.Mutex
	order []string             // delivery ids, oldest first
	byID  map[string]*delivery // delivery id → what happened to it
}

// delivery is one webhook delivery and its outcome at each target.
type delivery struct {
	ID      string    `json:"id"`
	Event   string    `json:"event"`
	Action  string    `json:"action,omitempty"`
	At      time.Time `json:"at"`
	Targets []attempt `json:"targets"`
}

// attempt is the post of one delivery to one target.
type attempt struct {
	URL    string    `json:"url"`
	Status int       `json:"status,omitempty"`
	Error  string    `json:"error,omitempty"`
	At     time.Time `json:"at,omitzero"`
}

type target struct {
	url   string
	mu    sync.Mutex
	cond  *sync.Cond
	queue []*outgoing
	busy  bool
	done  bool
}

type outgoing struct {
	id     string
	header http.Header
	body   []byte
}

func newFanout(urls []string, timeout time.Duration) *fanout {
	f := &fanout{client: &http.Client{Timeout: timeout}, byID: map[string]*delivery{}}
	for _, u := range urls {
		t := &target{url: u}
		t.cond = sync.NewCond(&t.mu)
		f.targets = append(f.targets, t)
		go f.work(t)
	}
	return f
}

// RoundTrip takes a delivery from the fake and queues it for every
// target; the fake sees 202 Accepted.
func (f *fanout) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	id := req.Header.Get("X-GitHub-Delivery")
	d := &delivery{ID: id, Event: req.Header.Get("X-GitHub-Event"), Action: actionOf(body), At: time.Now().UTC()}
	for _, t := range f.targets {
		d.Targets = append(d.Targets, attempt{URL: t.url})
	}
	f.mu.Lock()
	if _, seen := f.byID[id]; !seen {
		f.order = append(f.order, id)
	}
	f.byID[id] = d
	f.mu.Unlock()
	for _, t := range f.targets {
		t.mu.Lock()
		if !t.done {
			t.queue = append(t.queue, &outgoing{id: id, header: req.Header.Clone(), body: body})
			t.cond.Broadcast()
		}
		t.mu.Unlock()
	}
	return &http.Response{StatusCode: http.StatusAccepted, Status: "202 Accepted", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
}

func (f *fanout) work(t *target) {
	for {
		t.mu.Lock()
		for len(t.queue) == 0 && !t.done {
			t.cond.Wait()
		}
		if t.done {
			t.mu.Unlock()
			return
		}
		o := t.queue[0]
		t.queue = t.queue[1:]
		t.busy = true
		t.mu.Unlock()

		status, err := f.post(t.url, o)

		f.mu.Lock()
		if d := f.byID[o.id]; d != nil {
			for i := range d.Targets {
				if d.Targets[i].URL == t.url {
					d.Targets[i].Status, d.Targets[i].At = status, time.Now().UTC()
					if err != nil {
						d.Targets[i].Error = err.Error()
					}
				}
			}
		}
		f.mu.Unlock()
		t.mu.Lock()
		t.busy = false
		t.cond.Broadcast()
		t.mu.Unlock()
	}
}

func (f *fanout) post(url string, o *outgoing) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(o.body))
	if err != nil {
		return 0, err
	}
	for _, h := range []string{"Content-Type", "User-Agent", "X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID", "X-Hub-Signature-256"} {
		if v := o.header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// idle reports whether every target's queue is empty and no post is
// under way.
func (f *fanout) idle() bool {
	for _, t := range f.targets {
		t.mu.Lock()
		busy := t.busy || len(t.queue) > 0
		t.mu.Unlock()
		if busy {
			return false
		}
	}
	return true
}

// flush waits until every queued delivery was posted, or ctx is done.
func (f *fanout) flush(ctx context.Context) error {
	for !f.idle() {
		t := time.NewTimer(5 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// deliveries returns copies of all deliveries, oldest first.
func (f *fanout) deliveries() []delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]delivery, 0, len(f.order))
	for _, id := range f.order {
		d := *f.byID[id]
		d.Targets = append([]attempt(nil), d.Targets...)
		out = append(out, d)
	}
	return out
}

// close stops the workers; queued deliveries are dropped.
func (f *fanout) close() {
	for _, t := range f.targets {
		t.mu.Lock()
		t.done = true
		t.cond.Broadcast()
		t.mu.Unlock()
	}
}

func actionOf(body []byte) string {
	var p struct {
		Action string `json:"action"`
	}
	_ = jsonUnmarshal(body, &p)
	return p.Action
}
