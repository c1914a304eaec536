package main

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/tfpilot/tfpilot/githubx"
)

// runCheck is --check: it verifies, for every repository the
// configuration's targets name, that the GitHub credentials can read it,
// that its base branches exist, and that its workflows exist and accept
// tfpilot's dispatch (githubx.CheckSetup), prints each problem on its own
// line, and fails when there is any. It starts no server.
func runCheck(ctx context.Context, fc fileConfig, gh *githubx.Client, stdout io.Writer) error {
	type key struct{ owner, repo, base string }
	seen := map[key]bool{}
	var keys []key
	for _, t := range fc.Targets {
		k := key{t.Owner, t.Repo, t.Base}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j])
	})
	var n int
	for _, k := range keys {
		problems, err := gh.CheckSetup(ctx, githubx.Repo{Owner: k.owner, Name: k.repo}, k.base)
		if err != nil {
			return fmt.Errorf("check %s/%s: %w", k.owner, k.repo, err)
		}
		for _, p := range problems {
			fmt.Fprintf(stdout, "problem: %s\n", p)
		}
		if len(problems) == 0 {
			fmt.Fprintf(stdout, "ok: %s/%s is ready for tfpilot\n", k.owner, k.repo)
		}
		n += len(problems)
	}
	if n > 0 {
		return fmt.Errorf("--check found %d problem(s)", n)
	}
	return nil
}
