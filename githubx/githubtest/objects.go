package githubtest

import (
	"fmt"
	"sort"
)

// This file builds the JSON objects GitHub returns and sends in webhooks.
// Their key sets follow the real payloads (see webhook/webhooktest's fixtures and
// TestWebhookPayloads_MatchFixtureKeySets).

func (f *Fake) apiURL(rp *repo, suffix string) string {
	return fmt.Sprintf("%s/repos/%s/%s/%s", f.linkBase(), rp.owner, rp.name, suffix)
}

func (f *Fake) htmlURL(rp *repo, suffix string) string {
	u := fmt.Sprintf("%s/%s/%s", f.linkBase(), rp.owner, rp.name)
	if suffix != "" {
		u += "/" + suffix
	}
	return u
}

func (f *Fake) userIDLocked(login string) int64 {
	id, ok := f.users[login]
	if !ok {
		id = f.newID()
		f.users[login] = id
	}
	return id
}

func (f *Fake) userJSON(login string) map[string]any {
	id := f.userIDLocked(login)
	u := f.linkBase() + "/users/" + login
	return map[string]any{
		"login": login, "id": id, "node_id": nodeID("User", id),
		"avatar_url":          f.linkBase() + "/avatars/" + login,
		"gravatar_id":         "",
		"url":                 u,
		"html_url":            f.linkBase() + "/" + login,
		"followers_url":       u + "/followers",
		"following_url":       u + "/following{/other_user}",
		"gists_url":           u + "/gists{/gist_id}",
		"starred_url":         u + "/starred{/owner}{/repo}",
		"subscriptions_url":   u + "/subscriptions",
		"organizations_url":   u + "/orgs",
		"repos_url":           u + "/repos",
		"events_url":          u + "/events{/privacy}",
		"received_events_url": u + "/received_events",
		"type":                "User",
		"site_admin":          false,
	}
}

// repoMinimalJSON is the short repository object of workflow_run payloads.
func (f *Fake) repoMinimalJSON(rp *repo) map[string]any {
	a := func(s string) string { return f.apiURL(rp, s) }
	return map[string]any{
		"id": rp.id, "node_id": nodeID("Repository", rp.id), "name": rp.name,
		"full_name": rp.owner + "/" + rp.name, "private": true, "owner": f.userJSON(rp.owner),
		"html_url": f.htmlURL(rp, ""), "description": nil, "fork": false,
		"url":               fmt.Sprintf("%s/repos/%s/%s", f.linkBase(), rp.owner, rp.name),
		"archive_url":       a("{archive_format}{/ref}"),
		"assignees_url":     a("assignees{/user}"),
		"blobs_url":         a("git/blobs{/sha}"),
		"branches_url":      a("branches{/branch}"),
		"collaborators_url": a("collaborators{/collaborator}"),
		"comments_url":      a("comments{/number}"),
		"commits_url":       a("commits{/sha}"),
		"compare_url":       a("compare/{base}...{head}"),
		"contents_url":      a("contents/{+path}"),
		"contributors_url":  a("contributors"),
		"deployments_url":   a("deployments"),
		"downloads_url":     a("downloads"),
		"events_url":        a("events"),
		"forks_url":         a("forks"),
		"git_commits_url":   a("git/commits{/sha}"),
		"git_refs_url":      a("git/refs{/sha}"),
		"git_tags_url":      a("git/tags{/sha}"),
		"hooks_url":         a("hooks"),
		"issue_comment_url": a("issues/comments{/number}"),
		"issue_events_url":  a("issues/events{/number}"),
		"issues_url":        a("issues{/number}"),
		"keys_url":          a("keys{/key_id}"),
		"labels_url":        a("labels{/name}"),
		"languages_url":     a("languages"),
		"merges_url":        a("merges"),
		"milestones_url":    a("milestones{/number}"),
		"notifications_url": a("notifications{?since,all,participating}"),
		"pulls_url":         a("pulls{/number}"),
		"releases_url":      a("releases{/id}"),
		"stargazers_url":    a("stargazers"),
		"statuses_url":      a("statuses/{sha}"),
		"subscribers_url":   a("subscribers"),
		"subscription_url":  a("subscription"),
		"tags_url":          a("tags"),
		"teams_url":         a("teams"),
		"trees_url":         a("git/trees{/sha}"),
	}
}

// repoJSON is the full repository object of REST answers and of
// pull_request / pull_request_review payloads.
func (f *Fake) repoJSON(rp *repo) map[string]any {
	m := f.repoMinimalJSON(rp)
	open := 0
	for _, p := range rp.pulls {
		if p.state == "open" {
			open++
		}
	}
	extra := map[string]any{
		"created_at": ts(rp.created), "updated_at": ts(rp.pushed), "pushed_at": ts(rp.pushed),
		"git_url":   "git://" + f.srv.Listener.Addr().String() + "/" + rp.owner + "/" + rp.name + ".git",
		"ssh_url":   "git@" + f.srv.Listener.Addr().String() + ":" + rp.owner + "/" + rp.name + ".git",
		"clone_url": f.htmlURL(rp, "") + ".git", "svn_url": f.htmlURL(rp, ""),
		"homepage": nil, "size": 0, "stargazers_count": 0, "watchers_count": 0, "language": nil,
		"has_issues": true, "has_projects": false, "has_downloads": false, "has_wiki": false,
		"has_pages": false, "forks_count": 0, "mirror_url": nil, "archived": false, "disabled": false,
		"open_issues_count": open, "license": nil, "forks": 0, "open_issues": open, "watchers": 0,
		"default_branch": rp.defaultBranch, "is_template": false, "topics": []string{},
		"visibility": "private", "web_commit_signoff_required": false,
		"custom_properties": map[string]any{},
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func sortedPullNumbers(rp *repo) []int {
	out := make([]int, 0, len(rp.pulls))
	for n := range rp.pulls {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}
