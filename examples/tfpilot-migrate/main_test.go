package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// filled returns a store with two requests, one of which breaks
// INV-CORE-4, and a run index entry.
func filled(t *testing.T) *memstore.Store {
	t.Helper()
	s := memstore.New(nil)
	ctx := t.Context()
	good := &tfpilot.Request{ID: "req-good", Project: "payments", Environment: "dev", Module: "s3-bucket"}
	good.Runs.Plan = runs.Op{CurrentAttempt: 1, Attempts: []runs.Attempt{{Attempt: 1, RunID: 11, Status: runs.StatusQueued}}}
	bad := &tfpilot.Request{ID: "req-bad", Project: "payments", Environment: "dev", Module: "s3-bucket"}
	bad.Runs.Apply = runs.Op{CurrentAttempt: 2, Attempts: []runs.Attempt{{Attempt: 1}}}
	for _, r := range []*tfpilot.Request{good, bad} {
		if _, err := s.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.IndexRun(ctx, runs.Plan, 11, "req-good"); err != nil {
		t.Fatal(err)
	}
	return s
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// The command tests share memoryStores, so they do not run in parallel.

func TestAudit_ViolationsExitOne(t *testing.T) {
	memoryStores["audit-src"] = filled(t)
	code, out, _ := runCmd(t, "audit", "--store", "memory:audit-src")
	if code != exitFindings || !strings.Contains(out, "req-bad INV-CORE-4 apply: currentAttempt 2 names no attempt") || !strings.Contains(out, "1 violations: INV-CORE-4 1") {
		t.Errorf("audit exit %d, output:\n%s", code, out)
	}
	code, out, _ = runCmd(t, "audit", "--store", "memory:")
	if code != exitOK || !strings.Contains(out, "no violations") {
		t.Errorf("audit of an empty store: exit %d, output:\n%s", code, out)
	}
}

func TestCopy_CompleteCopyExitsZeroAndSecondWritesNothing(t *testing.T) {
	memoryStores["copy-src"] = filled(t)
	dst := memstore.New(nil)
	memoryStores["copy-dst"] = dst
	code, out, errOut := runCmd(t, "copy", "--from", "memory:copy-src", "--to", "memory:copy-dst", "--dry-run")
	if code != exitOK || !strings.Contains(out, "dry run: nothing written") || !strings.Contains(out, "TO WRITE") {
		t.Errorf("dry run: exit %d, output:\n%s%s", code, out, errOut)
	}
	if _, err := dst.GetRequest(t.Context(), "req-good"); err == nil {
		t.Errorf("dry run wrote to the target")
	}
	code, out, errOut = runCmd(t, "copy", "--from", "memory:copy-src", "--to", "memory:copy-dst", "--progress-every", "1")
	if code != exitOK || !strings.Contains(out, "3 items read, 3 written") || !strings.Contains(out, "OK: source and target match") {
		t.Errorf("copy: exit %d, output:\n%s", code, out)
	}
	if !strings.Contains(errOut, "request          done read 2, written 2") {
		t.Errorf("copy progress on stderr:\n%s", errOut)
	}
	code, out, _ = runCmd(t, "copy", "--from", "memory:copy-src", "--to", "memory:copy-dst")
	if code != exitOK || !strings.Contains(out, "3 items read, 0 written, 3 unchanged") {
		t.Errorf("second copy: exit %d, output:\n%s", code, out)
	}
}

func TestCopy_ConflictExitsOne(t *testing.T) {
	memoryStores["conflict-src"] = filled(t)
	dst := memstore.New(nil)
	if _, err := dst.CreateRequest(t.Context(), &tfpilot.Request{ID: "req-good", Project: "other", Environment: "dev", Module: "m"}); err != nil {
		t.Fatal(err)
	}
	memoryStores["conflict-dst"] = dst
	code, out, _ := runCmd(t, "copy", "--from", "memory:conflict-src", "--to", "memory:conflict-dst", "--kinds", "request")
	if code != exitFindings || !strings.Contains(out, "conflict: request req-good") || !strings.Contains(out, "NOT OK") {
		t.Errorf("copy onto a conflicting target: exit %d, output:\n%s", code, out)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"frobnicate"},
		{"audit"},
		{"audit", "--store", "ftp://x"},
		{"audit", "--store", "memory:", "--now", "yesterday"},
		{"copy", "--from", "memory:"},
		{"copy", "--from", "memory:", "--to", "memory:", "--kinds", "request,bogus"},
		{"copy", "--from", "memory:nope", "--to", "memory:"},
	} {
		if code, _, _ := runCmd(t, args...); code != exitError {
			t.Errorf("%q: exit %d, want %d", args, code, exitError)
		}
	}
}
