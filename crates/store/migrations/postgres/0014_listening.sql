-- Disruption messaging (F2, F3): a message drafted from an incident for a segment of customers,
-- approved, then sent once per customer through the outbox. The draft's own record (template,
-- segment, decisions; nothing personal) is one JSON document; each customer's message is a
-- row of its own, so erasure can blank it and the export can find it.
CREATE TABLE disruptions (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX disruptions_incident ON disruptions (incident_id, id);

-- `excluded` names why a customer of the segment gets nothing (`opted_out`, `no_channel`,
-- `channel_not_configured`, `already_notified`); `outbox_id` is set when the message is queued.
CREATE TABLE disruption_recipients (
    disruption_id TEXT NOT NULL REFERENCES disruptions (id),
    customer_id TEXT NOT NULL,
    case_id TEXT,
    target TEXT,
    locale TEXT,
    template_version BIGINT,
    text TEXT NOT NULL DEFAULT '',
    -- The text with the customer's name and handle as `[redacted]`, for readers without
    -- `personal.read` (an approver in operations sees what is said, not to whom).
    preview TEXT NOT NULL DEFAULT '',
    payload TEXT NOT NULL DEFAULT '{}',
    fallbacks TEXT NOT NULL DEFAULT '[]',
    excluded TEXT,
    outbox_id TEXT,
    PRIMARY KEY (disruption_id, customer_id)
);
CREATE INDEX disruption_recipients_customer ON disruption_recipients (customer_id);

-- Alert silences (E4): an operator's "we know, stop paging" for a while. Every serving and
-- worker process loads the silences that have not ended into its rule engine at each sweep.
-- Ending one early sets `ends_at` to that moment; nothing is deleted, so the record stays.
CREATE TABLE alert_silences (
    id TEXT PRIMARY KEY,
    series TEXT,
    rule_id TEXT,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    ended_by TEXT
);
CREATE INDEX alert_silences_ends ON alert_silences (ends_at);
