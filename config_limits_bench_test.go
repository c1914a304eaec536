package tfpilot

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tfpilot/tfpilot/hclblocks"
)

// spread returns a string of n bytes holding c template characters ("$"),
// evenly spaced.
func spread(n, c int) string {
	if c == 0 {
		return strings.Repeat("a", n)
	}
	unit := strings.Repeat("a", n/c-1) + "$"
	return strings.Repeat(unit, c)
}

// worstModule is a catalogue module whose own rendered strings, source
// and version, are at their limits.
func worstModule() Module {
	return Module{
		Name:    "svc",
		Source:  spread(MaxModuleSourceBytes, MaxStringTemplateChars),
		Version: spread(MaxModuleSourceBytes, MaxStringTemplateChars),
		Fields: []Field{
			{Name: "s0", Type: FieldString}, {Name: "s1", Type: FieldString},
			{Name: "s2", Type: FieldString}, {Name: "s3", Type: FieldString},
			{Name: "list", Type: FieldList}, {Name: "obj", Type: FieldObject},
		},
	}
}

// worstConfigs are the configs at the limits that cost the most to render
// and edit, one per shape: the longest strings with the most template
// characters each, the same without them, the most strings, the most keys.
func worstConfigs() []struct {
	name   string
	config map[string]any
} {
	// Four strings of about a quarter of MaxConfigBytes each, with
	// MaxStringTemplateChars each: together MaxConfigTemplateChars.
	long := func(c int) map[string]any {
		n := MaxConfigBytes/4 - 64
		return map[string]any{"s0": spread(n, c), "s1": spread(n, c), "s2": spread(n, c), "s3": spread(n, c)}
	}
	// As many list elements, or keys, as allowed, each as long as the
	// size then allows.
	var many []any
	for range MaxConfigListElements {
		many = append(many, spread(MaxConfigBytes/MaxConfigListElements-8, 0))
	}
	keys := map[string]any{}
	for i := range MaxConfigKeys - 1 {
		keys[fmt.Sprintf("k%04d", i)] = spread(MaxConfigBytes/MaxConfigKeys-16, 0)
	}
	return []struct {
		name   string
		config map[string]any
	}{
		{"long-strings-max-templates", long(MaxStringTemplateChars)},
		{"long-strings-no-templates", long(0)},
		{"most-strings", map[string]any{"list": many}},
		{"most-keys", map[string]any{"obj": keys}},
		{"typical", map[string]any{"s0": "reports", "list": []any{"10.0.1.0/24"}, "obj": map[string]any{"team": "perf"}}},
	}
}

// file60KB returns a 60 KB file of marked regions, with the region
// "req-worst" in the middle holding block.
func file60KB(b *testing.B, block []byte) []byte {
	b.Helper()
	var src []byte
	for i := 0; len(src) < 60_000; i++ {
		id, blk := fmt.Sprintf("req-%d", i), block
		if i != 25 {
			var err error
			blk, err = hclblocks.RenderModule(hclblocks.Module{Name: fmt.Sprintf("m_%d", i), Source: "./m", Inputs: map[string]any{"name": strings.Repeat("x", 1000), "n": i}})
			if err != nil {
				b.Fatal(err)
			}
		} else {
			id = "req-worst"
		}
		var err error
		if src, err = hclblocks.Upsert(src, id, blk); err != nil {
			b.Fatal(err)
		}
	}
	return src
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRenderAndEdit_WorstAcceptedConfig measures what the worst
// configs that ValidateConfig accepts cost to render ([hclblocks.RenderModule])
// and edit into a 60 KB file ([hclblocks.Editor.Upsert] replacing a region
// that holds the same block, so that the old region is parsed too), with
// the catalogue module's own source and version at their limits. Besides
// wall time it reports the process's CPU time per op (cpu-ms/op), which
// shared machines disturb less. Target: every case under 100 ms
// (BENCHMARKS.md, "HCL values").
//
//	go test -run '^$' -bench BenchmarkRenderAndEdit_WorstAcceptedConfig -benchmem -count 6 .
func BenchmarkRenderAndEdit_WorstAcceptedConfig(b *testing.B) {
	c, err := NewCatalog(worstModule())
	if err != nil {
		b.Fatal(err)
	}
	m, _ := c.Module("svc")
	for _, tc := range worstConfigs() {
		out, err := m.ValidateConfig(tc.config)
		if err != nil {
			b.Fatalf("%s: not accepted: %v", tc.name, err)
		}
		mod := hclblocks.Module{Name: "svc_worst", Source: m.Source, Version: m.Version, Inputs: out}
		block, err := hclblocks.RenderModule(mod)
		if err != nil {
			b.Fatal(err)
		}
		src := file60KB(b, block)
		b.Run(tc.name, func(b *testing.B) {
			start := cpuTime()
			for b.Loop() {
				block, err := hclblocks.RenderModule(mod)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := hclblocks.Upsert(src, "req-worst", block); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(len(block)), "block-bytes")
		})
	}
}
