-- Requests: the document as JSONB (without its version, which is the
-- version column) beside the columns that lists filter and sort on.
-- status is derived at the last write (tfpilot derives status, it never
-- reads it back as a fact); updated_at is the store's clock at that write.
CREATE TABLE tfpilot_requests (
    id          text        PRIMARY KEY,
    project     text        NOT NULL,
    environment text        NOT NULL,
    status      text        NOT NULL,
    received_at timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    version     bigint      NOT NULL,
    doc         jsonb       NOT NULL
);
-- Keyset pagination newest first, unfiltered and per filter.
CREATE INDEX tfpilot_requests_newest ON tfpilot_requests (received_at DESC, id DESC);
CREATE INDEX tfpilot_requests_project_newest ON tfpilot_requests (project, environment, received_at DESC, id DESC);
CREATE INDEX tfpilot_requests_environment_newest ON tfpilot_requests (environment, received_at DESC, id DESC);
CREATE INDEX tfpilot_requests_status_newest ON tfpilot_requests (status, received_at DESC, id DESC);

-- Archived requests, moved here from tfpilot_requests in one transaction.
CREATE TABLE tfpilot_request_history (
    id          text        PRIMARY KEY,
    project     text        NOT NULL,
    environment text        NOT NULL,
    received_at timestamptz NOT NULL,
    archived_at timestamptz NOT NULL,
    version     bigint      NOT NULL,
    doc         jsonb       NOT NULL
);

-- Lifecycle events, append-only; ids are unique per request.
CREATE TABLE tfpilot_events (
    request_id text        NOT NULL,
    id         text        NOT NULL,
    ts         timestamptz NOT NULL,
    doc        jsonb       NOT NULL,
    PRIMARY KEY (request_id, id)
);
CREATE INDEX tfpilot_events_in_order ON tfpilot_events (request_id, ts, id);

CREATE TABLE tfpilot_run_index (
    kind       text        NOT NULL,
    run_id     bigint      NOT NULL,
    request_id text        NOT NULL,
    indexed_at timestamptz NOT NULL,
    PRIMARY KEY (kind, run_id)
);

CREATE TABLE tfpilot_pr_index (
    owner      text        NOT NULL,
    repo       text        NOT NULL,
    number     integer     NOT NULL,
    request_id text        NOT NULL,
    indexed_at timestamptz NOT NULL,
    PRIMARY KEY (owner, repo, number)
);

-- Webhook deliveries: the primary key is the claim.
CREATE TABLE tfpilot_deliveries (
    id           text        PRIMARY KEY,
    event        text        NOT NULL,
    claimed_at   timestamptz NOT NULL,
    completed_at timestamptz,
    outcome      text        NOT NULL DEFAULT ''
);

CREATE TABLE tfpilot_idempotency (
    operation   text        NOT NULL,
    key         text        NOT NULL,
    fingerprint text        NOT NULL,
    request_id  text        NOT NULL,
    response    bytea,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (operation, key)
);

CREATE TABLE tfpilot_rate_limits (
    scope  text        PRIMARY KEY,
    until  timestamptz NOT NULL,
    reason text        NOT NULL
);

-- Cost documents kept byte for byte as the uploader wrote them.
CREATE TABLE tfpilot_costs (
    request_id text PRIMARY KEY,
    estimate   bytea,
    diff       bytea
);
