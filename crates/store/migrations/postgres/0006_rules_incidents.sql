-- Alerts from operator rules carry their rule, severity and episode key, and end when the
-- rule's condition clears.
ALTER TABLE alerts ADD COLUMN rule_id TEXT;
ALTER TABLE alerts ADD COLUMN severity TEXT;
ALTER TABLE alerts ADD COLUMN dedup_key TEXT;
ALTER TABLE alerts ADD COLUMN summary TEXT;
ALTER TABLE alerts ADD COLUMN resolved_at BIGINT;
CREATE INDEX alerts_dedup ON alerts (dedup_key);

-- Incidents: the whole record (timeline, links, debrief) as one JSON document, with the
-- fields lists filter on beside it. `version` guards concurrent edits.
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL
);
