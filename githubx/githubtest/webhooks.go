package githubtest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Delivery is one webhook delivery the fake made (or recorded, when no
// WebhookURL is set).
type Delivery struct {
	// ID is the X-GitHub-Delivery header.
	ID string
	// Event is the X-GitHub-Event header, e.g. "workflow_run".
	Event string
	// Action is the payload's "action", e.g. "completed".
	Action string
	// Body is the exact body that was posted and signed: the JSON
	// payload, or with Options.WebhookContentType "form" the
	// form-encoded body carrying it as the parameter "payload".
	Body []byte
	// ContentType is the Content-Type header the delivery was sent with.
	ContentType string
	// Signature is the X-Hub-Signature-256 header.
	Signature string
	// StatusCode is the receiver's answer; 0 if not sent.
	StatusCode int
	// Err is the transport error, if the post failed.
	Err error
}

// Sign returns the X-Hub-Signature-256 value GitHub sends for body signed
// with secret: "sha256=" followed by the hex HMAC-SHA256.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

type deliverer struct {
	url    string
	secret string
	form   bool
	client *http.Client

	mu     sync.Mutex
	cond   *sync.Cond
	queue  []*Delivery
	busy   bool
	closed bool
	log    []*Delivery
	done   chan struct{}
}

func newDeliverer(opts Options) *deliverer {
	d := &deliverer{url: opts.WebhookURL, secret: opts.WebhookSecret, form: opts.WebhookContentType == "form",
		client: opts.WebhookClient, done: make(chan struct{})}
	if d.client == nil {
		d.client = &http.Client{Timeout: 10 * time.Second}
	}
	d.cond = sync.NewCond(&d.mu)
	go d.loop()
	return d
}

func (d *deliverer) enqueue(event, action string, payload map[string]any) {
	body, err := json.Marshal(payload)
	if err != nil {
		return // maps of plain values always marshal
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ct := "application/json"
	if d.form {
		// GitHub's "form" content type: the JSON payload as the form
		// parameter "payload", the signature over the encoded body.
		ct, body = "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(body)}}.Encode())
	}
	dl := &Delivery{ID: newDeliveryID(), Event: event, Action: action, Body: body, ContentType: ct, Signature: Sign(d.secret, body)}
	d.log = append(d.log, dl)
	if d.url == "" || d.closed {
		return
	}
	d.queue = append(d.queue, dl)
	d.cond.Broadcast()
}

func (d *deliverer) loop() {
	defer close(d.done)
	for {
		d.mu.Lock()
		for len(d.queue) == 0 && !d.closed {
			d.cond.Wait()
		}
		if d.closed {
			d.mu.Unlock()
			return
		}
		dl := d.queue[0]
		d.queue = d.queue[1:]
		d.busy = true
		d.mu.Unlock()

		status, err := d.post(dl)

		d.mu.Lock()
		dl.StatusCode, dl.Err = status, err
		d.busy = false
		d.cond.Broadcast()
		d.mu.Unlock()
	}
}

func (d *deliverer) post(dl *Delivery) (int, error) {
	req, err := http.NewRequest(http.MethodPost, d.url, bytes.NewReader(dl.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", dl.ContentType)
	req.Header.Set("User-Agent", "GitHub-Hookshot/githubtest")
	req.Header.Set("X-GitHub-Event", dl.Event)
	req.Header.Set("X-GitHub-Delivery", dl.ID)
	req.Header.Set("X-GitHub-Hook-ID", "1")
	req.Header.Set("X-Hub-Signature-256", dl.Signature)
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

func (d *deliverer) close() {
	d.mu.Lock()
	d.closed = true
	d.cond.Broadcast()
	d.mu.Unlock()
	<-d.done
}

func newDeliveryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:])
}

// SetWebhook changes where later deliveries go and how they are signed,
// for a receiver that starts after the fake.
func (f *Fake) SetWebhook(url, secret string) {
	d := f.hooks
	d.mu.Lock()
	defer d.mu.Unlock()
	d.url, d.secret = url, secret
}

// SetWebhookContentType sets the hook's content type for later
// deliveries: "form" or "json" (see Options.WebhookContentType).
func (f *Fake) SetWebhookContentType(contentType string) {
	d := f.hooks
	d.mu.Lock()
	defer d.mu.Unlock()
	d.form = contentType == "form"
}

// Flush waits until every queued webhook has been posted, or ctx is done.
func (f *Fake) Flush(ctx context.Context) error {
	d := f.hooks
	for {
		d.mu.Lock()
		idle := (len(d.queue) == 0 && !d.busy) || d.closed
		d.mu.Unlock()
		if idle {
			return nil
		}
		t := time.NewTimer(time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Deliveries returns copies of all deliveries so far, oldest first.
func (f *Fake) Deliveries() []Delivery {
	d := f.hooks
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Delivery, 0, len(d.log))
	for _, dl := range d.log {
		out = append(out, *dl)
	}
	return out
}

// Redeliver sends an earlier delivery again with the same delivery id, as
// GitHub's "Redeliver" button does.
func (f *Fake) Redeliver(id string) error {
	d := f.hooks
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, dl := range d.log {
		if dl.ID == id {
			if d.url == "" || d.closed {
				return fmt.Errorf("githubtest: redeliver %s: no webhook URL", id)
			}
			again := *dl
			again.StatusCode, again.Err = 0, nil
			d.log = append(d.log, &again)
			d.queue = append(d.queue, &again)
			d.cond.Broadcast()
			return nil
		}
	}
	return ErrNotFound
}

func (f *Fake) withInstallation(m map[string]any) map[string]any {
	if f.opts.App != nil {
		m["installation"] = map[string]any{"id": f.opts.App.InstallationID, "node_id": nodeID("Installation", f.opts.App.InstallationID)}
	}
	return m
}

func (f *Fake) sendRunEventLocked(rp *repo, r *run, action string) {
	f.hooks.enqueue("workflow_run", action, f.withInstallation(map[string]any{
		"action": action, "workflow_run": f.runJSON(rp, r), "workflow": f.workflowJSON(rp, r.wf),
		"repository": f.repoJSON(rp), "sender": f.userJSON(r.actor),
	}))
}

func (f *Fake) sendPullEventLocked(rp *repo, p *pull, action, actor string, extra map[string]any) {
	m := f.withInstallation(map[string]any{
		"action": action, "number": p.number, "pull_request": f.pullJSON(rp, p, true),
		"repository": f.repoJSON(rp), "sender": f.userJSON(actor),
	})
	for k, v := range extra {
		m[k] = v
	}
	f.hooks.enqueue("pull_request", action, m)
}

func (f *Fake) sendReviewEventLocked(rp *repo, p *pull, rv *review) {
	f.hooks.enqueue("pull_request_review", "submitted", f.withInstallation(map[string]any{
		"action": "submitted", "review": f.reviewJSON(rp, p, rv, true),
		"pull_request": f.pullJSON(rp, p, false), "repository": f.repoJSON(rp),
		"sender": f.userJSON(rv.user),
	}))
}
