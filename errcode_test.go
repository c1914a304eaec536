package tfpilot_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/githubx"
	"github.com/tfpilot/tfpilot/lock"
	"github.com/tfpilot/tfpilot/store"
)

// TestCode_EverySentinelHasOneKind: one error model (issue 21). Every
// sentinel a caller of the engine can meet — the root's, the store
// contract's, githubx's and lock's, and their typed errors — answers
// Code with one kind, wrapped once or twice with context, so a server
// maps errors through Code alone, importing neither githubx nor lock.
func TestCode_EverySentinelHasOneKind(t *testing.T) {
	reset := time.Date(2026, 3, 14, 16, 0, 0, 0, time.UTC)
	rate := &githubx.RateLimitError{Reset: reset, StatusCode: 403}
	held := &lock.ConflictError{Holder: "alice@plan", Operation: "plan", ExpiresAt: reset}
	for _, tc := range []struct {
		name string
		err  error
		want tfpilot.ErrorCode
	}{
		{"nil", nil, tfpilot.CodeOK},
		{"context.Canceled", context.Canceled, tfpilot.CodeCanceled},
		{"context.DeadlineExceeded", context.DeadlineExceeded, tfpilot.CodeDeadlineExceeded},
		{"ErrUnauthenticated", tfpilot.ErrUnauthenticated, tfpilot.CodeUnauthenticated},
		{"ErrPermissionDenied", tfpilot.ErrPermissionDenied, tfpilot.CodePermissionDenied},
		{"ErrSelfApproval", fmt.Errorf("%w: %w", tfpilot.ErrPermissionDenied, tfpilot.ErrSelfApproval), tfpilot.CodePermissionDenied},
		{"ErrSelfApproval alone", tfpilot.ErrSelfApproval, tfpilot.CodePermissionDenied},
		{"ErrIdempotencyKeyReused", tfpilot.ErrIdempotencyKeyReused, tfpilot.CodeIdempotencyKeyReused},
		{"ErrInvalid", tfpilot.ErrInvalid, tfpilot.CodeInvalid},
		{"store.ErrInvalid", store.ErrInvalid, tfpilot.CodeInvalid},
		{"*ValidationError", &tfpilot.ValidationError{Violations: []tfpilot.FieldViolation{{Field: "id", Description: "empty"}}}, tfpilot.CodeInvalid},
		{"lock.ErrInvalid", lock.ErrInvalid, tfpilot.CodeInternal},
		{"ErrPrecondition", tfpilot.ErrPrecondition, tfpilot.CodePrecondition},
		{"*GateError", &tfpilot.GateError{Operation: tfpilot.ActionApply, Reason: "not approved"}, tfpilot.CodePrecondition},
		{"ErrLocked", fmt.Errorf("%w: %w", tfpilot.ErrLocked, held), tfpilot.CodeLocked},
		{"lock.ErrConflict", lock.ErrConflict, tfpilot.CodeLocked},
		{"*lock.ConflictError", held, tfpilot.CodeLocked},
		{"ErrConflict", tfpilot.ErrConflict, tfpilot.CodeConflict},
		{"lock.ErrNotHeld", lock.ErrNotHeld, tfpilot.CodeConflict},
		{"githubx.ErrConflict", githubx.ErrConflict, tfpilot.CodeConflict},
		{"githubx.ErrNotMergeable", githubx.ErrNotMergeable, tfpilot.CodeConflict},
		{"githubx.ErrHeadSHAMismatch", githubx.ErrHeadSHAMismatch, tfpilot.CodeConflict},
		{"ErrNotFound", tfpilot.ErrNotFound, tfpilot.CodeNotFound},
		{"ErrAlreadyExists", tfpilot.ErrAlreadyExists, tfpilot.CodeAlreadyExists},
		{"githubx.ErrRateLimited", githubx.ErrRateLimited, tfpilot.CodeRateLimited},
		{"*githubx.RateLimitError", rate, tfpilot.CodeRateLimited},
		{"ErrUnavailable over a rate limit", fmt.Errorf("%w: %w", tfpilot.ErrUnavailable, rate), tfpilot.CodeRateLimited},
		{"ErrUnavailable", tfpilot.ErrUnavailable, tfpilot.CodeUnavailable},
		{"githubx.ErrUnavailable", githubx.ErrUnavailable, tfpilot.CodeUnavailable},
		{"githubx.ErrNotFound", githubx.ErrNotFound, tfpilot.CodeInternal},
		{"githubx.ErrUnauthorized", githubx.ErrUnauthorized, tfpilot.CodeInternal},
		{"githubx.ErrForbidden", githubx.ErrForbidden, tfpilot.CodeInternal},
		{"githubx.ErrAlreadyExists", githubx.ErrAlreadyExists, tfpilot.CodeInternal},
		{"githubx.ErrInvalid", githubx.ErrInvalid, tfpilot.CodeInternal},
		{"an unknown error", errors.New("disk on fire"), tfpilot.CodeInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tfpilot.Code(tc.err); got != tc.want {
				t.Errorf("Code(%v) = %q, want %q", tc.err, got, tc.want)
			}
			if tc.err == nil {
				return
			}
			wrapped := fmt.Errorf("tfpilot: apply %q: %w", "req-1", fmt.Errorf("step: %w", tc.err))
			if got := tfpilot.Code(wrapped); got != tc.want {
				t.Errorf("Code(wrapped %v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

// TestRetryAt_LockExpiryAndRateLimitReset: RetryAt says when a locked
// request's lock expires and when GitHub's rate limit resets, LockHolder
// which operation holds the lock, and neither says anything for other
// errors.
func TestRetryAt_LockExpiryAndRateLimitReset(t *testing.T) {
	at := time.Date(2026, 3, 14, 16, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		err  error
		want time.Time
		ok   bool
	}{
		{"locked", fmt.Errorf("%w: %w", tfpilot.ErrLocked, &lock.ConflictError{Operation: "plan", ExpiresAt: at}), at, true},
		{"rate limited", fmt.Errorf("%w: %w", tfpilot.ErrUnavailable, &githubx.RateLimitError{Reset: at}), at, true},
		{"conflict", tfpilot.ErrConflict, time.Time{}, false},
		{"nil", nil, time.Time{}, false},
	} {
		got, ok := tfpilot.RetryAt(tc.err)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("%s: RetryAt = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	op, until, ok := tfpilot.LockHolder(fmt.Errorf("%w: %w", tfpilot.ErrLocked, &lock.ConflictError{Operation: "plan", ExpiresAt: at}))
	if !ok || op != "plan" || !until.Equal(at) {
		t.Errorf("LockHolder = %q, %v, %v; want plan, %v, true", op, until, ok, at)
	}
	if _, _, ok := tfpilot.LockHolder(tfpilot.ErrConflict); ok {
		t.Error("LockHolder(ErrConflict) reports a holder")
	}
}
