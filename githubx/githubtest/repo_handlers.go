package githubtest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// --- locking helpers -------------------------------------------------

func (f *Fake) repoLocked(owner, name string) *repo {
	return f.repos[repoKey(owner, name)]
}

// routeRepo fetches the repository of a request under f.mu; it writes 404
// and returns nil when it does not exist.
func (f *Fake) routeRepo(r *http.Request) *repo {
	return f.repoLocked(r.PathValue("owner"), r.PathValue("repo"))
}

// --- git data handlers -------------------------------------------------

func (f *Fake) handleGetRepo(w http.ResponseWriter, r *http.Request) {
	f.lockedRepo(w, r, func(rp *repo) answer {
		// The full repository of repos/get carries what the webhook
		// payloads' repository does not (required by GitHub's schema,
		// full-repository).
		m := f.repoJSON(rp)
		m["has_discussions"], m["network_count"], m["subscribers_count"] = false, 0, 0
		return jsonAnswer(http.StatusOK, m)
	})
}

func (f *Fake) refJSON(rp *repo, branch, sha string) map[string]any {
	return map[string]any{
		"ref":     "refs/heads/" + branch,
		"node_id": nodeID("Ref", rp.id),
		"url":     f.apiURL(rp, "git/refs/heads/"+branch),
		"object": map[string]any{
			"type": "commit", "sha": sha, "url": f.apiURL(rp, "git/commits/"+sha),
		},
	}
}

func (f *Fake) handleGetRef(w http.ResponseWriter, r *http.Request) {
	f.lockedRepo(w, r, func(rp *repo) answer {
		branch := strings.TrimPrefix(r.PathValue("ref"), "heads/")
		sha, ok := rp.refs[branch]
		if !ok || !strings.HasPrefix(r.PathValue("ref"), "heads/") {
			return notFound()
		}
		return jsonAnswer(http.StatusOK, f.refJSON(rp, branch, sha))
	})
}

func (f *Fake) handleCreateRef(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError(err.Error()))
		return
	}
	f.lockedRepo(w, r, func(rp *repo) answer {
		if !strings.HasPrefix(body.Ref, "refs/heads/") {
			return jsonAnswer(http.StatusUnprocessableEntity, validationError("Reference name must start with 'refs/heads/' in this fake"))
		}
		branch := strings.TrimPrefix(body.Ref, "refs/heads/")
		if _, exists := rp.refs[branch]; exists {
			return jsonAnswer(http.StatusUnprocessableEntity, simpleError(docCreateRef, "Reference already exists"))
		}
		if rp.commitOf(body.SHA) == nil {
			return jsonAnswer(http.StatusUnprocessableEntity, validationError("Object does not exist"))
		}
		rp.refs[branch] = body.SHA
		out := f.refJSON(rp, branch, body.SHA)
		return jsonAnswer(http.StatusCreated, out)
	})
}

func (f *Fake) handleUpdateRef(w http.ResponseWriter, r *http.Request) {
	var body struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError(err.Error()))
		return
	}
	f.lockedRepo(w, r, func(rp *repo) answer {
		branch := strings.TrimPrefix(r.PathValue("ref"), "heads/")
		old, ok := rp.refs[branch]
		if !ok {
			return jsonAnswer(http.StatusUnprocessableEntity, validationError("Reference does not exist"))
		}
		if rp.commitOf(body.SHA) == nil {
			return jsonAnswer(http.StatusUnprocessableEntity, validationError("Object does not exist"))
		}
		if !body.Force && !rp.isAncestor(old, body.SHA) {
			return jsonAnswer(http.StatusUnprocessableEntity, validationError("Update is not a fast forward"))
		}
		f.moveBranchLocked(rp, branch, body.SHA, f.opts.Login)
		out := f.refJSON(rp, branch, body.SHA)
		return jsonAnswer(http.StatusOK, out)
	})
}

// moveBranchLocked moves a branch and synchronizes open pull requests whose
// head it is (sending pull_request "synchronize").
func (f *Fake) moveBranchLocked(rp *repo, branch, sha, actor string) {
	if rp.refs[branch] == sha {
		return
	}
	rp.refs[branch] = sha
	now := f.clock.Now()
	rp.pushed = now
	for _, n := range sortedPullNumbers(rp) {
		p := rp.pulls[n]
		if p.state == "open" && p.head == branch && p.headSHA != sha {
			before := p.headSHA
			p.headSHA = sha
			p.updated = now
			f.sendPullEventLocked(rp, p, "synchronize", actor, map[string]any{"before": before, "after": sha})
		}
	}
}

func (f *Fake) handleCreateBlob(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Content  string `json:"content"`
		Encoding string `json:"encoding"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError(err.Error()))
		return
	}
	data := []byte(body.Content)
	if body.Encoding == "base64" {
		d, err := base64.StdEncoding.DecodeString(body.Content)
		if err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, validationError("invalid base64"))
			return
		}
		data = d
	}
	f.lockedRepo(w, r, func(rp *repo) answer {
		sha := rp.putBlob(data)
		u := f.apiURL(rp, "git/blobs/"+sha)
		return jsonAnswer(http.StatusCreated, map[string]any{"sha": sha, "url": u})
	})
}

func (f *Fake) handleCreateTree(w http.ResponseWriter, r *http.Request) {
	var body struct {
		BaseTree string `json:"base_tree"`
		Tree     []struct {
			Path    string  `json:"path"`
			Mode    string  `json:"mode"`
			Type    string  `json:"type"`
			SHA     *string `json:"sha"`
			Content *string `json:"content"`
		} `json:"tree"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError(err.Error()))
		return
	}
	f.lockedRepo(w, r, func(rp *repo) answer {
		entries := map[string]string{}
		if body.BaseTree != "" {
			base, ok := rp.objects[body.BaseTree]
			if !ok || base.kind != "tree" {
				return jsonAnswer(http.StatusUnprocessableEntity, validationError("base_tree is not a valid tree oid"))
			}
			for k, v := range base.tree {
				entries[k] = v
			}
		}
		for _, e := range body.Tree {
			p := strings.Trim(e.Path, "/")
			if p == "" {
				return jsonAnswer(http.StatusUnprocessableEntity, validationError("tree.path is required"))
			}
			switch {
			case e.Content != nil:
				entries[p] = rp.putBlob([]byte(*e.Content))
			case e.SHA != nil:
				if o, ok := rp.objects[*e.SHA]; !ok || o.kind != "blob" {
					return jsonAnswer(http.StatusUnprocessableEntity, validationError("tree.sha "+*e.SHA+" is not a valid blob"))
				}
				entries[p] = *e.SHA
			default: // sha: null deletes the path
				delete(entries, p)
			}
		}
		sha := rp.putTree(entries)
		out := f.treeJSON(rp, sha)
		return jsonAnswer(http.StatusCreated, out)
	})
}

func (f *Fake) treeJSON(rp *repo, sha string) map[string]any {
	t := rp.objects[sha].tree
	paths := make([]string, 0, len(t))
	for p := range t {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	list := make([]map[string]any, 0, len(paths))
	for _, p := range paths {
		list = append(list, map[string]any{
			"path": p, "mode": "100644", "type": "blob", "sha": t[p],
			"size": len(rp.objects[t[p]].data), "url": f.apiURL(rp, "git/blobs/"+t[p]),
		})
	}
	return map[string]any{"sha": sha, "url": f.apiURL(rp, "git/trees/"+sha), "tree": list, "truncated": false}
}

func (f *Fake) handleGetTree(w http.ResponseWriter, r *http.Request) {
	f.lockedRepo(w, r, func(rp *repo) answer {
		o, ok := rp.objects[r.PathValue("sha")]
		if !ok || o.kind != "tree" {
			return notFound()
		}
		return jsonAnswer(http.StatusOK, f.treeJSON(rp, r.PathValue("sha")))
	})
}

func (f *Fake) handleGetBlob(w http.ResponseWriter, r *http.Request) {
	f.lockedRepo(w, r, func(rp *repo) answer {
		sha := r.PathValue("sha")
		o, ok := rp.objects[sha]
		if !ok || o.kind != "blob" {
			return notFound()
		}
		return jsonAnswer(http.StatusOK, map[string]any{
			"sha": sha, "node_id": nodeID("Blob", rp.id), "size": len(o.data), "encoding": "base64",
			"content": base64.StdEncoding.EncodeToString(o.data), "url": f.apiURL(rp, "git/blobs/"+sha),
		})
	})
}

func (f *Fake) commitJSON(rp *repo, sha string) map[string]any {
	c := rp.commitOf(sha)
	parents := make([]map[string]any, 0, len(c.parents))
	for _, p := range c.parents {
		parents = append(parents, map[string]any{"sha": p, "url": f.apiURL(rp, "git/commits/"+p),
			"html_url": f.htmlURL(rp, "commit/"+p)})
	}
	sig := map[string]any{"name": c.author, "email": c.author + "@users.noreply.github.com", "date": ts(c.at)}
	return map[string]any{
		"sha": sha, "node_id": nodeID("Commit", rp.id), "url": f.apiURL(rp, "git/commits/"+sha),
		"html_url": f.htmlURL(rp, "commit/"+sha), "author": sig, "committer": sig,
		"message": c.message, "tree": map[string]any{"sha": c.tree, "url": f.apiURL(rp, "git/trees/"+c.tree)},
		"parents": parents, "verification": map[string]any{"verified": false, "reason": "unsigned",
			"signature": nil, "payload": nil, "verified_at": nil},
	}
}

func (f *Fake) handleCreateCommit(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Message string   `json:"message"`
		Tree    string   `json:"tree"`
		Parents []string `json:"parents"`
		Author  *struct {
			Name string `json:"name"`
		} `json:"author"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError(err.Error()))
		return
	}
	f.lockedRepo(w, r, func(rp *repo) answer {
		if o, ok := rp.objects[body.Tree]; !ok || o.kind != "tree" {
			return jsonAnswer(http.StatusUnprocessableEntity, validationError("Tree SHA does not exist"))
		}
		for _, p := range body.Parents {
			if rp.commitOf(p) == nil {
				return jsonAnswer(http.StatusUnprocessableEntity, validationError("Parent SHA does not exist or is not a commit object"))
			}
		}
		author := f.opts.Login
		if body.Author != nil && body.Author.Name != "" {
			author = body.Author.Name
		}
		sha := rp.putCommit(&commit{tree: body.Tree, parents: body.Parents, message: body.Message, author: author, at: f.clock.Now()})
		out := f.commitJSON(rp, sha)
		return jsonAnswer(http.StatusCreated, out)
	})
}

func (f *Fake) handleGetCommit(w http.ResponseWriter, r *http.Request) {
	f.lockedRepo(w, r, func(rp *repo) answer {
		if rp.commitOf(r.PathValue("sha")) == nil {
			return notFound()
		}
		return jsonAnswer(http.StatusOK, f.commitJSON(rp, r.PathValue("sha")))
	})
}

func (f *Fake) handleGetContents(w http.ResponseWriter, r *http.Request) {
	f.lockedRepo(w, r, func(rp *repo) answer {
		sha, ok := rp.resolve(r.URL.Query().Get("ref"))
		if !ok {
			return jsonAnswer(http.StatusNotFound, apiError("No commit found for the ref "+r.URL.Query().Get("ref")))
		}
		tree := rp.treeOf(sha)
		p := strings.Trim(r.PathValue("path"), "/")
		ref := r.URL.Query().Get("ref")
		if ref == "" {
			ref = rp.defaultBranch
		}
		if blob, ok := tree[p]; ok {
			data := rp.objects[blob].data
			e := f.contentEntry(rp, ref, p, "file", blob, len(data))
			e["encoding"], e["content"] = "base64", base64.StdEncoding.EncodeToString(data)
			return jsonAnswer(http.StatusOK, e)
		}
		// A directory: list its direct children.
		prefix := p + "/"
		if p == "" {
			prefix = ""
		}
		seen := map[string]bool{}
		var list []map[string]any
		for _, fp := range sortedKeys(tree) {
			if !strings.HasPrefix(fp, prefix) {
				continue
			}
			rest := strings.TrimPrefix(fp, prefix)
			name, _, isDir := strings.Cut(rest, "/")
			if seen[name] {
				continue
			}
			seen[name] = true
			if isDir {
				list = append(list, f.contentEntry(rp, ref, prefix+name, "dir", rp.dirSHA(tree, prefix+name+"/"), 0))
			} else {
				list = append(list, f.contentEntry(rp, ref, prefix+name, "file", tree[fp], len(rp.objects[tree[fp]].data)))
			}
		}
		if list == nil {
			return notFound()
		}
		return jsonAnswer(http.StatusOK, list)
	})
}

// contentEntry is a file or directory of repos/get-content, with the
// properties GitHub's schema requires (content-file, content-directory):
// url, git_url, html_url, download_url and _links.
func (f *Fake) contentEntry(rp *repo, ref, p, kind, sha string, size int) map[string]any {
	self := f.apiURL(rp, "contents/"+p+"?ref="+ref)
	git := f.apiURL(rp, "git/blobs/"+sha)
	html := f.htmlURL(rp, "blob/"+ref+"/"+p)
	var download any = f.linkBase() + "/_fake/raw/" + rp.owner + "/" + rp.name + "/" + p + "?ref=" + url.QueryEscape(ref)
	if kind == "dir" {
		git = f.apiURL(rp, "git/trees/"+sha)
		html = f.htmlURL(rp, "tree/"+ref+"/"+p)
		download = nil
	}
	return map[string]any{
		"type": kind, "size": size, "name": pathBase(p), "path": p, "sha": sha,
		"url": self, "git_url": git, "html_url": html, "download_url": download,
		"_links": map[string]any{"self": self, "git": git, "html": html},
	}
}

// handleRawFile serves a file's bytes: the download_url of contents.
func (f *Fake) handleRawFile(w http.ResponseWriter, r *http.Request) {
	f.lockedRepo(w, r, func(rp *repo) answer {
		sha, ok := rp.resolve(r.URL.Query().Get("ref"))
		blob, found := rp.treeOf(sha)[r.PathValue("path")]
		if !ok || !found {
			return plainNotFound()
		}
		return textAnswer(rp.objects[blob].data)
	})
}

func pathBase(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func nodeID(kind string, id int64) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("0:%s%d", kind, id)))
}
