package migrate_test

import (
	"bytes"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// s3Calls counts the HTTP requests an S3 client sends, by kind, and
// the TCP connections it opens: what a benchmark reports per migrated
// request.
type s3Calls struct {
	base                               s3.HTTPClient
	get, list, head, put, other, dials atomic.Int64
}

// Do implements s3.HTTPClient.
func (c *s3Calls) Do(r *http.Request) (*http.Response, error) {
	switch {
	case r.Method == http.MethodGet && r.URL.Query().Has("list-type"):
		c.list.Add(1)
	case r.Method == http.MethodGet:
		c.get.Add(1)
	case r.Method == http.MethodHead:
		c.head.Add(1)
	case r.Method == http.MethodPut:
		c.put.Add(1)
	default:
		c.other.Add(1)
	}
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		if !i.Reused {
			c.dials.Add(1)
		}
	}}
	return c.base.Do(r.WithContext(httptrace.WithClientTrace(r.Context(), trace)))
}

// counting returns an s3.Options function that makes a client count its
// requests into c.
func (c *s3Calls) counting() func(*s3.Options) {
	return func(o *s3.Options) {
		c.base = o.HTTPClient
		o.HTTPClient = c
	}
}

func (c *s3Calls) reset() {
	for _, n := range []*atomic.Int64{&c.get, &c.list, &c.head, &c.put, &c.other, &c.dials} {
		n.Store(0)
	}
}

// report reports the calls per migrated request.
func (c *s3Calls) report(b *testing.B, requests int) {
	per := func(n *atomic.Int64) float64 { return float64(n.Load()) / float64(requests) }
	b.ReportMetric(per(&c.get), "GET/req")
	b.ReportMetric(per(&c.list), "LIST/req")
	b.ReportMetric(per(&c.head), "HEAD/req")
	b.ReportMetric(per(&c.put)+per(&c.other), "other/req")
	b.ReportMetric(float64(c.dials.Load()), "dials")
}

// cpuClock is the CPU time, in clock ticks, of the test process and of
// the S3 and PostgreSQL servers the benchmark talks to, read from
// /proc; zero where it cannot be read (not Linux, another user's
// process).
type cpuClock struct{ self, s3, pg float64 }

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// readCPU reads the CPU seconds so far of this process, of the
// versitygw listening on s3Endpoint and of the PostgreSQL server (with
// its backends) on the port of dsn.
func readCPU(s3Endpoint, dsn string) cpuClock {
	var c cpuClock
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		c.self = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	}
	s3Addr := strings.TrimPrefix(s3Endpoint, "http://")
	pgPort := ""
	if u, err := url.Parse(dsn); err == nil {
		pgPort = u.Port()
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var postmaster string
	for _, d := range dirs {
		cmd, err := os.ReadFile(d + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(bytes.TrimRight(cmd, "\x00")), "\x00")
		switch {
		case strings.HasSuffix(args[0], "versitygw") || strings.Contains(filepath.Base(args[0]), "versitygw-"):
			if s3Addr != "" && strings.Contains(string(cmd), s3Addr) {
				c.s3 += procCPU(d, true)
			}
		case strings.HasSuffix(args[0], "/postgres") && pgPort != "" && hasFlag(args, "-p", pgPort):
			postmaster = filepath.Base(d)
			c.pg += procCPU(d, true)
		}
	}
	if postmaster != "" {
		for _, d := range dirs {
			if ppid(d) == postmaster {
				c.pg += procCPU(d, false)
			}
		}
	}
	return c
}

// hasFlag reports whether args hold flag followed by value.
func hasFlag(args []string, flag, value string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag && args[i+1] == value {
			return true
		}
	}
	return false
}

// statFields returns the fields of /proc/<pid>/stat after the command
// name (field 3 onwards).
func statFields(dir string) []string {
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

func ppid(dir string) string {
	f := statFields(dir)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// procCPU is the user+system CPU seconds of the process in dir, and of
// its reaped children when children is set.
func procCPU(dir string, children bool) float64 {
	f := statFields(dir)
	if len(f) < 15 {
		return 0
	}
	n := 2
	if children {
		n = 4
	}
	var ticks float64
	for _, s := range f[11 : 11+n] { // utime, stime, cutime, cstime
		v, _ := strconv.ParseFloat(s, 64)
		ticks += v
	}
	return ticks / clockTicks
}

// reportCPU reports the CPU seconds each process spent between from and
// to.
func reportCPU(b *testing.B, from, to cpuClock) {
	b.ReportMetric(to.self-from.self, "cpu-test-s")
	b.ReportMetric(to.s3-from.s3, "cpu-s3-s")
	b.ReportMetric(to.pg-from.pg, "cpu-pg-s")
}

// profileCopy starts a CPU profile into the file TFPILOT_BENCH_CPUPROFILE
// names, if set, and returns the function that stops it: a profile of
// the timed copy alone, without the bucket's setup.
func profileCopy(b *testing.B) func() {
	name := os.Getenv("TFPILOT_BENCH_CPUPROFILE")
	if name == "" {
		return func() {}
	}
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
