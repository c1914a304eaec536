package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tfpilot/tfpilot/migrate"
	"github.com/tfpilot/tfpilot/store"
)

// Exit statuses.
const (
	exitOK       = 0
	exitFindings = 1
	exitError    = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  tfpilot-migrate audit --store URL [--now RFC3339]
  tfpilot-migrate plan  --from URL [--json]
  tfpilot-migrate reindex --store s3://bucket[/prefix]
  tfpilot-migrate copy  --from URL --to URL [--dry-run] [--kinds k1,k2] [--concurrency N] [--progress-every N] [--report FILE]
  store flags: [--s3-endpoint URL] [--s3-path-style] [--s3-concurrency N]

store URLs: s3://bucket[/prefix], postgres://user@host:port/db, memory:
`

// run is the command, with its streams as arguments so that tests can
// drive it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	switch args[0] {
	case "audit":
		return runAudit(ctx, args[1:], stdout, stderr)
	case "copy":
		return runCopy(ctx, args[1:], stdout, stderr)
	case "plan":
		return runPlan(ctx, args[1:], stdout, stderr)
	case "reindex":
		return runReindex(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "tfpilot-migrate: unknown command %q\n%s", args[0], usage)
	return exitError
}

// storeFlags are the flags that say how to reach stores.
type storeFlags struct {
	s3Endpoint    string
	s3PathStyle   bool
	s3Concurrency int
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.s3Endpoint, "s3-endpoint", "", "S3 endpoint URL (default: AWS_ENDPOINT_URL_S3, else AWS's)")
	fs.BoolVar(&f.s3PathStyle, "s3-path-style", false, "address S3 buckets by path (for local servers such as versitygw or MinIO)")
	fs.IntVar(&f.s3Concurrency, "s3-concurrency", 16, "S3 objects read at once")
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tfpilot-migrate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseArgs parses a subcommand's flags into fs and reports whether the
// command goes on; when it does not, code is the exit code: 0 after -h
// or --help (the flags go to stdout), 1 after a bad flag (to fs's
// output, stderr).
func parseArgs(fs *flag.FlagSet, args []string, stdout io.Writer) (code int, ok bool) {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if err == nil {
		fs.SetOutput(out)
		return exitOK, true
	}
	code = exitError
	if errors.Is(err, flag.ErrHelp) {
		out, code = stdout, exitOK
	} else {
		fmt.Fprintln(out, err)
	}
	fs.SetOutput(out)
	fmt.Fprintf(out, "Usage of %s:\n", fs.Name())
	fs.PrintDefaults()
	return code, false
}

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("audit", stderr)
	var sf storeFlags
	sf.register(fs)
	storeURL := fs.String("store", "", "the store to audit (URL)")
	nowFlag := fs.String("now", "", "judge locks at this time (RFC 3339); default: now")
	if code, ok := parseArgs(fs, args, stdout); !ok {
		return code
	}
	if *storeURL == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, "tfpilot-migrate audit: --store is required and takes no arguments\n")
		return exitError
	}
	var opts migrate.AuditOptions
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339Nano, *nowFlag)
		if err != nil {
			fmt.Fprintf(stderr, "tfpilot-migrate audit: --now: %v\n", err)
			return exitError
		}
		opts.Now = t
	}
	s, closeStore, err := openStore(ctx, *storeURL, &sf, false)
	if err != nil {
		fmt.Fprintf(stderr, "tfpilot-migrate audit: %v\n", err)
		return exitError
	}
	defer closeStore()
	start := time.Now()
	rep, err := migrate.Audit(ctx, s, &opts)
	if err != nil {
		fmt.Fprintf(stderr, "tfpilot-migrate audit: %v\n", err)
		return exitError
	}
	for _, v := range rep.Violations {
		fmt.Fprintln(stdout, v)
	}
	fmt.Fprintf(stdout, "audited %d requests and %d archived at %s in %s\n",
		rep.Requests, rep.ArchivedRequests, rep.Now.UTC().Format(time.RFC3339), time.Since(start).Round(time.Millisecond))
	if rep.IndexesExported {
		fmt.Fprintf(stdout, "checked back %d run index and %d PR index entries\n", rep.RunIndexEntries, rep.PRIndexEntries)
	} else {
		fmt.Fprintln(stdout, "index entries not checked back: the store cannot export them")
	}
	if rep.OK() {
		fmt.Fprintln(stdout, "no violations")
		return exitOK
	}
	counts := map[migrate.Invariant]int{}
	for _, v := range rep.Violations {
		counts[v.Invariant]++
	}
	var parts []string
	for inv, n := range counts {
		parts = append(parts, fmt.Sprintf("%s %d", inv, n))
	}
	slices.Sort(parts)
	fmt.Fprintf(stdout, "%d violations: %s\n", len(rep.Violations), strings.Join(parts, ", "))
	return exitFindings
}

func runCopy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("copy", stderr)
	var sf storeFlags
	sf.register(fs)
	from := fs.String("from", "", "the source store (URL)")
	to := fs.String("to", "", "the target store (URL)")
	dryRun := fs.Bool("dry-run", false, "read both stores and report what would be copied, writing nothing")
	kinds := fs.String("kinds", "", "comma-separated kinds to copy (default all: "+kindList()+")")
	concurrency := fs.Int("concurrency", 8, "items imported at once")
	every := fs.Int("progress-every", 1000, "report progress on stderr every N items")
	report := fs.String("report", "", "write every object that was not plainly copied (quarantined, skipped, read leniently) to FILE as JSON")
	if code, ok := parseArgs(fs, args, stdout); !ok {
		return code
	}
	if *from == "" || *to == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, "tfpilot-migrate copy: --from and --to are required and it takes no arguments\n")
		return exitError
	}
	opts := migrate.CopyOptions{DryRun: *dryRun, Concurrency: *concurrency, ProgressEvery: *every}
	if *kinds != "" {
		for _, k := range strings.Split(*kinds, ",") {
			kind := store.ItemKind(strings.TrimSpace(k))
			if !kind.Valid() {
				fmt.Fprintf(stderr, "tfpilot-migrate copy: --kinds: unknown kind %q (kinds: %s)\n", kind, kindList())
				return exitError
			}
			opts.Kinds = append(opts.Kinds, kind)
		}
	}
	src, closeSrc, err := openStore(ctx, *from, &sf, false)
	if err != nil {
		fmt.Fprintf(stderr, "tfpilot-migrate copy: source: %v\n", err)
		return exitError
	}
	defer closeSrc()
	dst, closeDst, err := openStore(ctx, *to, &sf, !*dryRun)
	if err != nil {
		fmt.Fprintf(stderr, "tfpilot-migrate copy: target: %v\n", err)
		return exitError
	}
	defer closeDst()
	if *dryRun {
		var code int
		if dst, code = dryRunTarget(ctx, dst, stderr); code != exitOK {
			return code
		}
	}

	start := time.Now()
	opts.Progress = func(p migrate.Progress) {
		state := "…"
		if p.Done {
			state = "done"
		}
		fmt.Fprintf(stderr, "%-16s %s read %d, written %d, unchanged %d, conflicts %d (%s)\n",
			p.Kind, state, p.Read, p.Written, p.Unchanged, p.Conflicts, time.Since(start).Round(time.Millisecond))
	}
	res, err := migrate.Copy(ctx, src, dst, &opts)
	elapsed := time.Since(start)
	printResult(stdout, res, elapsed, err)
	if *report != "" {
		if werr := writeReport(*report, res); werr != nil {
			fmt.Fprintf(stderr, "tfpilot-migrate copy: --report: %v\n", werr)
			return exitError
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "tfpilot-migrate copy: %v\n", err)
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr, "tfpilot-migrate copy: interrupted; run the same command again to finish the copy")
		}
		return exitError
	}
	if !res.OK() {
		return exitFindings
	}
	return exitOK
}

func kindList() string {
	var s []string
	for _, k := range store.ItemKinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ",")
}

// printResult writes the per-kind table, the conflicts, the fates of
// the objects not plainly copied and a verdict; a copy that failed
// (err) gets no verdict of success.
func printResult(w io.Writer, res migrate.Result, elapsed time.Duration, err error) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	verb := "WRITTEN"
	if res.DryRun {
		verb = "TO WRITE"
	}
	fmt.Fprintf(tw, "KIND\tREAD\t%s\tUNCHANGED\tCONFLICTS\tSOURCE\tTARGET\tSOURCE SUM\tTARGET SUM\t\n", verb)
	for _, k := range res.Kinds {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t\n", k.Kind, k.Read, k.Written, k.Unchanged, k.Conflicts,
			k.Source.Count, k.Target.Count, short(k.Source.Checksum), short(k.Target.Checksum))
	}
	tw.Flush()
	for _, c := range res.Conflicts {
		fmt.Fprintf(w, "conflict: %s %s: %s\n", c.Kind, c.Key, c.Detail)
	}
	for _, c := range res.Mismatches {
		fmt.Fprintf(w, "mismatch: %s %s: %s\n", c.Kind, c.Key, c.Detail)
	}
	total := res.Total()
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(total.Read) / s
	}
	fmt.Fprintf(w, "%d items read, %d written, %d unchanged, %d conflicts in %s (%.0f items/s)\n",
		total.Read, total.Written, total.Unchanged, total.Conflicts, elapsed.Round(time.Millisecond), rate)
	var mismatched []string
	for _, k := range res.Kinds {
		if !k.Match() {
			mismatched = append(mismatched, string(k.Kind))
		}
	}
	printFates(w, res)
	switch {
	case err != nil && res.DryRun:
		fmt.Fprintln(w, "dry run: INCOMPLETE: it stopped on an error (see stderr); nothing was checked past it")
	case err != nil:
		fmt.Fprintln(w, "NOT OK: the copy stopped on an error (see stderr); run the same command again to finish it")
	case res.DryRun && len(res.Conflicts) == 0 && len(res.Quarantined) == 0:
		fmt.Fprintln(w, "dry run: nothing written; no conflicts")
	case res.DryRun:
		fmt.Fprintf(w, "dry run: nothing written; %d conflicts, %d quarantined\n", len(res.Conflicts), len(res.Quarantined))
	case res.OK():
		fmt.Fprintln(w, "OK: source and target match for every kind")
	default:
		fmt.Fprintf(w, "NOT OK: %d conflicts, %d quarantined; counts or checksums differ for: %s\n",
			len(res.Conflicts), len(res.Quarantined), strings.Join(mismatched, ", "))
	}
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}
