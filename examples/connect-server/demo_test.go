package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// TestDemoBinary_TenRequestsInOneEnvironmentAllReachApplied creates ten
// requests in payments/dev at once against the built demo server (its
// autopilot approves, merges and applies; every merge makes the other
// pull requests conflict, so their branches are rebuilt and re-planned)
// and waits for all ten to reach STATUS_APPLIED within two minutes. No
// call may have been answered resource_exhausted or unavailable, which
// is how an exhausted simulated rate limit shows.
func TestDemoBinary_TenRequestsInOneEnvironmentAllReachApplied(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("uses SIGTERM")
	}
	t.Parallel()
	srv := startBinary(t, nil, nil)
	api := srv.vars["TFPILOT_URL"] + "/tfpilot.v1.RequestService/"
	call := func(method, body string) ([]byte, error) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, api+method, strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+srv.vars["TOKEN"])
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s: %d %s", method, res.StatusCode, b)
		}
		return b, err
	}
	const n = 10
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			b, err := call("Create", fmt.Sprintf(`{"project":"payments","environment":"dev","module":"s3_bucket","config":{"bucket":"payments-dev-%02d"}}`, i))
			if err != nil {
				errs[i] = err
				return
			}
			var res struct{ Request struct{ ID string } }
			if err := json.Unmarshal(b, &res); err != nil || res.Request.ID == "" {
				errs[i] = fmt.Errorf("Create answered %s (%v)", b, err)
			}
			ids[i] = res.Request.ID
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	pending := map[string]string{}
	for _, id := range ids {
		pending[id] = ""
	}
	for len(pending) > 0 {
		for id := range pending {
			b, err := call("Get", fmt.Sprintf(`{"id":%q}`, id))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), `"status":"STATUS_APPLIED"`) {
				delete(pending, id)
				continue
			}
			pending[id] = string(b)
		}
		if len(pending) > 0 && time.Now().After(deadline) {
			for id, last := range pending {
				t.Errorf("%s not applied within two minutes: %s", id, last)
			}
			t.FailNow()
		}
		time.Sleep(time.Second)
	}
	res, err := http.Get(srv.vars["TFPILOT_URL"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, code := range []string{`code="resource_exhausted"`, `code="unavailable"`} {
		if strings.Contains(string(metrics), code) {
			t.Errorf("calls answered %s:\n%s", code, grepLines(string(metrics), code))
		}
	}
	srv.stop(t)
}

func TestCheckDemoStore_RefusesRequestsOfAnEarlierRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := memstore.New(nil)
	if err := checkDemoStore(ctx, s, "postgres"); err != nil {
		t.Fatalf("empty store: %v", err)
	}
	now := time.Now()
	if _, err := s.CreateRequest(ctx, &tfpilot.Request{SchemaVersion: tfpilot.SchemaVersion, ID: "req-old", Project: "payments",
		Environment: "dev", Module: "s3_bucket", ReceivedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := checkDemoStore(ctx, s, "postgres"); !errors.Is(err, errDemoStale) || !strings.Contains(err.Error(), "req-old") {
		t.Fatalf("store with a request of an earlier run: %v", err)
	}
	if err := checkDemoStore(ctx, s, "memory"); err != nil {
		t.Fatalf("memory store: %v", err)
	}
}

func TestAutopilotDelay_ExponentialJitteredBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n      int
		lo, hi time.Duration
	}{
		{1, backoffMin / 2, backoffMin * 3 / 2},
		{2, backoffMin, backoffMin * 3},
		{3, backoffMin * 2, backoffMin * 6},
		{100, backoffMax / 2, backoffMax * 3 / 2},
	} {
		for _, r := range []float64{0, 0.5, 0.999} {
			if d := delay(tc.n, r); d < tc.lo || d >= tc.hi {
				t.Errorf("delay(%d, %v) = %v, want in [%v, %v)", tc.n, r, d, tc.lo, tc.hi)
			}
		}
	}
	if delay(2, 0.5) != 2*delay(1, 0.5) {
		t.Error("the delay does not double per failure")
	}
}
