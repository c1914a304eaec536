package main

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// opener opens the store a URL names. forWrite is true when the command
// will write to it (a PostgreSQL target then gets its schema). close
// releases what the store holds.
type opener func(ctx context.Context, u *url.URL, f *storeFlags, forWrite bool) (s tfpilot.Store, close func(), err error)

// openers maps URL schemes to the backends that open them.
var openers = map[string]opener{
	"memory": openMemory,
}

// memoryStores holds named in-memory stores ("memory:name"), so that a
// test can hand the command a filled store. "memory:" alone is a new,
// empty store.
var memoryStores = map[string]tfpilot.Store{}

func openMemory(_ context.Context, u *url.URL, _ *storeFlags, _ bool) (tfpilot.Store, func(), error) {
	name := u.Opaque + u.Host + u.Path
	if name == "" {
		return memstore.New(nil), func() {}, nil
	}
	s, ok := memoryStores[name]
	if !ok {
		return nil, nil, fmt.Errorf("no in-memory store %q", name)
	}
	return s, func() {}, nil
}

// openStore opens the store raw names.
func openStore(ctx context.Context, raw string, f *storeFlags, forWrite bool) (tfpilot.Store, func(), error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("store URL %q: %w", raw, err)
	}
	open, ok := openers[strings.ToLower(u.Scheme)]
	if !ok {
		var schemes []string
		for s := range openers {
			schemes = append(schemes, s+":")
		}
		slices.Sort(schemes)
		return nil, nil, fmt.Errorf("store URL %q: unknown scheme %q (known: %s)", raw, u.Scheme, strings.Join(schemes, ", "))
	}
	return open(ctx, u, f, forWrite)
}
