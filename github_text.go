package tfpilot

import "fmt"

// GitHubText writes the commit messages and pull-request text the engine
// puts on GitHub. Each field is a function of the request (as it is when
// the text is written); a nil field means the default of
// [DefaultGitHubText]. The text is free: correlation never reads it (runs
// are found by nonce, index and branch, see [WebhookSink]).
type GitHubText struct {
	// Commit is the message of the commit that adds or updates a
	// request's block on its branch. Default
	// "tfpilot: <module> for <project>/<environment> (<id>)".
	Commit func(r *Request) string
	// RebuildCommit is the message of the commit that rebuilds a
	// request's branch on its base's head baseHead. Default
	// "tfpilot: rebuild <module> for <project>/<environment> (<id>) on <short sha>".
	RebuildCommit func(r *Request, baseHead string) string
	// PRTitle is the title of a request's pull request. Default
	// "tfpilot: <module> for <project>/<environment>".
	PRTitle func(r *Request) string
	// PRBody is the body of a request's pull request; by is who created
	// the pull request is opened for. Default: that login, the request id
	// and the module.
	PRBody func(r *Request, by Principal) string
	// CleanupCommit is the message of the commit that removes a destroyed
	// request's block. Default "tfpilot: remove <module> (<id>), destroyed".
	CleanupCommit func(r *Request) string
	// CleanupPRTitle is the title of the pull request that removes a
	// destroyed request's block. Default
	// "tfpilot: clean up <module> for <project>/<environment>".
	CleanupPRTitle func(r *Request) string
	// CleanupPRBody is the body of that pull request. Default: the
	// destroyed request's id.
	CleanupPRBody func(r *Request) string
}

// DefaultGitHubText returns the text the engine writes when
// [Config].Text leaves a field nil.
func DefaultGitHubText() GitHubText {
	return GitHubText{
		Commit: func(r *Request) string {
			return fmt.Sprintf("tfpilot: %s for %s/%s (%s)", r.Module, r.Project, r.Environment, r.ID)
		},
		RebuildCommit: func(r *Request, baseHead string) string {
			return fmt.Sprintf("tfpilot: rebuild %s for %s/%s (%s) on %s", r.Module, r.Project, r.Environment, r.ID, short(baseHead))
		},
		PRTitle: func(r *Request) string {
			return fmt.Sprintf("tfpilot: %s for %s/%s", r.Module, r.Project, r.Environment)
		},
		PRBody: func(r *Request, by Principal) string {
			return fmt.Sprintf("Requested through tfpilot by %s.\n\nRequest: `%s`\nModule: `%s`\n", by.Login, r.ID, r.Module)
		},
		CleanupCommit: func(r *Request) string {
			return fmt.Sprintf("tfpilot: remove %s (%s), destroyed", r.Module, r.ID)
		},
		CleanupPRTitle: func(r *Request) string {
			return fmt.Sprintf("tfpilot: clean up %s for %s/%s", r.Module, r.Project, r.Environment)
		},
		CleanupPRBody: func(r *Request) string {
			return fmt.Sprintf("Removes the block of destroyed request `%s`.\n", r.ID)
		},
	}
}

// withDefaults fills t's nil fields from [DefaultGitHubText].
func (t GitHubText) withDefaults() GitHubText {
	d := DefaultGitHubText()
	fill := func(dst *func(*Request) string, def func(*Request) string) {
		if *dst == nil {
			*dst = def
		}
	}
	fill(&t.Commit, d.Commit)
	fill(&t.PRTitle, d.PRTitle)
	fill(&t.CleanupCommit, d.CleanupCommit)
	fill(&t.CleanupPRTitle, d.CleanupPRTitle)
	fill(&t.CleanupPRBody, d.CleanupPRBody)
	if t.RebuildCommit == nil {
		t.RebuildCommit = d.RebuildCommit
	}
	if t.PRBody == nil {
		t.PRBody = d.PRBody
	}
	return t
}
