-- The exact text of an event document whose JSONB form would differ
-- from it (U+0000, lone surrogates, number text JSONB rewrites), as
-- 0003 keeps for requests: doc holds the JSONB-safe copy, raw the
-- document as written, which is what reads return. NULL when doc is
-- exact.
ALTER TABLE tfpilot_events ADD COLUMN raw text;
-- The document of a delivery that holds fields tfpilot.Delivery does
-- not model (a legacy bucket's extra fields), as written, so that
-- export returns them. The columns stay authoritative for what the
-- store models; NULL for a delivery without such fields.
ALTER TABLE tfpilot_deliveries ADD COLUMN raw text;
