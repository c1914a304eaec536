package lock

import (
	"errors"
	"testing"
	"time"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func held(holder string, expiresIn time.Duration) *Lock {
	return &Lock{Holder: holder, Operation: "apply", AcquiredAt: now.Add(-time.Minute), ExpiresAt: now.Add(expiresIn)}
}

func TestActive_IffPresentAndBeforeExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		l    *Lock
		want bool
	}{
		{"absent", nil, false},
		{"expires later", held("a", time.Second), true},
		{"expires exactly now", held("a", 0), false},
		{"expired", held("a", -time.Second), false},
		{"zero expiry", &Lock{Holder: "a"}, false},
	}
	for _, tt := range tests {
		if got := tt.l.Active(now); got != tt.want {
			t.Errorf("%s: Active = %v, want %v", tt.name, got, tt.want)
		}
		if tt.l.Expired(now) == tt.want {
			t.Errorf("%s: Expired is not !Active", tt.name)
		}
	}
}

func TestAcquire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cur        *Lock
		holder     string
		ttl        time.Duration
		wantExpiry time.Time
		wantErr    error
	}{
		{"no lock", nil, "b", 0, now.Add(DefaultTTL), nil},
		{"expired lock counts as absent", held("a", -time.Second), "b", time.Minute, now.Add(time.Minute), nil},
		{"same holder re-acquire is a no-op", held("a", 30*time.Second), "a", time.Hour, now.Add(30 * time.Second), nil},
		{"other holder conflicts", held("a", 30*time.Second), "b", 0, time.Time{}, ErrConflict},
		{"empty holder", nil, "", 0, time.Time{}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var snapshot Lock
			if tt.cur != nil {
				snapshot = *tt.cur
			}
			got, err := Acquire(tt.cur, tt.holder, "apply", tt.ttl, now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.cur != nil && *tt.cur != snapshot {
				t.Fatal("Acquire mutated its input")
			}
			if err != nil {
				return
			}
			if got.Holder != tt.holder || !got.ExpiresAt.Equal(tt.wantExpiry) {
				t.Fatalf("got %+v, want holder %s expiring %s", got, tt.holder, tt.wantExpiry)
			}
			if got == tt.cur {
				t.Fatal("Acquire returned its input pointer")
			}
		})
	}
}

func TestAcquire_ConflictCarriesHolderOperationExpiry(t *testing.T) {
	t.Parallel()
	_, err := Acquire(held("alice", time.Minute), "bob", "destroy", 0, now)
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("err %v is not a *ConflictError", err)
	}
	if ce.Holder != "alice" || ce.Operation != "apply" || !ce.ExpiresAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("conflict = %+v", ce)
	}
}

func TestRelease_OnlyByHolder(t *testing.T) {
	t.Parallel()
	if l, err := Release(held("a", time.Minute), "a", now); l != nil || err != nil {
		t.Fatalf("holder release = %v, %v", l, err)
	}
	l, err := Release(held("a", time.Minute), "b", now)
	if !errors.Is(err, ErrConflict) || l == nil || l.Holder != "a" {
		t.Fatalf("other release = %v, %v; want lock kept and conflict", l, err)
	}
	if l, err := Release(held("a", -time.Second), "b", now); l != nil || err != nil {
		t.Fatalf("release of expired lock = %v, %v; want cleared", l, err)
	}
	if l, err := Release(nil, "b", now); l != nil || err != nil {
		t.Fatalf("release of nothing = %v, %v", l, err)
	}
}

func TestRenew_ExtendsOnlyAnActiveLockOfTheHolder(t *testing.T) {
	t.Parallel()
	l, err := Renew(held("a", 10*time.Second), "a", time.Minute, now)
	if err != nil || !l.ExpiresAt.Equal(now.Add(time.Minute)) || !l.AcquiredAt.Equal(now.Add(-time.Minute)) {
		t.Fatalf("renew = %+v, %v", l, err)
	}
	if _, err := Renew(held("a", 10*time.Second), "b", time.Minute, now); !errors.Is(err, ErrNotHeld) || !errors.Is(err, ErrConflict) {
		t.Fatalf("renew by other = %v", err)
	}
	if _, err := Renew(held("a", -time.Second), "a", time.Minute, now); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("renew of expired = %v", err)
	}
	if _, err := Renew(nil, "a", time.Minute, now); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("renew of nothing = %v", err)
	}
}
