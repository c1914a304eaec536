package s3store

import (
	"strconv"
	"strings"
	"time"

	"github.com/tfpilot/tfpilot/runs"
	"github.com/tfpilot/tfpilot/store"
)

// Key prefixes. Every key is under the store's Options.Prefix. The first
// group is the original TfPilot's layout, kept unchanged; the second is
// what this package adds, all under "tfpilot/".
const (
	requestsDir   = "requests/"
	historyDir    = "history/"
	logsDir       = "logs/"
	runIndexDir   = "webhooks/github/run-index/"
	prIndexDir    = "webhooks/github/pr-index/"
	deliveriesDir = "webhooks/github/deliveries/"
	rateLimitDir  = "webhooks/github/ratelimit/"
	costDir       = "cost/"

	listDir        = "tfpilot/list/"
	eventIDsDir    = "tfpilot/event-ids/"
	idempotencyDir = "tfpilot/idempotency/"
)

// Cost document names under cost/<id>/, as infracost uploads them.
const (
	costEstimateName = "infracost-cost.json"
	costDiffName     = "infracost-diff.json"
)

func (s *Store) requestKey(id string) string { return s.prefix + requestsDir + id + ".json" }
func (s *Store) historyKey(id string) string { return s.prefix + historyDir + id + ".json" }

// eventDir is the prefix of a request's events: logs/<id>/.
func (s *Store) eventDir(requestID string) string { return s.prefix + logsDir + requestID + "/" }

// eventKey is logs/<id>/<ts>_<eventID>.json: the time first so that keys
// sort in time order, the event id so that two events of one instant do
// not collide.
func (s *Store) eventKey(requestID string, ts time.Time, eventID string) string {
	return s.eventDir(requestID) + ts.UTC().Format(eventTimeLayout) + "_" + keyPart(eventID) + ".json"
}

// eventTimeLayout is fixed-width so that keys sort chronologically.
const eventTimeLayout = "2006-01-02T15:04:05.000000000Z"

func (s *Store) eventIDKey(requestID, eventID string) string {
	return s.prefix + eventIDsDir + requestID + "/" + keyPart(eventID) + ".json"
}

func (s *Store) runIndexKey(kind runs.Kind, runID int64) string {
	return s.prefix + runIndexDir + string(kind) + "/run-" + strconv.FormatInt(runID, 10) + ".json"
}

func (s *Store) prIndexKey(pr store.PRRef) string {
	return s.prefix + prIndexDir + keyPart(pr.Owner) + "_" + keyPart(pr.Repo) + "/pr-" + strconv.Itoa(pr.Number) + ".json"
}

func (s *Store) deliveryKey(id string) string {
	return s.prefix + deliveriesDir + keyPart(id) + ".json"
}

// rateLimitKey is global.json for the global scope and owner_repo.json
// for "owner/repo", as the original wrote them.
func (s *Store) rateLimitKey(scope string) string {
	if owner, repo, ok := strings.Cut(scope, "/"); ok {
		return s.prefix + rateLimitDir + keyPart(owner) + "_" + keyPart(repo) + ".json"
	}
	return s.prefix + rateLimitDir + keyPart(scope) + ".json"
}

func (s *Store) costKey(requestID, name string) string {
	return s.prefix + costDir + requestID + "/" + name
}

func (s *Store) idempotencyKey(operation, key string) string {
	return s.prefix + idempotencyDir + keyPart(operation) + "/" + keyPart(key) + ".json"
}
