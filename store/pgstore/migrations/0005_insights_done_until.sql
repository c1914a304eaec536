-- What insights read instead of every document (tfpilot.InsightsStore).
-- done_until is an upper bound of the completion times of the request's
-- attempts, as tfpilot decodes them: the latest of them, or
-- 0001-01-01 when the request has none. Every write sets it. NULL means
-- not known (a row written before this migration, or by a statement
-- that does not set it): insights then read the document, so a NULL is
-- slow, never wrong. Rederive fills it in.
ALTER TABLE tfpilot_requests ADD COLUMN done_until timestamptz;
CREATE INDEX tfpilot_requests_done_until ON tfpilot_requests (done_until);
