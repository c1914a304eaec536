package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"runtime"
	"sync"

	"github.com/tfpilot/tfpilot/store"
)

// Summary is the count and checksum of a set of items of one kind. Two
// sets with equal Summaries hold the same items (up to a SHA-256
// collision), whatever order they were read in.
type Summary struct {
	Count int64
	// Checksum is the hex sum, lane by lane modulo 2⁶⁴, of the SHA-256
	// of each item's kind and canonical JSON
	// ([store.Item.Canonical]). Unlike XOR, a sum tells one copy of an
	// item from three.
	Checksum string
}

// summer accumulates a [Summary].
type summer struct {
	count int64
	lanes [4]uint64
}

func (s *summer) add(kind store.ItemKind, canonical []byte) {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{'\n'})
	h.Write(canonical)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	for i := range s.lanes {
		s.lanes[i] += binary.BigEndian.Uint64(sum[8*i:])
	}
	s.count++
}

// merge adds o's items to s.
func (s *summer) merge(o *summer) {
	for i := range s.lanes {
		s.lanes[i] += o.lanes[i]
	}
	s.count += o.count
}

func (s *summer) summary() Summary {
	var b [32]byte
	for i, l := range s.lanes {
		binary.BigEndian.PutUint64(b[8*i:], l)
	}
	return Summary{Count: s.count, Checksum: hex.EncodeToString(b[:])}
}

// Summarize returns the [Summary] of every item of kind that exp holds.
// The items' canonical forms are computed and hashed on as many
// goroutines as GOMAXPROCS, while the export goes on.
func Summarize(ctx context.Context, exp store.Exporter, kind store.ItemKind) (Summary, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	items := make(chan store.Item, 256)
	var (
		mu    sync.Mutex
		total summer
		wg    sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			var s summer
			for it := range items {
				b, err := it.Canonical()
				if err != nil {
					cancel(err)
					continue
				}
				s.add(kind, b)
			}
			mu.Lock()
			total.merge(&s)
			mu.Unlock()
		})
	}
	err := exp.Export(ctx, kind, func(it store.Item) error {
		select {
		case items <- it:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	close(items)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil {
		err = cause // a canonical form failed (or ctx ended): say which
	}
	if err != nil {
		return Summary{}, err
	}
	return total.summary(), nil
}
