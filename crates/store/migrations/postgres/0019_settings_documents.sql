-- Settings operators change at run time, as versioned documents by kind: the workflow's
-- routing (`workflow.routing`: queues, agents, SLA policies and calendars, case rules,
-- escalations) and the retention policies (`privacy.retention`). Every version is kept; the
-- latest of a kind is in force. (kind, version) is the key, so two saves from the same base
-- cannot both land.
CREATE TABLE settings_documents (
    kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    document TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at BIGINT NOT NULL,
    PRIMARY KEY (kind, version)
);
