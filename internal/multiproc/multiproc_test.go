package multiproc

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tfpilot/tfpilot/internal/testenv"
)

// scenario sizes the run: the default fits CI (well under three minutes
// on two cores); TFPILOT_SOAK=1 is the operator-sized soak of the issue.
type scenario struct {
	requests int           // distinct idempotency keys
	stagger  time.Duration // between two creates, so the load spans the faults
	kills    int           // SIGKILLs of a replica
	deadline time.Duration // for every request to settle
	listLag  time.Duration // of the fake's run lists behind a dispatch
}

func sizes() scenario {
	s := scenario{requests: 24, stagger: 600 * time.Millisecond, kills: 2, deadline: 100 * time.Second}
	if os.Getenv("TFPILOT_SOAK") == "1" {
		s = scenario{requests: 200, stagger: 200 * time.Millisecond, kills: 4, deadline: 10 * time.Minute}
	}
	if n, err := strconv.Atoi(os.Getenv("TFPILOT_SOAK_REQUESTS")); err == nil && n > 0 {
		s.requests = n
	}
	s.listLag = 2 * time.Second
	if d, err := time.ParseDuration(os.Getenv("TFPILOT_MULTIPROC_LIST_LAG")); err == nil && d >= 0 {
		s.listLag = d
	}
	return s
}

const (
	// Two principals, as separation of duties wants: a developer
	// creates, an approver approves, merges and applies.
	devToken      = "mp-dev-token-0123456789abcdef"
	approverToken = "mp-approver-token-0123456789ab"
	webhookKey    = "mp-webhook-secret"
	githubToken   = "mp-github-token"
	apiPrefix     = "/tfpilot.v1.RequestService/"
	webhookPath   = "/webhooks/github"
	settledState  = "STATUS_APPLIED"
)

// TestDispatch_OneRunPerAttemptAcrossProcesses is the multi-process check
// of the exactly-once promise: two reference servers on one PostgreSQL,
// one standalone fake GitHub feeding both (every webhook to every
// replica, its runs list lagging dispatches by 2 s), concurrent creates
// (a third of them sent to both replicas with one Idempotency-Key) and
// applies driven as a client would, SIGKILLs of a replica mid-load, a
// PostgreSQL restart (every connection of the database cut and new ones
// refused for 1.5 s), and failed and ambiguous workflow_dispatch calls.
// It then checks, from PostgreSQL and the fake's debug API: requests ==
// keys, exactly one run per attempt, no orphan runs, every milestone
// recorded exactly once, no lock left, every request applied, and that
// no replica died on its own.
func TestDispatch_OneRunPerAttemptAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three processes")
	}
	sc := sizes()
	dsn := testenv.PostgresDSN(t)
	serverBin, fakeBin := buildBinaries(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	config := writeConfig(t, sc.requests)
	fakePort, portA, portB := freePort(t), freePort(t), freePort(t)
	fakeURL := fmt.Sprintf("http://127.0.0.1:%d", fakePort)
	fake := &proc{name: "fake-github", bin: fakeBin, args: []string{
		"--listen", fmt.Sprintf("127.0.0.1:%d", fakePort),
		"--config", config, "--token", githubToken, "--webhook-secret", webhookKey,
		"--webhook-target", fmt.Sprintf("http://127.0.0.1:%d%s", portA, webhookPath),
		"--webhook-target", fmt.Sprintf("http://127.0.0.1:%d%s", portB, webhookPath),
		"--rate-limit", "1000000", "--queue-delay", "300ms", "--run-delay", "700ms", "--runs-list-lag", sc.listLag.String(), "--webhook-timeout", "5s",
	}}
	fake.start(t)
	defer fake.kill(syscall.SIGTERM)
	if err := waitHTTP(ctx, fakeURL+"/_debug/calls", 30*time.Second); err != nil {
		t.Fatalf("fake GitHub: %v\n%s", err, fake.logs)
	}

	replica := func(name string, port int) *proc {
		return &proc{name: name, bin: serverBin, args: []string{
			"--listen", fmt.Sprintf("127.0.0.1:%d", port), "--store", "postgres", "--postgres-dsn", dsn,
			"--github-url", fakeURL + "/", "--github-insecure-http", "--github-token", githubToken, "--webhook-secret", webhookKey,
			"--reconcile-interval", "1s", "--reconcile-cooldown", "1s", "--dispatch-grace", "5s",
			"--lock-ttl", "10s", "--log-level", "warn", "--watch-poll", "1s", "--config", config,
		}, env: []string{"TFPILOT_TOKENS=mp-dev:developer:" + devToken + ",mp-approver:approver:" + approverToken}}
	}
	replicas := []*proc{replica("replica-a", portA), replica("replica-b", portB)}
	urls := []string{fmt.Sprintf("http://127.0.0.1:%d", portA), fmt.Sprintf("http://127.0.0.1:%d", portB)}
	for i, r := range replicas { // one after the other: both migrate at start
		r.start(t)
		defer r.kill(syscall.SIGTERM)
		if err := waitHTTP(ctx, urls[i]+"/readyz", 60*time.Second); err != nil {
			t.Fatalf("%s: %v\n%s", r.name, err, r.logs)
		}
	}
	defer func() {
		if t.Failed() {
			for _, p := range append([]*proc{fake}, replicas...) {
				t.Logf("%s log tail:\n%s", p.name, lastLines(p.logs.String(), 60))
			}
		}
	}()

	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := &client{urls: urls, replicas: replicas}

	// The load: every request created (some on both replicas at once with
	// one key) and then driven to applied, all concurrently.
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ids     = map[string]string{} // key → request id
		outcome = map[string]string{} // key → last status or error
	)
	loadCtx, loadCancel := context.WithTimeout(ctx, sc.deadline)
	defer loadCancel()
	runID := strings.ToLower(rand.Text()[:6])
	for i := 0; i < sc.requests; i++ {
		key := fmt.Sprintf("mp-%s-%03d", runID, i)
		body := fmt.Sprintf(`{"project":"mp","environment":"e%03d","module":"s3_bucket","config":{"bucket":"mp-%s-%d"}}`, i, runID, i)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			select { // creates spread over the faults
			case <-loadCtx.Done():
			case <-time.After(time.Duration(i) * sc.stagger):
			}
			id, err := c.create(loadCtx, key, body, i%3 == 0)
			if err != nil {
				mu.Lock()
				outcome[key] = "create: " + err.Error()
				mu.Unlock()
				return
			}
			mu.Lock()
			ids[key] = id
			mu.Unlock()
			st := c.drive(loadCtx, id)
			mu.Lock()
			outcome[key] = st
			mu.Unlock()
		}(i)
	}

	// A replica that dies on its own (a panic) is restarted, as an
	// orchestrator would, and reported at the end.
	superviseDone := make(chan struct{})
	go func() {
		defer close(superviseDone)
		for loadCtx.Err() == nil {
			for _, r := range replicas {
				if !r.alive() && !r.isKilled() {
					r.start(t)
				}
			}
			select {
			case <-loadCtx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()

	// The faults, spread over the load.
	chaosDone := make(chan struct{})
	var chaosLog []string
	go func() {
		defer close(chaosDone)
		logf := func(format string, args ...any) {
			chaosLog = append(chaosLog, fmt.Sprintf("%s "+format, append([]any{time.Now().Format("15:04:05.000")}, args...)...))
		}
		sleep := func(d time.Duration) bool {
			select {
			case <-ctx.Done():
				return false
			case <-time.After(d):
				return true
			}
		}
		if !sleep(2 * time.Second) {
			return
		}
		// Two dispatches refused outright (502, not applied) and three
		// applied with the answer lost (two 500s, one dropped connection).
		faults := `[{"endpoint":"dispatch","kind":"server_error","times":2},{"endpoint":"dispatch","kind":"ambiguous","times":2},{"endpoint":"dispatch","kind":"ambiguous","drop":true}]`
		if err := postJSON(ctx, fakeURL+"/_debug/faults", faults); err != nil {
			logf("arm faults: %v", err)
		} else {
			logf("armed 5 dispatch faults")
		}
		for k := 0; k < sc.kills; k++ {
			if !sleep(4 * time.Second) {
				return
			}
			victim := replicas[k%2]
			victim.kill(syscall.SIGKILL)
			logf("SIGKILL %s", victim.name)
			if !sleep(1500 * time.Millisecond) {
				victim.start(t)
				return
			}
			victim.start(t)
			logf("restarted %s", victim.name)
			if k == 0 {
				if !sleep(3 * time.Second) {
					return
				}
				if err := restartDatabase(ctx, dsn, 1500*time.Millisecond); err != nil {
					logf("PostgreSQL restart: %v", err)
				} else {
					logf("PostgreSQL restarted (connections cut, refused 1.5s)")
				}
			}
		}
	}()
	<-chaosDone // every fault happened, whatever the load did meanwhile
	wg.Wait()
	loadCancel()
	<-superviseDone
	t.Logf("chaos: %s", strings.Join(chaosLog, "; "))

	// Let the replicas finish what is in flight, then stop them: the
	// checks read a quiet system.
	_ = postJSON(ctx, fakeURL+"/_debug/flush", `{}`)
	for _, r := range replicas {
		if !r.alive() {
			r.start(t)
		}
	}
	time.Sleep(3 * time.Second) // a few reconcile passes; not an assertion
	for _, r := range replicas {
		r.kill(syscall.SIGTERM)
	}

	var calls struct {
		Calls map[string]int `json:"calls"`
	}
	if err := getJSON(ctx, fakeURL+"/_debug/calls", &calls); err == nil {
		t.Logf("fake GitHub calls: %d workflow_dispatch, %d run lists, %d get run, %d merges",
			calls.Calls["POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches"],
			calls.Calls["GET /repos/{owner}/{repo}/actions/workflows/{workflow}/runs"]+calls.Calls["GET /repos/{owner}/{repo}/actions/runs"],
			calls.Calls["GET /repos/{owner}/{repo}/actions/runs/{run_id}"], calls.Calls["PUT /repos/{owner}/{repo}/pulls/{number}/merge"])
	}
	var faults struct{ Pending int }
	if err := getJSON(ctx, fakeURL+"/_debug/faults", &faults); err != nil || faults.Pending != 0 {
		t.Errorf("the injected dispatch faults did not all fire (%d hits pending, %v): the run did not test them", faults.Pending, err)
	}
	if n := len(chaosLog); n < 2+2*sc.kills {
		t.Errorf("chaos did not run to the end: %v", chaosLog)
	}
	v := &verifier{t: t, db: db, fakeURL: fakeURL}
	v.check(ctx, ids, outcome, sc.requests)
	for _, r := range replicas {
		for _, e := range r.unwantedExits() {
			t.Errorf("replica died on its own (no one killed it): %s", e)
		}
		if p := r.logs.panicLines(); len(p) > 0 {
			t.Errorf("%s logged a panic: %s", r.name, strings.Join(p, " | "))
		}
	}
}

// writeConfig writes the servers' (and the fake's) configuration: one
// environment, so one Terraform folder, per request. Requests of one
// environment write one file, and their pull requests conflict once the
// first merges; that is not what this test is about.
func writeConfig(t *testing.T, n int) string {
	t.Helper()
	targets := map[string]any{}
	for i := 0; i < n; i++ {
		targets[fmt.Sprintf("mp/e%03d", i)] = map[string]string{"owner": "acme", "repo": "infra", "base": "main", "envPath": fmt.Sprintf("envs/e%03d", i)}
	}
	cfg := map[string]any{
		"targets": targets,
		"modules": []any{map[string]any{
			"name": "s3_bucket", "source": "terraform-aws-modules/s3-bucket/aws", "version": "4.1.2",
			"fields": []any{map[string]any{"name": "bucket", "type": "string", "required": true}},
		}},
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// restartDatabase does to the servers what a PostgreSQL restart does:
// every connection to the database is cut and new ones are refused for
// down, then accepted again.
func restartDatabase(ctx context.Context, dsn string, down time.Duration) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres" // the maintenance database: one cannot lock out the database one is on
	admin, err := sql.Open("pgx", u.String())
	if err != nil {
		return err
	}
	defer admin.Close()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	q := `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+q+" ALLOW_CONNECTIONS false"); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name); err != nil {
		return err
	}
	time.Sleep(down)
	_, err = conn.ExecContext(context.WithoutCancel(ctx), "ALTER DATABASE "+q+" ALLOW_CONNECTIONS true")
	return err
}

func getJSON(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

func postJSON(ctx context.Context, url, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %d %s", url, resp.StatusCode, b)
	}
	return nil
}

// client calls the Connect API (JSON over HTTP) of whichever replica is
// up, as a load balancer would route it.
type client struct {
	urls     []string
	replicas []*proc
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (c *client) pick() int {
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(c.urls))))
	return int(n.Int64())
}

// call posts to one replica and decodes the answer into out.
func (c *client) call(ctx context.Context, replica int, method, key, body string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.urls[replica]+apiPrefix+method, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	token := approverToken
	if method == "Create" {
		token = devToken
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		var e apiError
		_ = json.Unmarshal(b, &e)
		return &e
	}
	return json.Unmarshal(b, out)
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

type requestAnswer struct {
	Request struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"request"`
}

// create sends Create with key until one replica answers, to both
// replicas at once when both is set; every answer must name one id.
func (c *client) create(ctx context.Context, key, body string, both bool) (string, error) {
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		last error
	)
	try := func(replica int) {
		for ctx.Err() == nil {
			var a requestAnswer
			err := c.call(ctx, replica, "Create", key, body, &a)
			if err == nil && a.Request.ID != "" {
				mu.Lock()
				seen[a.Request.ID] = true
				mu.Unlock()
				return
			}
			mu.Lock()
			last = err
			mu.Unlock()
			replica = (replica + 1) % len(c.urls)
			time.Sleep(200 * time.Millisecond)
		}
	}
	if both {
		var wg sync.WaitGroup
		for i := range c.urls {
			wg.Add(1)
			go func(i int) { defer wg.Done(); try(i) }(i)
		}
		wg.Wait()
	} else {
		try(c.pick())
	}
	if len(seen) == 0 {
		return "", fmt.Errorf("no replica created it: %v", last)
	}
	if len(seen) > 1 {
		ids := make([]string, 0, len(seen))
		for id := range seen {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		return ids[0], fmt.Errorf("one Idempotency-Key %q answered with %d request ids %v", key, len(seen), ids)
	}
	for id := range seen {
		return id, nil
	}
	return "", nil
}

// drive moves request id to applied as a client would: approve, merge
// and apply as soon as each is allowed, on whichever replica, until it
// is applied or failed or ctx ends. It returns the last status seen.
// Each step's Idempotency-Key names the step and how many times it
// succeeded before: a retry repeats the key, while a second approval (of
// the plan of a merge commit whose tree differs from the planned one,
// which is planned again after the merge) is a new call with a new key.
func (c *client) drive(ctx context.Context, id string) string {
	body := fmt.Sprintf(`{"id":%q}`, id)
	status, lastErr := "", ""
	done := map[string]int{}
	for ctx.Err() == nil {
		r := c.pick()
		var a requestAnswer
		if err := c.call(ctx, r, "Get", "", body, &a); err != nil {
			time.Sleep(300 * time.Millisecond)
			continue
		}
		status = a.Request.Status
		var step string
		switch status {
		case settledState:
			return status
		case "STATUS_FAILED":
			return status
		case "STATUS_PLAN_READY":
			step = "Approve"
		case "STATUS_APPROVED":
			step = "Merge"
		case "STATUS_MERGED":
			step = "Apply"
		}
		if step != "" {
			var out requestAnswer
			if err := c.call(ctx, c.pick(), step, fmt.Sprintf("%s-%s-%d", step, id, done[step]), body, &out); err != nil {
				lastErr = step + ": " + err.Error()
			} else {
				done[step]++
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	return status + " (deadline; last error " + lastErr + ")"
}

// verifier checks the invariants from PostgreSQL and the fake.
type verifier struct {
	t       *testing.T
	db      *sql.DB
	fakeURL string
}

type attemptDoc struct {
	Attempt    int    `json:"attempt"`
	PinnedSHA  string `json:"pinnedSha"`
	RunID      int64  `json:"runId"`
	Status     string `json:"status"`
	Conclusion string `json:"conclusion"`
	Nonce      string `json:"nonce"`
}

type requestDoc struct {
	ID        string `json:"id"`
	CommitSHA string `json:"commitSha"`
	PR        *struct {
		Number  int    `json:"number"`
		HeadSHA string `json:"headSha"`
		Merged  bool   `json:"merged"`
	} `json:"pr"`
	Runs map[string]struct {
		Attempts []attemptDoc `json:"attempts"`
	} `json:"runs"`
	Lock *struct {
		Holder    string    `json:"holder"`
		Operation string    `json:"operation"`
		ExpiresAt time.Time `json:"expiresAt"`
	} `json:"lock"`
}

type fakeRun struct {
	ID         int64  `json:"id"`
	Workflow   string `json:"workflow"`
	Status     string `json:"status"`
	Conclusion string `json:"conclusion"`
	RequestID  string `json:"requestId"`
	Nonce      string `json:"nonce"`
}

func (v *verifier) check(ctx context.Context, ids, outcome map[string]string, keys int) {
	t := v.t
	// requests == keys
	var stored int
	if err := v.db.QueryRowContext(ctx, "SELECT count(*) FROM tfpilot_requests").Scan(&stored); err != nil {
		t.Fatalf("count requests: %v", err)
	}
	var created, distinct int
	if err := v.db.QueryRowContext(ctx, "SELECT count(*), count(DISTINCT request_id) FROM tfpilot_idempotency WHERE request_id <> '' AND key LIKE 'mp-%'").Scan(&created, &distinct); err != nil {
		t.Fatalf("count idempotency keys: %v", err)
	}
	if stored != keys {
		t.Errorf("requests == keys: %d requests stored for %d idempotency keys (%d create keys recorded, naming %d distinct requests)", stored, keys, created, distinct)
	}
	if len(ids) != keys {
		t.Errorf("requests == keys: only %d of %d keys got a request id back", len(ids), keys)
	}
	for key, o := range outcome {
		if strings.HasPrefix(o, "create:") {
			t.Errorf("key %s: %s", key, o)
		}
	}

	// The fake's runs.
	resp, err := http.Get(v.fakeURL + "/_debug/runs")
	if err != nil {
		t.Fatalf("fake runs: %v", err)
	}
	var fr struct{ Runs []fakeRun }
	err = json.NewDecoder(resp.Body).Decode(&fr)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("fake runs: %v", err)
	}
	byNonce := map[string][]fakeRun{}
	for _, r := range fr.Runs {
		byNonce[r.Nonce] = append(byNonce[r.Nonce], r)
	}

	rows, err := v.db.QueryContext(ctx, "SELECT id, status, doc FROM tfpilot_requests ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	attempts := map[string]bool{} // nonce of every attempt
	attached := map[int64]bool{}  // run ids attached to an attempt
	docs := map[string]requestDoc{}
	var dupRuns, missingRuns, notApplied, locks []string
	for rows.Next() {
		var id, status string
		var raw []byte
		if err := rows.Scan(&id, &status, &raw); err != nil {
			t.Fatal(err)
		}
		var d requestDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("request %s: %v", id, err)
		}
		docs[id] = d
		if status != "applied" {
			notApplied = append(notApplied, id+"="+status)
		}
		if d.Lock != nil {
			state := "live"
			if time.Now().After(d.Lock.ExpiresAt) {
				state = "expired"
			}
			locks = append(locks, fmt.Sprintf("%s (%s by %s, %s, expires %s)", id, d.Lock.Operation, d.Lock.Holder, state, d.Lock.ExpiresAt.Format(time.RFC3339)))
		}
		for kind, op := range d.Runs {
			for _, a := range op.Attempts {
				if a.Nonce == "" {
					continue
				}
				attempts[a.Nonce] = true
				if a.RunID != 0 {
					attached[a.RunID] = true
				}
				got := byNonce[a.Nonce]
				switch {
				case len(got) > 1:
					ids := make([]string, 0, len(got))
					for _, r := range got {
						ids = append(ids, strconv.FormatInt(r.ID, 10))
					}
					dupRuns = append(dupRuns, fmt.Sprintf("%s %s attempt %d: %d runs %v (attached: %d)", id, kind, a.Attempt, len(got), ids, a.RunID))
				case len(got) == 0 && a.Conclusion != "startup_failure":
					missingRuns = append(missingRuns, fmt.Sprintf("%s %s attempt %d: no run carries nonce %s (status %q)", id, kind, a.Attempt, a.Nonce, a.Status))
				case len(got) == 1 && a.RunID != 0 && a.RunID != got[0].ID:
					dupRuns = append(dupRuns, fmt.Sprintf("%s %s attempt %d: attached run %d but run %d carries its nonce", id, kind, a.Attempt, a.RunID, got[0].ID))
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, s := range dupRuns {
		t.Errorf("exactly one run per attempt: %s", s)
	}
	for _, s := range missingRuns {
		t.Errorf("exactly one run per attempt (missing): %s", s)
	}
	for _, r := range fr.Runs {
		if !attempts[r.Nonce] {
			t.Errorf("no orphan runs: run %d (%s, request %s, nonce %q) belongs to no attempt", r.ID, r.Workflow, r.RequestID, r.Nonce)
		}
	}
	var indexed []struct {
		kind  string
		runID int64
		req   string
	}
	irows, err := v.db.QueryContext(ctx, "SELECT kind, run_id, request_id FROM tfpilot_run_index")
	if err != nil {
		t.Fatal(err)
	}
	for irows.Next() {
		var e struct {
			kind  string
			runID int64
			req   string
		}
		if err := irows.Scan(&e.kind, &e.runID, &e.req); err != nil {
			t.Fatal(err)
		}
		indexed = append(indexed, e)
	}
	irows.Close()
	for _, e := range indexed {
		if !attached[e.runID] {
			t.Errorf("no orphan runs: run index maps %s run %d to %s, but no attempt of any request is attached to it", e.kind, e.runID, e.req)
		}
	}
	if len(notApplied) > 0 {
		sort.Strings(notApplied)
		t.Errorf("every request applied: %d of %d not applied: %s", len(notApplied), len(docs), strings.Join(notApplied, ", "))
		for key, o := range outcome {
			if o != settledState {
				t.Logf("client view of %s (%s): %s; %s", key, ids[key], o, v.prFacts(ctx, docs[ids[key]]))
			}
		}
	}
	for _, l := range locks {
		t.Errorf("no lock left: %s", l)
	}
	v.checkEvents(ctx, docs)
}

// prFacts compares a request's pull request as the store has it with the
// fake's, to say why a merge is refused.
func (v *verifier) prFacts(ctx context.Context, d requestDoc) string {
	if d.PR == nil {
		return "no pull request recorded"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/repos/acme/infra/pulls/%d", v.fakeURL, d.PR.Number), nil)
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+githubToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var pr struct {
		State          string `json:"state"`
		Merged         bool   `json:"merged"`
		Mergeable      *bool  `json:"mergeable"`
		MergeableState string `json:"mergeable_state"`
		Head           struct {
			SHA string `json:"sha"`
		} `json:"head"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&pr); err != nil {
		return err.Error()
	}
	m := "unknown"
	if pr.Mergeable != nil {
		m = strconv.FormatBool(*pr.Mergeable)
	}
	return fmt.Sprintf("store: PR #%d head %s, commit %s; GitHub: %s, merged %v, mergeable %s (%s), head %s",
		d.PR.Number, d.PR.HeadSHA, d.CommitSHA, pr.State, pr.Merged, m, pr.MergeableState, pr.Head.SHA)
}

// applied reports whether d's current apply attempt succeeded.
func (d requestDoc) applied() bool {
	for _, a := range d.Runs["apply"].Attempts {
		if a.Conclusion == "success" {
			return true
		}
	}
	return false
}

// checkEvents checks that every milestone of every request is recorded
// exactly once: the creation, the pull request opened, approved and
// merged, one <kind>_dispatched per attempt, one <kind>_completed per
// completed attempt, and one approval of each plan pinned to a merge
// commit that was applied.
func (v *verifier) checkEvents(ctx context.Context, docs map[string]requestDoc) {
	t := v.t
	rows, err := v.db.QueryContext(ctx, "SELECT request_id, doc FROM tfpilot_events")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	counts := map[string]map[string]int{} // request → milestone → count
	for rows.Next() {
		var id string
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			t.Fatal(err)
		}
		var e struct {
			Event string         `json:"event"`
			Data  map[string]any `json:"data"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		m := e.Event
		if strings.HasSuffix(m, "_dispatched") || strings.HasSuffix(m, "_completed") {
			m = fmt.Sprintf("%s#%v", m, e.Data["attempt"])
		}
		if pin, _ := e.Data["plannedSha"].(string); m == "request_approved" && pin != "" {
			m += "@" + pin // the approval of a plan pinned to the merge commit
		}
		if counts[id] == nil {
			counts[id] = map[string]int{}
		}
		counts[id][m]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(docs))
	for id := range docs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		want := map[string]bool{"request_created": true, "pr_opened": true, "request_approved": true, "pr_merged": true}
		for kind, op := range docs[id].Runs {
			for _, a := range op.Attempts {
				if a.PinnedSHA != "" && a.Conclusion == "success" && docs[id].applied() {
					// A merge commit with another tree than the plan's was
					// planned again, and that plan approved before the apply.
					want["request_approved@"+a.PinnedSHA] = true
				}
				want[fmt.Sprintf("%s_dispatched#%d", kind, a.Attempt)] = true
				if a.Conclusion != "" && a.Conclusion != "startup_failure" {
					want[fmt.Sprintf("%s_completed#%d", kind, a.Attempt)] = true
				}
			}
		}
		var problems []string
		for m := range want {
			if n := counts[id][m]; n != 1 {
				problems = append(problems, fmt.Sprintf("%s recorded %d times", m, n))
			}
		}
		for m, n := range counts[id] {
			if !want[m] && n > 1 && (strings.HasSuffix(strings.Split(m, "#")[0], "_completed") || strings.HasSuffix(strings.Split(m, "#")[0], "_dispatched")) {
				problems = append(problems, fmt.Sprintf("%s recorded %d times for no attempt", m, n))
			}
		}
		sort.Strings(problems)
		if len(problems) > 0 {
			t.Errorf("no duplicate or missing milestones: request %s: %s", id, strings.Join(problems, "; "))
		}
	}
}
