package s3store

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/lifecycle"
)

// TestIndexKey_AscendingKeysAreNewestFirst checks the list index's one
// property: sorting keys ascending (as ListObjectsV2 returns them) gives
// ReceivedAt descending, then ID descending, including ids that are
// prefixes of each other and equal instants.
func TestIndexKey_AscendingKeysAreNewestFirst(t *testing.T) {
	t.Parallel()
	s := &Store{prefix: "p/"}
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	var entries []indexEntry
	for i := 0; i < 2000; i++ {
		n := 1 + rng.IntN(6)
		var id strings.Builder
		id.WriteByte("abcXYZ019"[rng.IntN(9)])
		for j := 1; j < n; j++ {
			id.WriteByte(idAlphabet[rng.IntN(len(idAlphabet))])
		}
		at := base.Add(time.Duration(rng.IntN(4)) * time.Nanosecond) // many ties
		st := lifecycle.Statuses()[rng.IntN(len(lifecycle.Statuses()))]
		entries = append(entries, indexEntry{nanos: receivedNanos(at), id: id.String(), project: "p", environment: "dev", status: st})
	}
	entries = append(entries, indexEntry{nanos: receivedNanos(time.Time{}), id: "legacy", status: lifecycle.Applied})
	slices.SortFunc(entries, func(a, b indexEntry) int {
		if a.nanos != b.nanos {
			return -cmpInt(a.nanos, b.nanos)
		}
		return -strings.Compare(a.id, b.id)
	})
	entries = slices.CompactFunc(entries, func(a, b indexEntry) bool { return a.id == b.id && a.nanos == b.nanos })
	keys := make([]string, len(entries))
	for i, e := range entries {
		k, ok := s.indexKey(e)
		if !ok {
			t.Fatalf("no key for %+v", e)
		}
		back, ok := s.parseIndexKey(k)
		if !ok || back != e {
			t.Fatalf("key %q parses to %+v, want %+v", k, back, e)
		}
		keys[i] = k
	}
	if !slices.IsSorted(keys) {
		for i := 1; i < len(keys); i++ {
			if keys[i-1] > keys[i] {
				t.Fatalf("entry %+v sorts after %+v:\n%s\n%s", entries[i], entries[i-1], keys[i], keys[i-1])
			}
		}
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestIndexKey_RefusesIDsOutsideTheAlphabetAndUnknownStatuses(t *testing.T) {
	t.Parallel()
	s := &Store{}
	for _, id := range []string{"", "a/b", "a:b", "é"} {
		if k, ok := s.indexKey(indexEntry{id: id, status: lifecycle.Planning}); ok {
			t.Errorf("id %q got key %q", id, k)
		}
	}
	if k, ok := s.indexKey(indexEntry{id: "a", status: "bogus"}); ok {
		t.Errorf("unknown status got key %q", k)
	}
	for _, k := range []string{"tfpilot/list/x", "tfpilot/list/0000000000000000001_abc/p.e", "tfpilot/list/0000000000000000001_abc~/p.e.sbogus", "requests/a.json"} {
		if e, ok := s.parseIndexKey(k); ok {
			t.Errorf("key %q parsed to %+v", k, e)
		}
	}
}
