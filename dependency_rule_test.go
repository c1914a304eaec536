package tfpilot_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

const modulePath = "github.com/tfpilot/tfpilot"

// listedPackage is what `go list -json` says of one package.
type listedPackage struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// ourImports lists every package of the module, with the packages of
// ours each one imports, tests included, relative to the module root
// ("." is the root package).
func ourImports(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	rel := func(p string) (string, bool) {
		if p == modulePath {
			return ".", true
		}
		r, ok := strings.CutPrefix(p, modulePath+"/")
		return r, ok
	}
	graph := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		from, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		seen := map[string]bool{}
		for _, imp := range slices.Concat(p.Imports, p.TestImports, p.XTestImports) {
			if to, ok := rel(imp); ok && to != from && !seen[to] {
				seen[to] = true
				graph[from] = append(graph[from], to)
			}
		}
		sort.Strings(graph[from])
		if graph[from] == nil {
			graph[from] = []string{}
		}
	}
	return graph
}

// TestDependencyRule_ArrowsPointDownOnly enforces the dependency rule of
// the design (tests included), so that the package structure cannot rot
// silently:
//
//   - the pure leaves (lifecycle, runs, lock, hclblocks, and tfoutput,
//     the Terraform-output parser runs records summaries from) import no
//     package of ours but other pure leaves;
//   - githubx and webhook import no root types (they define the small
//     interfaces they need), nor any backend;
//   - the store backends (memstore, pgstore, s3store) import neither
//     githubx, webhook nor hclblocks;
//   - nothing under store/ imports the root (the engine), tests
//     included, but store/storetest/enginetest, whose job is to drive
//     the engine over a store;
//   - the store decorators (changefeed) reach store names through
//     package store, not the root's aliases, tests included;
//   - nothing outside an example imports it (examples/...), and the
//     generated API (gen/...) imports nothing of ours but itself.
func TestDependencyRule_ArrowsPointDownOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	graph := ourImports(t)
	for _, must := range []string{".", "runs", "lifecycle", "githubx", "webhook", "store/memstore", "gen/tfpilot/v1"} {
		if _, ok := graph[must]; !ok {
			t.Fatalf("go list did not list %q: the rule would check nothing", must)
		}
	}
	pureLeaves := []string{"lifecycle", "runs", "lock", "hclblocks", "tfoutput"}
	backends := []string{"store/memstore", "store/pgstore", "store/s3store"}
	under := func(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	var problems []string
	bad := func(from, to, rule string) {
		problems = append(problems, fmt.Sprintf("%s imports %s: %s", from, to, rule))
	}
	for from, tos := range graph {
		for _, to := range tos {
			switch {
			case slices.Contains(pureLeaves, from) && !slices.Contains(pureLeaves, to):
				bad(from, to, "a pure leaf imports only other pure leaves")
			case (under(from, "githubx") || under(from, "webhook")) && (to == "." || under(to, "store")):
				bad(from, to, "githubx and webhook import no root types and no backend")
			case slices.Contains(backends, from) && (under(to, "githubx") || under(to, "webhook") || to == "hclblocks"):
				bad(from, to, "a backend does not import githubx, webhook or hclblocks")
			case under(from, "store") && from != "store/storetest/enginetest" && to == ".":
				bad(from, to, "the store contract, its backends and storetest import package store, not the engine")
			case slices.Contains(storeDecorators, from) && to == ".":
				bad(from, to, "a store decorator imports package store, not the engine")
			case under(to, "examples") && !under(from, exampleOf(to)):
				bad(from, to, "nothing imports examples/")
			case under(from, "gen") && !under(to, "gen"):
				bad(from, to, "the generated API imports nothing of ours")
			}
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Error(p)
	}
}

// exampleOf returns the example directory a package under examples/
// belongs to ("examples/connect-server" for its server package).
func exampleOf(p string) string {
	parts := strings.SplitN(p, "/", 3)
	if len(parts) < 2 {
		return p
	}
	return parts[0] + "/" + parts[1]
}

// contractPackages are the packages a backend author builds on: the
// store contract, the backends, the conformance suite and migrate.
var contractPackages = []string{"store", "store/internal/listquery", "store/memstore", "store/pgstore", "store/s3store", "store/storetest", "migrate"}

// storeDecorators wrap any store.Store the engine is given, and so,
// like the contract, compile without the engine.
var storeDecorators = []string{"changefeed"}

// engineOnly are the packages (ours and third parties') that only the
// engine needs: GitHub, webhooks, HCL editing.
var engineOnly = []string{
	modulePath, // the root: the engine
	modulePath + "/githubx",
	modulePath + "/webhook",
	modulePath + "/hclblocks",
	"github.com/google/go-github",
	"github.com/hashicorp/hcl",
	"github.com/zclconf/go-cty",
}

// TestDependencyRule_ContractCompilesWithoutTheEngine enforces the split
// of the contract from the engine (DESIGN.md, package map; issue 21):
// package store, the backends, storetest, migrate and the store
// decorators (changefeed) compile without
// the engine and what it pulls in — githubx, webhook, hclblocks,
// go-github, hclwrite, cty — not even transitively, so a backend author
// (or a test suite using memstore) builds only what a store needs.
func TestDependencyRule_ContractCompilesWithoutTheEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	for _, pkg := range slices.Concat(contractPackages, storeDecorators) {
		cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./"+pkg)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps ./%s: %v\n%s", pkg, err, stderr.String())
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, modulePath+"/"+pkg) {
			t.Fatalf("go list -deps ./%s did not list the package itself: the rule would check nothing", pkg)
		}
		var found []string
		for _, dep := range deps {
			for _, banned := range engineOnly {
				if dep == banned || banned != modulePath && strings.HasPrefix(dep, banned+"/") {
					found = append(found, dep)
				}
			}
		}
		if len(found) > 0 {
			t.Errorf("%s compiles in %d packages only the engine needs, e.g. %s: the store contract, backends, storetest, migrate and store decorators must not need them", pkg, len(found), strings.Join(found[:min(len(found), 4)], ", "))
		}
	}
}
