package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/internal/testenv"
	"github.com/tfpilot/tfpilot/store/pgstore"
	"github.com/tfpilot/tfpilot/store/s3store"
)

func TestMain(m *testing.M) {
	code := testenv.Main(m)
	if binPath != "" {
		os.RemoveAll(strings.TrimSuffix(binPath, "/tfpilot-server"))
	}
	os.Exit(code)
}

// TestBinary_KeepsRequestsInPostgresAndS3 runs the demo on each durable
// store: the binary applies migrations (postgres) or uses the bucket
// (s3), answers /readyz, takes a request to applied, and the request is
// then found in the store by another client.
func TestBinary_KeepsRequestsInPostgresAndS3(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	t.Parallel()
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := testenv.PostgresDSN(t)
		srv := startBinary(t, []string{"--demo", "--store", "postgres", "--postgres-dsn", dsn}, nil)
		id := applyOne(t, srv.vars)
		srv.stop(t)
		s, err := pgstore.Open(context.Background(), dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		assertApplied(t, s, id)
	})
	t.Run("s3", func(t *testing.T) {
		t.Parallel()
		b := testenv.NewS3(t)
		srv := startBinary(t, []string{"--demo", "--store", "s3", "--s3-bucket", b.Bucket, "--s3-prefix", b.Prefix,
			"--s3-endpoint", b.Endpoint, "--s3-region", b.Region},
			[]string{"AWS_ACCESS_KEY_ID=" + b.AccessKey, "AWS_SECRET_ACCESS_KEY=" + b.SecretKey, "AWS_CONFIG_FILE=/dev/null"})
		id := applyOne(t, srv.vars)
		srv.stop(t)
		s, err := s3store.New(b.Client, b.Bucket, &s3store.Options{Prefix: b.Prefix})
		if err != nil {
			t.Fatal(err)
		}
		assertApplied(t, s, id)
	})
}

func assertApplied(t *testing.T, s tfpilot.Store, id string) {
	t.Helper()
	r, err := s.GetRequest(context.Background(), id)
	if err != nil {
		t.Fatalf("the request is not in the store: %v", err)
	}
	if st := r.Status(time.Now()); st != "applied" {
		t.Errorf("stored request is %s, want applied", st)
	}
}

// applyOne checks /readyz, creates a request over JSON and waits for it
// to be applied; it returns the request id.
func applyOne(t *testing.T, vars map[string]string) string {
	t.Helper()
	res, err := http.Get(vars["TFPILOT_URL"] + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("/readyz = %d", res.StatusCode)
	}
	post := func(method, body string) map[string]any {
		req, _ := http.NewRequest(http.MethodPost, vars["TFPILOT_URL"]+"/tfpilot.v1.RequestService/"+method, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+vars["TOKEN"])
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var out struct{ Request map[string]any }
		if res.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil {
			t.Fatalf("%s: %d %s", method, res.StatusCode, b)
		}
		return out.Request
	}
	id, _ := post("Create", `{"project":"payments","environment":"dev","module":"sqs_queue","config":{"name":"payments-events"}}`)["id"].(string)
	deadline := time.Now().Add(time.Minute)
	for {
		r := post("Get", `{"id":"`+id+`"}`)
		if r["status"] == "STATUS_APPLIED" {
			return id
		}
		if time.Now().After(deadline) {
			t.Fatalf("not applied within a minute: %v", r)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
