package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/migrate"
	"github.com/tfpilot/tfpilot/store"
	"github.com/tfpilot/tfpilot/store/memstore"
)

// printFates lists the objects a copy did not plainly copy: quarantined
// (with field and problem), skipped (with the reason) and read
// leniently.
func printFates(w io.Writer, res migrate.Result) {
	for _, f := range res.Quarantined {
		fmt.Fprintln(w, fateLine(f))
	}
	for _, f := range res.Skipped {
		fmt.Fprintln(w, fateLine(f))
	}
	for _, f := range res.Lenient {
		fmt.Fprintln(w, fateLine(f))
	}
	if n := len(res.Quarantined) + len(res.Skipped) + len(res.Lenient); n > 0 {
		fmt.Fprintf(w, "%d quarantined (not copied), %d skipped, %d copied after lenient reading\n",
			len(res.Quarantined), len(res.Skipped), len(res.Lenient))
	}
}

// fateLine is one object's fate for people: "quarantine KEY: field: why".
func fateLine(f store.ObjectFate) string {
	line := fmt.Sprintf("%-10s %s", f.Fate, f.Object)
	if f.Item != "" && f.Fate == store.FateCopy {
		line += fmt.Sprintf(" -> %s %s", f.Kind, f.Item)
	}
	why := f.Reason
	if f.Field != "" {
		why = f.Field + ": " + why
	}
	if why != "" {
		line += ": " + why
	}
	return line
}

// copyReport is the --report file: every object a copy did not plainly
// copy. It is where quarantined objects are documented.
type copyReport struct {
	Quarantined []store.ObjectFate `json:"quarantined"`
	Skipped     []store.ObjectFate `json:"skipped"`
	Lenient     []store.ObjectFate `json:"lenient"`
	Conflicts   []migrate.Conflict `json:"conflicts"`
}

func writeReport(path string, res migrate.Result) error {
	b, err := json.MarshalIndent(copyReport{res.Quarantined, res.Skipped, res.Lenient, res.Conflicts}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// runPlan is the inventory: one pass over the source that names the
// fate of every object, kind by kind and then those outside every
// kind's place, without a target. Exit 1 when anything is quarantined.
func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("plan", stderr)
	var sf storeFlags
	sf.register(fs)
	from := fs.String("from", "", "the source store (URL)")
	asJSON := fs.Bool("json", false, "one JSON object per line instead of text")
	if code, ok := parseArgs(fs, args, stdout); !ok {
		return code
	}
	if *from == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, "tfpilot-migrate plan: --from is required and it takes no arguments\n")
		return exitError
	}
	src, closeSrc, err := openStore(ctx, *from, &sf, false)
	if err != nil {
		fmt.Fprintf(stderr, "tfpilot-migrate plan: source: %v\n", err)
		return exitError
	}
	defer closeSrc()
	fe, ok := src.(store.FateExporter)
	if !ok {
		fmt.Fprintf(stderr, "tfpilot-migrate plan: %s holds only what it wrote itself (%T names no fates): every item is copied\n", *from, src)
		return exitOK
	}
	counts := map[store.Fate]int{}
	emit := func(f store.ObjectFate) error {
		counts[f.Fate]++
		if *asJSON {
			b, err := json.Marshal(f)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "%s\n", b)
			return err
		}
		_, err := fmt.Fprintln(stdout, fateLine(f))
		return err
	}
	for _, kind := range store.ItemKinds() {
		if err := fe.ExportFates(ctx, kind, func(store.Item) error { return nil }, emit); err != nil {
			fmt.Fprintf(stderr, "tfpilot-migrate plan: %v\n", err)
			return exitError
		}
	}
	if err := fe.OtherObjects(ctx, emit); err != nil {
		fmt.Fprintf(stderr, "tfpilot-migrate plan: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stderr, "%d objects: %d copy, %d skip, %d quarantine\n",
		counts[store.FateCopy]+counts[store.FateSkip]+counts[store.FateQuarantine],
		counts[store.FateCopy], counts[store.FateSkip], counts[store.FateQuarantine])
	if counts[store.FateQuarantine] > 0 {
		return exitFindings
	}
	return exitOK
}

// schemaReporter is a store that can say which schema migrations it
// lacks (pgstore).
type schemaReporter interface {
	PendingMigrations(ctx context.Context) ([]string, error)
}

// dryRunTarget returns the store a dry run compares with: dst itself;
// an empty in-memory store when dst is a database without tfpilot's
// schema (which holds nothing, so a copy would write everything); and
// exit 2 when dst's schema is behind, since the dry run could not read
// it and must not claim it checked anything.
func dryRunTarget(ctx context.Context, dst tfpilot.Store, stderr io.Writer) (tfpilot.Store, int) {
	sr, ok := dst.(schemaReporter)
	if !ok {
		return dst, exitOK
	}
	pending, err := sr.PendingMigrations(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "tfpilot-migrate copy: target: %v\n", err)
		return nil, exitError
	}
	switch {
	case len(pending) == 0:
		return dst, exitOK
	case strings.HasPrefix(pending[0], "0001_"):
		fmt.Fprintln(stderr, "tfpilot-migrate copy: the target database has no tfpilot schema yet: the dry run compares with an empty store, which is what a copy into it finds")
		return memstore.New(nil), exitOK
	}
	fmt.Fprintf(stderr, "tfpilot-migrate copy: the target's schema is behind (pending: %s): a dry run cannot read it; a copy (without --dry-run) brings it up to date first\n",
		strings.Join(pending, ", "))
	return nil, exitError
}
