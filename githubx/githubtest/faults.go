package githubtest

import "time"

// Endpoints of the fake, as counted by [Fake.Calls] and matched by
// [Fault.Endpoint]. They are Go ServeMux patterns.
const (
	EndpointAppToken     = "POST /app/installations/{installation_id}/access_tokens"
	EndpointGetRef       = "GET /repos/{owner}/{repo}/git/ref/{ref...}"
	EndpointCreateRef    = "POST /repos/{owner}/{repo}/git/refs"
	EndpointUpdateRef    = "PATCH /repos/{owner}/{repo}/git/refs/{ref...}"
	EndpointCreateBlob   = "POST /repos/{owner}/{repo}/git/blobs"
	EndpointCreateTree   = "POST /repos/{owner}/{repo}/git/trees"
	EndpointCreateCommit = "POST /repos/{owner}/{repo}/git/commits"
	EndpointGetCommit    = "GET /repos/{owner}/{repo}/git/commits/{sha}"
	EndpointGetContents  = "GET /repos/{owner}/{repo}/contents/{path...}"
	EndpointCreatePull   = "POST /repos/{owner}/{repo}/pulls"
	EndpointListPulls    = "GET /repos/{owner}/{repo}/pulls"
	EndpointGetPull      = "GET /repos/{owner}/{repo}/pulls/{number}"
	EndpointUpdatePull   = "PATCH /repos/{owner}/{repo}/pulls/{number}"
	EndpointMergePull    = "PUT /repos/{owner}/{repo}/pulls/{number}/merge"
	EndpointListReviews  = "GET /repos/{owner}/{repo}/pulls/{number}/reviews"
	EndpointCreateReview = "POST /repos/{owner}/{repo}/pulls/{number}/reviews"
	EndpointDispatch     = "POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches"
	EndpointWorkflowRuns = "GET /repos/{owner}/{repo}/actions/workflows/{workflow}/runs"
	EndpointRepoRuns     = "GET /repos/{owner}/{repo}/actions/runs"
	EndpointGetRun       = "GET /repos/{owner}/{repo}/actions/runs/{run_id}"
	EndpointListJobs     = "GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs"
	EndpointGetJob       = "GET /repos/{owner}/{repo}/actions/jobs/{job_id}"
	EndpointJobLogs      = "GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs"
	// EndpointListWorkflows and EndpointGetWorkflow list and get the
	// repository's workflows (a start-up check reads them).
	EndpointListWorkflows = "GET /repos/{owner}/{repo}/actions/workflows"
	EndpointGetWorkflow   = "GET /repos/{owner}/{repo}/actions/workflows/{workflow}"
)

const (
	// endpointLogDownload serves the log a job's logs endpoint redirects to.
	endpointLogDownload = "GET /_fake/logs/{job_id}"
	// endpointRawFile serves the download_url of repository contents.
	endpointRawFile         = "GET /_fake/raw/{owner}/{repo}/{path...}"
	installationTokenPrefix = "ghs_fake_"
)

// FaultKind says what an injected [Fault] does to a request.
type FaultKind int

const (
	// FaultServerError answers Fault.Status (default 502) without applying
	// the request.
	FaultServerError FaultKind = iota + 1
	// FaultTooManyRequests answers 429 with Retry-After (Fault.RetryAfter,
	// default 1 s) without applying the request.
	FaultTooManyRequests
	// FaultSecondaryRateLimit answers 403 with Retry-After and GitHub's
	// secondary-rate-limit message, without applying the request.
	FaultSecondaryRateLimit
	// FaultLatency waits Fault.Delay (real time), or until Fault.Until is
	// closed, whichever comes first, and then serves normally; a client
	// that gives up meanwhile gets nothing. Tests that order events use
	// Until: a latency in real time races a loaded machine.
	FaultLatency
	// FaultAmbiguous applies the request and then loses the answer: the
	// client gets a 500, or a dropped connection when Fault.Drop is set.
	FaultAmbiguous
	// FaultConnectionReset closes the connection without applying the
	// request or answering.
	FaultConnectionReset
)

// Fault is a failure to inject into the next matching requests.
type Fault struct {
	// Endpoint is the route pattern to match (an Endpoint constant); empty
	// matches every endpoint.
	Endpoint string
	Kind     FaultKind
	// Status is the status code of FaultServerError.
	Status int
	// RetryAfter is announced by FaultTooManyRequests and
	// FaultSecondaryRateLimit.
	RetryAfter time.Duration
	// Delay is the latency of FaultLatency; zero with Until set waits for
	// Until alone.
	Delay time.Duration
	// Until, when closed, ends the wait of FaultLatency.
	Until <-chan struct{}
	// Drop makes FaultAmbiguous drop the connection instead of answering 500.
	Drop bool
	// Times is how many matching requests the fault hits. Default 1.
	Times int
}

// InjectFault arms a fault for the next matching requests. Faults are
// consumed in the order they were injected.
func (f *Fake) InjectFault(fault Fault) {
	if fault.Times <= 0 {
		fault.Times = 1
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &fault)
}

// PendingFaults returns how many injected fault hits have not fired yet.
func (f *Fake) PendingFaults() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, ft := range f.faults {
		n += ft.Times
	}
	return n
}

func (f *Fake) takeFaultLocked(endpoint string) *Fault {
	for i, ft := range f.faults {
		if ft.Endpoint != "" && ft.Endpoint != endpoint {
			continue
		}
		ft.Times--
		if ft.Times <= 0 {
			f.faults = append(f.faults[:i], f.faults[i+1:]...)
		}
		c := *ft
		return &c
	}
	return nil
}
