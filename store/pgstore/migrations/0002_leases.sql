-- Named leases for leader election (tfpilot.LeaseStore). A row is kept
-- after release (holder '') so that fence only grows.
CREATE TABLE tfpilot_leases (
    name       text        PRIMARY KEY,
    holder     text        NOT NULL,
    fence      bigint      NOT NULL,
    expires_at timestamptz NOT NULL
);
