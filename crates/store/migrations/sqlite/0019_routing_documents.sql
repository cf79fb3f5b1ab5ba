-- The workflow's routing document (queues, agents, SLA policies and calendars, case rules,
-- escalations) as operators save it at run time. Every version is kept; the latest is in
-- force. `version` is the key, so two saves from the same base cannot both land.
CREATE TABLE routing_documents (
    version INTEGER PRIMARY KEY,
    document TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at INTEGER NOT NULL
);
