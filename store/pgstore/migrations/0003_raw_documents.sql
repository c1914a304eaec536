-- The exact text of a request document whose JSONB form would differ
-- from it: jsonb rewrites numbers (1e+21 becomes 1000000000000000000000)
-- and refuses U+0000 and lone surrogates (\u0000, \ud800). For such a
-- document doc holds a JSONB-safe copy (those escapes replaced by
-- \ufffd) that lists and filters use, and raw holds the document as
-- written, which is what reads return. NULL when doc is exact.
ALTER TABLE tfpilot_requests ADD COLUMN raw text;
ALTER TABLE tfpilot_request_history ADD COLUMN raw text;
