package githubtest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// The git model of a fake repository: content-addressed objects (blobs,
// flat trees, commits), branches, and the ancestry and three-way merge
// the pull-request handlers use. Callers hold f.mu.

type object struct {
	kind   string            // "blob", "tree", "commit"
	data   []byte            // blob
	tree   map[string]string // tree: path → blob sha (flat, full paths)
	commit *commit
}

type commit struct {
	tree    string
	parents []string
	message string
	author  string
	at      time.Time
}

type repo struct {
	id            int64
	owner, name   string
	defaultBranch string
	created       time.Time
	pushed        time.Time
	objects       map[string]*object
	refs          map[string]string // branch → commit sha
	pulls         map[int]*pull
	nextNumber    int
	workflows     []*workflow
	runs          map[int64]*run
	jobs          map[int64]*job
}

func repoKey(owner, name string) string { return strings.ToLower(owner + "/" + name) }

func hashObject(kind string, payload []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", kind, len(payload))
	h.Write(payload)
	return hex.EncodeToString(h.Sum(nil))
}

func (r *repo) putBlob(data []byte) string {
	sha := hashObject("blob", data)
	if _, ok := r.objects[sha]; !ok {
		r.objects[sha] = &object{kind: "blob", data: append([]byte(nil), data...)}
	}
	return sha
}

func (r *repo) putTree(entries map[string]string) string {
	paths := make([]string, 0, len(entries))
	for p := range entries {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var b strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&b, "100644 %s\x00%s\n", p, entries[p])
	}
	sha := hashObject("tree", []byte(b.String()))
	if _, ok := r.objects[sha]; !ok {
		cp := make(map[string]string, len(entries))
		for k, v := range entries {
			cp[k] = v
		}
		r.objects[sha] = &object{kind: "tree", tree: cp}
	}
	return sha
}

func (r *repo) putCommit(c *commit) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tree %s\n", c.tree)
	for _, p := range c.parents {
		fmt.Fprintf(&b, "parent %s\n", p)
	}
	fmt.Fprintf(&b, "author %s %d\n\n%s", c.author, c.at.UnixNano(), c.message)
	sha := hashObject("commit", []byte(b.String()))
	if _, ok := r.objects[sha]; !ok {
		r.objects[sha] = &object{kind: "commit", commit: c}
	}
	return sha
}

func (r *repo) commitOf(sha string) *commit {
	if o, ok := r.objects[sha]; ok && o.kind == "commit" {
		return o.commit
	}
	return nil
}

func (r *repo) treeOf(commitSHA string) map[string]string {
	c := r.commitOf(commitSHA)
	if c == nil {
		return nil
	}
	return r.objects[c.tree].tree
}

// resolve turns a branch name, "refs/heads/x", "heads/x" or a commit SHA
// into a commit SHA. Empty means the default branch.
func (r *repo) resolve(ref string) (string, bool) {
	if ref == "" {
		ref = r.defaultBranch
	}
	ref = strings.TrimPrefix(ref, "refs/")
	ref = strings.TrimPrefix(ref, "heads/")
	if sha, ok := r.refs[ref]; ok {
		return sha, true
	}
	if r.commitOf(ref) != nil {
		return ref, true
	}
	return "", false
}

// isAncestor reports whether a is reachable from b (a == b counts).
func (r *repo) isAncestor(a, b string) bool {
	seen := map[string]bool{}
	stack := []string{b}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if s == a {
			return true
		}
		if seen[s] {
			continue
		}
		seen[s] = true
		if c := r.commitOf(s); c != nil {
			stack = append(stack, c.parents...)
		}
	}
	return false
}

// mergeBase returns the nearest commit reachable from both a and b.
func (r *repo) mergeBase(a, b string) string {
	queue := []string{a}
	seen := map[string]bool{}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if seen[s] {
			continue
		}
		seen[s] = true
		if r.isAncestor(s, b) {
			return s
		}
		if c := r.commitOf(s); c != nil {
			queue = append(queue, c.parents...)
		}
	}
	return ""
}

// threeWay merges head into base: the paths head changed since the merge
// base are applied to base's tree. It fails on a path both sides changed
// differently.
func (r *repo) threeWay(baseSHA, headSHA string) (map[string]string, bool) {
	mb := r.mergeBase(headSHA, baseSHA)
	baseTree, headTree := r.treeOf(baseSHA), r.treeOf(headSHA)
	var mbTree map[string]string
	if mb != "" {
		mbTree = r.treeOf(mb)
	}
	out := make(map[string]string, len(baseTree))
	for k, v := range baseTree {
		out[k] = v
	}
	paths := map[string]bool{}
	for p := range headTree {
		paths[p] = true
	}
	for p := range mbTree {
		paths[p] = true
	}
	for p := range paths {
		h, inHead := headTree[p]
		m, inMB := mbTree[p]
		if inHead == inMB && h == m {
			continue // head did not touch p
		}
		b, inBase := baseTree[p]
		baseTouched := inBase != inMB || b != m
		if baseTouched && (inBase != inHead || b != h) {
			return nil, false
		}
		if inHead {
			out[p] = h
		} else {
			delete(out, p)
		}
	}
	return out, true
}

// dirSHA names a directory of a flat tree: the hash of its entries below
// prefix (the fake keeps no tree object per directory).
func (rp *repo) dirSHA(tree map[string]string, prefix string) string {
	var b strings.Builder
	for _, p := range sortedKeys(tree) {
		if strings.HasPrefix(p, prefix) {
			b.WriteString(p + " " + tree[p] + "\n")
		}
	}
	return hashObject("tree", []byte(b.String()))
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
