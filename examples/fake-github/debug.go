package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/tfpilot/tfpilot/githubx/githubtest"
	"github.com/tfpilot/tfpilot/runs"
)

// DebugPrefix is where the debug API is served, beside the fake GitHub
// API on the same address.
const DebugPrefix = "/_debug/"

// debugRun is a run as the debug API lists it, with the inputs tfpilot
// correlates it by.
type debugRun struct {
	ID           int64             `json:"id"`
	Owner        string            `json:"owner"`
	Repo         string            `json:"repo"`
	Workflow     string            `json:"workflow"`
	DisplayTitle string            `json:"displayTitle"`
	Event        string            `json:"event"`
	Status       string            `json:"status"`
	Conclusion   string            `json:"conclusion,omitempty"`
	HeadBranch   string            `json:"headBranch"`
	HeadSHA      string            `json:"headSha"`
	RequestID    string            `json:"requestId,omitempty"`
	Nonce        string            `json:"nonce,omitempty"`
	Inputs       map[string]string `json:"inputs"`
}

// faultSpec is a fault as the debug API takes it.
type faultSpec struct {
	// Endpoint is a githubtest Endpoint constant, or one of the short
	// names in endpointNames; empty matches every endpoint.
	Endpoint string `json:"endpoint"`
	// Kind is one of the names in faultKinds.
	Kind       string `json:"kind"`
	Status     int    `json:"status,omitempty"`
	RetryAfter string `json:"retryAfter,omitempty"`
	Delay      string `json:"delay,omitempty"`
	Drop       bool   `json:"drop,omitempty"`
	Times      int    `json:"times,omitempty"`
}

var faultKinds = map[string]githubtest.FaultKind{
	"server_error":         githubtest.FaultServerError,
	"too_many_requests":    githubtest.FaultTooManyRequests,
	"secondary_rate_limit": githubtest.FaultSecondaryRateLimit,
	"latency":              githubtest.FaultLatency,
	"ambiguous":            githubtest.FaultAmbiguous,
	"connection_reset":     githubtest.FaultConnectionReset,
}

var endpointNames = map[string]string{
	"dispatch":      githubtest.EndpointDispatch,
	"workflow_runs": githubtest.EndpointWorkflowRuns,
	"repo_runs":     githubtest.EndpointRepoRuns,
	"get_run":       githubtest.EndpointGetRun,
	"create_pull":   githubtest.EndpointCreatePull,
	"merge_pull":    githubtest.EndpointMergePull,
	"get_pull":      githubtest.EndpointGetPull,
	"update_ref":    githubtest.EndpointUpdateRef,
	"create_commit": githubtest.EndpointCreateCommit,
}

func (s *service) toFault(spec faultSpec) (githubtest.Fault, error) {
	kind, ok := faultKinds[spec.Kind]
	if !ok {
		return githubtest.Fault{}, fmt.Errorf("unknown fault kind %q", spec.Kind)
	}
	ep := spec.Endpoint
	if full, ok := endpointNames[ep]; ok {
		ep = full
	}
	ft := githubtest.Fault{Endpoint: ep, Kind: kind, Status: spec.Status, Drop: spec.Drop, Times: spec.Times}
	for _, d := range []struct {
		s   string
		dst *time.Duration
	}{{spec.RetryAfter, &ft.RetryAfter}, {spec.Delay, &ft.Delay}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return githubtest.Fault{}, fmt.Errorf("duration %q: %w", d.s, err)
		}
		*d.dst = v
	}
	return ft, nil
}

// debugHandler serves the debug API:
//
//	GET  /_debug/runs            every run of every repository, oldest first
//	GET  /_debug/deliveries      every webhook delivery and its outcome per target
//	GET  /_debug/calls           requests per endpoint, and rate-limit units spent
//	GET  /_debug/faults          fault hits still armed
//	POST /_debug/faults          arm a fault (a faultSpec), or a list of them
//	GET  /_debug/runs-list-lag   the lag of the run lists
//	PUT  /_debug/runs-list-lag   set it: {"lag":"2s"}
//	POST /_debug/flush           wait until every delivery was posted
func (s *service) debugHandler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /_debug/runs", func(w http.ResponseWriter, r *http.Request) {
		out := []debugRun{}
		for _, rp := range s.repos {
			for _, run := range s.fake.Runs(rp.owner, rp.name) {
				out = append(out, debugRun{ID: run.ID, Owner: run.Owner, Repo: run.Repo, Workflow: run.WorkflowFile,
					DisplayTitle: run.DisplayTitle, Event: run.Event, Status: run.Status, Conclusion: run.Conclusion,
					HeadBranch: run.HeadBranch, HeadSHA: run.HeadSHA, RequestID: run.Inputs[runs.InputRequestID],
					Nonce: run.Inputs[runs.InputNonce], Inputs: run.Inputs})
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
		writeJSON(w, http.StatusOK, map[string]any{"runs": out})
	})
	m.HandleFunc("GET /_debug/deliveries", func(w http.ResponseWriter, r *http.Request) {
		var out []delivery
		if s.fanout != nil {
			out = s.fanout.deliveries()
		} else {
			for _, d := range s.fake.Deliveries() {
				out = append(out, delivery{ID: d.ID, Event: d.Event, Action: d.Action})
			}
		}
		if out == nil {
			out = []delivery{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"deliveries": out})
	})
	m.HandleFunc("GET /_debug/calls", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"calls": s.fake.Calls(), "rateLimitSpent": s.fake.RateLimitSpent()})
	})
	m.HandleFunc("GET /_debug/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"pending": s.fake.PendingFaults()})
	})
	m.HandleFunc("POST /_debug/faults", func(w http.ResponseWriter, r *http.Request) {
		var raw json.RawMessage
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&raw); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
			return
		}
		var specs []faultSpec
		if err := json.Unmarshal(raw, &specs); err != nil {
			var one faultSpec
			if err := json.Unmarshal(raw, &one); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
				return
			}
			specs = []faultSpec{one}
		}
		faults := make([]githubtest.Fault, 0, len(specs))
		for _, sp := range specs {
			ft, err := s.toFault(sp)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
				return
			}
			faults = append(faults, ft)
		}
		for _, ft := range faults {
			s.fake.InjectFault(ft)
		}
		writeJSON(w, http.StatusOK, map[string]any{"pending": s.fake.PendingFaults()})
	})
	m.HandleFunc("GET /_debug/runs-list-lag", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"lag": s.fake.RunsListLag().String()})
	})
	m.HandleFunc("PUT /_debug/runs-list-lag", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Lag string `json:"lag"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
			return
		}
		d, err := time.ParseDuration(body.Lag)
		if err != nil || d < 0 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf("lag %q: want a duration >= 0", body.Lag)})
			return
		}
		s.fake.SetRunsListLag(d)
		writeJSON(w, http.StatusOK, map[string]any{"lag": d.String()})
	})
	m.HandleFunc("POST /_debug/flush", func(w http.ResponseWriter, r *http.Request) {
		if err := s.fake.Flush(r.Context()); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": err.Error()})
			return
		}
		if s.fanout != nil {
			if err := s.fanout.flush(r.Context()); err != nil {
				writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": err.Error()})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"flushed": true})
	})
	m.HandleFunc(DebugPrefix, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "no such debug endpoint: " + r.Method + " " + r.URL.Path})
	})
	return m
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
