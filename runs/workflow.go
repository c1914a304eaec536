package runs

// Workflow kinds tfpilot dispatches or observes that are not attempts of a
// request: a [Kind] value but never a [Kind.Valid] one.
const (
	// Cleanup is the workflow that removes a destroyed request's block.
	Cleanup Kind = "cleanup"
	// Drift is the drift-check plan of an applied request.
	Drift Kind = "drift"
)

// WorkflowKinds lists every kind of workflow tfpilot dispatches or
// observes: [Kinds] followed by [Cleanup] and [Drift].
func WorkflowKinds() []Kind { return []Kind{Plan, Apply, Destroy, Cleanup, Drift} }

// Known reports whether k is one of [WorkflowKinds]. [Kind.Valid] is
// narrower: it holds only for the kinds a request keeps attempts of.
func (k Kind) Known() bool { return k.Valid() || k == Cleanup || k == Drift }

// Repo names a GitHub repository. It is the one repository type of
// githubx (githubx.Repo) and webhook (webhook.Repo).
type Repo struct {
	Owner string
	Name  string
}

// String returns "owner/name".
func (r Repo) String() string { return r.Owner + "/" + r.Name }

// Valid reports whether both the owner and the name are set.
func (r Repo) Valid() bool { return r.Owner != "" && r.Name != "" }
