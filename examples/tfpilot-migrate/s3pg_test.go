package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tfpilot/tfpilot/internal/testenv"
)

// TestS3ToPostgres runs the command as an operator would: copy a bucket
// the original TfPilot wrote into PostgreSQL, copy again, audit both.
func TestS3ToPostgres(t *testing.T) {
	b := testenv.NewS3(t)
	dsn := testenv.PostgresDSN(t)
	t.Setenv("AWS_ACCESS_KEY_ID", b.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", b.SecretKey)
	t.Setenv("AWS_REGION", b.Region)
	for key, body := range map[string]string{
		"requests/req-a.json": `{"id":"req-a","project":"payments","environment":"dev","module":"s3-bucket","version":3,"status":"planning",
			"receivedAt":"2025-06-01T10:00:00.000Z","templateId":"t1",
			"runs":{"plan":{"currentAttempt":1,"attempts":[{"attempt":1,"runId":501,"status":"queued","dispatchedAt":"2025-06-01T10:00:01.000Z"}]},"apply":{"currentAttempt":0,"attempts":[]},"destroy":{"currentAttempt":0,"attempts":[]}}}`,
		"requests/req-b.json": `{"id":"req-b","project":"payments","environment":"dev","module":"s3-bucket","version":1,"planRun":{"runId":9},
			"receivedAt":"2025-06-01T11:00:00.000Z"}`,
		"webhooks/github/run-index/plan/run-501.json": `{"requestId":"req-a"}`,
		"logs/req-a/2025-06-01T10:00:00.000Z.json":    `{"requestId":"req-a","event":"request_created","timestamp":"2025-06-01T10:00:00.000Z"}`,
	} {
		if _, err := b.Client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(b.Prefix + key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	from := "s3://" + b.Bucket + "/" + b.Prefix
	s3flags := []string{"--s3-endpoint", b.Endpoint, "--s3-path-style"}

	code, out, errOut := runCmd(t, append([]string{"copy", "--from", from, "--to", dsn}, s3flags...)...)
	if code != exitOK || !strings.Contains(out, "4 items read, 4 written") || !strings.Contains(out, "OK: source and target match") {
		t.Fatalf("copy: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCmd(t, append([]string{"copy", "--from", from, "--to", dsn}, s3flags...)...)
	if code != exitOK || !strings.Contains(out, "4 items read, 0 written, 4 unchanged") {
		t.Errorf("second copy: exit %d\n%s", code, out)
	}
	for _, store := range []string{from, dsn} {
		code, out, errOut = runCmd(t, append([]string{"audit", "--store", store}, s3flags...)...)
		if code != exitFindings || !strings.Contains(out, `req-b INV-CORE-1 top-level field "planRun" holds run state outside runs`) ||
			!strings.Contains(out, "1 violations: INV-CORE-1 1") {
			t.Errorf("audit %s: exit %d\n%s%s", store, code, out, errOut)
		}
	}
}
