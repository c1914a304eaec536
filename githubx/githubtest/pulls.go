package githubtest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type pull struct {
	id               int64
	number           int
	title, body      string
	head, base       string
	headSHA          string
	state            string // "open" or "closed"
	merged           bool
	mergeCommitSHA   string
	mergedBy         string
	author           string
	draft            bool
	created, updated time.Time
	closed, mergedAt time.Time
	mergeable        *bool // override; nil = computed
	reviews          []*review
}

type review struct {
	id        int64
	user      string
	state     string // APPROVED, CHANGES_REQUESTED, COMMENTED
	body      string
	commitID  string
	submitted time.Time
}

// PullRequest is the fake's view of a pull request, for assertions.
type PullRequest struct {
	Number         int
	Title          string
	Body           string
	Head, Base     string
	HeadSHA        string
	State          string
	Merged         bool
	MergeCommitSHA string
	Author         string
}

// PR returns a pull request of the fake.
func (f *Fake) PR(owner, name string, number int) (PullRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.repoLocked(owner, name)
	if rp == nil || rp.pulls[number] == nil {
		return PullRequest{}, ErrNotFound
	}
	p := rp.pulls[number]
	return PullRequest{Number: p.number, Title: p.title, Body: p.body, Head: p.head, Base: p.base, HeadSHA: p.headSHA,
		State: p.state, Merged: p.merged, MergeCommitSHA: p.mergeCommitSHA, Author: p.author}, nil
}

// SetMergeable forces whether GitHub considers the pull request mergeable;
// nil returns to computing it from a three-way merge.
func (f *Fake) SetMergeable(owner, name string, number int, mergeable *bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.repoLocked(owner, name)
	if rp == nil || rp.pulls[number] == nil {
		return ErrNotFound
	}
	rp.pulls[number].mergeable = mergeable
	rp.pulls[number].updated = f.clock.Now()
	return nil
}

func (f *Fake) isMergeableLocked(rp *repo, p *pull) bool {
	if p.mergeable != nil {
		return *p.mergeable
	}
	_, ok := rp.threeWay(rp.refs[p.base], p.headSHA)
	return ok
}

func (f *Fake) pullJSON(rp *repo, p *pull, full bool) map[string]any {
	api := f.apiURL(rp, "pulls/"+strconv.Itoa(p.number))
	html := f.htmlURL(rp, "pull/"+strconv.Itoa(p.number))
	issue := f.apiURL(rp, "issues/"+strconv.Itoa(p.number))
	side := func(branch, sha string) map[string]any {
		return map[string]any{"label": rp.owner + ":" + branch, "ref": branch, "sha": sha,
			"user": f.userJSON(rp.owner), "repo": f.repoJSON(rp)}
	}
	href := func(u string) map[string]any { return map[string]any{"href": u} }
	var mergeCommit any
	if p.mergeCommitSHA != "" {
		mergeCommit = p.mergeCommitSHA
	}
	m := map[string]any{
		"url": api, "id": p.id, "node_id": nodeID("PullRequest", p.id), "html_url": html,
		"diff_url": html + ".diff", "patch_url": html + ".patch", "issue_url": issue,
		"number": p.number, "state": p.state, "locked": false, "title": p.title,
		"user": f.userJSON(p.author), "body": p.body,
		"created_at": ts(p.created), "updated_at": ts(p.updated), "closed_at": ts(p.closed),
		"merged_at": ts(p.mergedAt), "merge_commit_sha": mergeCommit,
		"assignee": nil, "assignees": []any{}, "requested_reviewers": []any{},
		"requested_teams": []any{}, "labels": []any{}, "milestone": nil, "draft": p.draft,
		"commits_url": api + "/commits", "review_comments_url": api + "/comments",
		"review_comment_url": f.apiURL(rp, "pulls/comments{/number}"),
		"comments_url":       issue + "/comments", "statuses_url": f.apiURL(rp, "statuses/"+p.headSHA),
		"head": side(p.head, p.headSHA), "base": side(p.base, rp.refs[p.base]),
		"_links": map[string]any{
			"self": href(api), "html": href(html), "issue": href(issue),
			"comments": href(issue + "/comments"), "review_comments": href(api + "/comments"),
			"review_comment": href(f.apiURL(rp, "pulls/comments{/number}")),
			"commits":        href(api + "/commits"), "statuses": href(f.apiURL(rp, "statuses/"+p.headSHA)),
		},
		"author_association": "OWNER", "auto_merge": nil, "active_lock_reason": nil,
	}
	if !full {
		return m
	}
	var mergeable any
	state := "unknown"
	if p.state == "open" {
		ok := f.isMergeableLocked(rp, p)
		mergeable = ok
		state = "clean"
		if !ok {
			state = "dirty"
		}
	}
	var mergedBy any
	if p.mergedBy != "" {
		mergedBy = f.userJSON(p.mergedBy)
	}
	added, removed, changed := f.diffStatLocked(rp, p)
	for k, v := range map[string]any{
		"merged": p.merged, "mergeable": mergeable, "rebaseable": mergeable, "mergeable_state": state,
		"merged_by": mergedBy, "comments": 0, "review_comments": 0, "maintainer_can_modify": false,
		"commits": 1, "additions": added, "deletions": removed, "changed_files": changed,
	} {
		m[k] = v
	}
	return m
}

// diffStatLocked counts changed files between the merge base and the head
// (one "line" per file, enough for the fields to be meaningful).
func (f *Fake) diffStatLocked(rp *repo, p *pull) (added, removed, changed int) {
	mb := rp.mergeBase(p.headSHA, rp.refs[p.base])
	if p.merged {
		return 0, 0, 0
	}
	base, head := rp.treeOf(mb), rp.treeOf(p.headSHA)
	for k, v := range head {
		if b, ok := base[k]; !ok {
			added++
			changed++
		} else if b != v {
			changed++
		}
	}
	for k := range base {
		if _, ok := head[k]; !ok {
			removed++
			changed++
		}
	}
	return added, removed, changed
}

func (f *Fake) handleCreatePull(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Title string `json:"title"`
		Head  string `json:"head"`
		Base  string `json:"base"`
		Body  string `json:"body"`
		Draft bool   `json:"draft"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError(err.Error()))
		return
	}
	f.lockedRepo(w, r, func(rp *repo) answer {
		head := body.Head
		if _, after, ok := strings.Cut(head, ":"); ok {
			head = after
		}
		headSHA, okHead := rp.refs[head]
		baseSHA, okBase := rp.refs[body.Base]
		switch {
		case body.Title == "":
			return jsonAnswer(http.StatusUnprocessableEntity, validationFailed(docCreatePull, fieldError("PullRequest", "title", "missing_field", "")))
		case !okHead:
			return jsonAnswer(http.StatusUnprocessableEntity, validationFailed(docCreatePull, fieldError("PullRequest", "head", "invalid", "")))
		case !okBase:
			return jsonAnswer(http.StatusUnprocessableEntity, validationFailed(docCreatePull, fieldError("PullRequest", "base", "invalid", "")))
		case rp.isAncestor(headSHA, baseSHA):
			return jsonAnswer(http.StatusUnprocessableEntity, validationFailed(docCreatePull,
				fieldError("PullRequest", "", "custom", fmt.Sprintf("No commits between %s and %s", body.Base, head))))
		}
		for _, p := range rp.pulls {
			if p.state == "open" && p.head == head && p.base == body.Base {
				return jsonAnswer(http.StatusUnprocessableEntity, validationFailed(docCreatePull,
					fieldError("PullRequest", "", "custom", fmt.Sprintf("A pull request already exists for %s:%s.", rp.owner, head))))
			}
		}
		now := f.clock.Now()
		p := &pull{id: f.newID(), number: rp.nextNumber, title: body.Title, body: body.Body, head: head,
			base: body.Base, headSHA: headSHA, state: "open", author: f.opts.Login, draft: body.Draft,
			created: now, updated: now}
		rp.nextNumber++
		rp.pulls[p.number] = p
		f.sendPullEventLocked(rp, p, "opened", f.opts.Login, nil)
		out := f.pullJSON(rp, p, true)
		return jsonAnswer(http.StatusCreated, out)
	})
}

func (f *Fake) routePull(r *http.Request) (*repo, *pull) {
	rp := f.routeRepo(r)
	if rp == nil {
		return nil, nil
	}
	n, err := strconv.Atoi(r.PathValue("number"))
	if err != nil || rp.pulls[n] == nil {
		return nil, nil
	}
	return rp, rp.pulls[n]
}

func (f *Fake) handleGetPull(w http.ResponseWriter, r *http.Request) {
	f.locked(w, func() answer {
		rp, p := f.routePull(r)
		if p == nil {
			return notFound()
		}
		return jsonAnswer(http.StatusOK, f.pullJSON(rp, p, true))
	})
}

func (f *Fake) handleListPulls(w http.ResponseWriter, r *http.Request) {
	f.lockedRepo(w, r, func(rp *repo) answer {
		q := r.URL.Query()
		state := q.Get("state")
		if state == "" {
			state = "open"
		}
		head := q.Get("head")
		if _, after, ok := strings.Cut(head, ":"); ok {
			head = after
		}
		nums := sortedPullNumbers(rp)
		list := []map[string]any{}
		for i := len(nums) - 1; i >= 0; i-- {
			p := rp.pulls[nums[i]]
			if (state != "all" && p.state != state) || (head != "" && p.head != head) ||
				(q.Get("base") != "" && p.base != q.Get("base")) {
				continue
			}
			list = append(list, f.pullJSON(rp, p, false))
		}
		return pageAnswer(r, list)
	})
}

// pageAnswer answers a JSON array page by page (per_page, page).
func pageAnswer[T any](r *http.Request, all []T) answer {
	start, end, link := pageBounds(r, len(all))
	return withLink(jsonAnswer(http.StatusOK, all[start:end]), link)
}

// withLink returns a with the Link header link, if any.
func withLink(a answer, link string) answer {
	if link == "" {
		return a
	}
	return a.withHeader("Link", link)
}

// pageBounds returns the slice bounds of the requested page and the Link
// header GitHub sends (rel="next", rel="last") when there are more, or "".
func pageBounds(r *http.Request, n int) (start, end int, link string) {
	start, end, page, per := pageOf(r, n)
	if end < n {
		next, last := *r.URL, *r.URL
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(page+1))
		q.Set("per_page", strconv.Itoa(per))
		next.RawQuery = q.Encode()
		q.Set("page", strconv.Itoa((n+per-1)/per))
		last.RawQuery = q.Encode()
		base := "http://" + r.Host
		link = fmt.Sprintf(`<%s%s>; rel="next", <%s%s>; rel="last"`, base, next.RequestURI(), base, last.RequestURI())
	}
	return start, end, link
}

func pageOf(r *http.Request, n int) (start, end, page, per int) {
	per, _ = strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	if per > 100 {
		per = 100
	}
	page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	if page <= 0 {
		page = 1
	}
	start = min((page-1)*per, n)
	return start, min(start+per, n), page, per
}

func (f *Fake) handleUpdatePull(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Title *string `json:"title"`
		Body  *string `json:"body"`
		State *string `json:"state"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError(err.Error()))
		return
	}
	f.locked(w, func() answer {
		rp, p := f.routePull(r)
		if p == nil {
			return notFound()
		}
		now := f.clock.Now()
		if body.Title != nil {
			p.title = *body.Title
		}
		if body.Body != nil {
			p.body = *body.Body
		}
		if body.State != nil && *body.State != p.state && !p.merged {
			switch *body.State {
			case "closed":
				p.state, p.closed = "closed", now
				f.sendPullEventLocked(rp, p, "closed", f.opts.Login, nil)
			case "open":
				p.state, p.closed = "open", time.Time{}
				f.sendPullEventLocked(rp, p, "reopened", f.opts.Login, nil)
			}
		}
		p.updated = now
		out := f.pullJSON(rp, p, true)
		return jsonAnswer(http.StatusOK, out)
	})
}

// mergeLocked merges p as actor. It returns the merge commit SHA, or an
// HTTP status and message describing why GitHub would refuse.
func (f *Fake) mergeLocked(rp *repo, p *pull, expectedSHA, method, title, actor string) (string, int, string) {
	if p.state != "open" {
		return "", http.StatusMethodNotAllowed, "Pull Request is not mergeable"
	}
	if expectedSHA != "" && expectedSHA != p.headSHA {
		return "", http.StatusConflict, "Head branch was modified. Review and try the merge again."
	}
	if !f.isMergeableLocked(rp, p) {
		return "", http.StatusMethodNotAllowed, "Pull Request is not mergeable"
	}
	baseSHA := rp.refs[p.base]
	tree, ok := rp.threeWay(baseSHA, p.headSHA)
	if !ok {
		return "", http.StatusMethodNotAllowed, "Pull Request is not mergeable"
	}
	now := f.clock.Now()
	c := &commit{tree: rp.putTree(tree), author: actor, at: now}
	switch method {
	case "", "merge":
		c.parents = []string{baseSHA, p.headSHA}
		c.message = fmt.Sprintf("Merge pull request #%d from %s/%s\n\n%s", p.number, rp.owner, p.head, p.title)
	case "squash", "rebase":
		c.parents = []string{baseSHA}
		c.message = fmt.Sprintf("%s (#%d)", p.title, p.number)
	default:
		return "", http.StatusUnprocessableEntity, "Invalid merge_method"
	}
	if title != "" {
		c.message = title
	}
	sha := rp.putCommit(c)
	p.state, p.merged, p.mergeCommitSHA, p.mergedBy = "closed", true, sha, actor
	p.mergedAt, p.closed, p.updated = now, now, now
	f.moveBranchLocked(rp, p.base, sha, actor)
	f.sendPullEventLocked(rp, p, "closed", actor, nil)
	return sha, http.StatusOK, "Pull Request successfully merged"
}

func (f *Fake) handleMergePull(w http.ResponseWriter, r *http.Request) {
	var body struct {
		SHA         string `json:"sha"`
		MergeMethod string `json:"merge_method"`
		CommitTitle string `json:"commit_title"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError(err.Error()))
		return
	}
	f.locked(w, func() answer {
		rp, p := f.routePull(r)
		if p == nil {
			return notFound()
		}
		sha, status, msg := f.mergeLocked(rp, p, body.SHA, body.MergeMethod, body.CommitTitle, f.opts.Login)
		if status != http.StatusOK {
			return jsonAnswer(status, apiError(msg))
		}
		return jsonAnswer(http.StatusOK, map[string]any{"sha": sha, "merged": true, "message": msg})
	})
}

func (f *Fake) reviewJSON(rp *repo, p *pull, rv *review, webhook bool) map[string]any {
	html := f.htmlURL(rp, fmt.Sprintf("pull/%d#pullrequestreview-%d", p.number, rv.id))
	prURL := f.apiURL(rp, "pulls/"+strconv.Itoa(p.number))
	state := rv.state
	if webhook {
		state = strings.ToLower(state) // webhooks say "approved", the REST API "APPROVED"
	}
	var body any
	if rv.body != "" {
		body = rv.body
	}
	return map[string]any{
		"id": rv.id, "node_id": nodeID("PullRequestReview", rv.id), "user": f.userJSON(rv.user),
		"body": body, "commit_id": rv.commitID, "submitted_at": ts(rv.submitted), "state": state,
		"html_url": html, "pull_request_url": prURL, "author_association": "COLLABORATOR",
		"_links": map[string]any{"html": map[string]any{"href": html}, "pull_request": map[string]any{"href": prURL}},
	}
}

func (f *Fake) handleListReviews(w http.ResponseWriter, r *http.Request) {
	f.locked(w, func() answer {
		rp, p := f.routePull(r)
		if p == nil {
			return notFound()
		}
		list := make([]map[string]any, 0, len(p.reviews))
		for _, rv := range p.reviews {
			list = append(list, f.reviewJSON(rp, p, rv, false))
		}
		return pageAnswer(r, list)
	})
}

// reviewLocked records a review by user; event is APPROVE,
// REQUEST_CHANGES or COMMENT.
func (f *Fake) reviewLocked(rp *repo, p *pull, user, event, body string) (*review, int, string) {
	state := map[string]string{"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED", "": "COMMENTED"}[event]
	if state == "" {
		return nil, http.StatusUnprocessableEntity, "Unprocessable Entity: invalid event"
	}
	if p.state != "open" {
		return nil, http.StatusUnprocessableEntity, "Can not review a closed pull request"
	}
	if state != "COMMENTED" && user == p.author {
		return nil, http.StatusUnprocessableEntity, "Can not approve your own pull request"
	}
	rv := &review{id: f.newID(), user: user, state: state, body: body, commitID: p.headSHA, submitted: f.clock.Now()}
	p.reviews = append(p.reviews, rv)
	p.updated = rv.submitted
	f.sendReviewEventLocked(rp, p, rv)
	return rv, http.StatusOK, ""
}

func (f *Fake) handleCreateReview(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Event string `json:"event"`
		Body  string `json:"body"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError(err.Error()))
		return
	}
	f.locked(w, func() answer {
		rp, p := f.routePull(r)
		if p == nil {
			return notFound()
		}
		rv, status, msg := f.reviewLocked(rp, p, f.opts.Login, body.Event, body.Body)
		if rv == nil {
			return jsonAnswer(status, validationError(msg))
		}
		out := f.reviewJSON(rp, p, rv, false)
		return jsonAnswer(http.StatusOK, out)
	})
}
