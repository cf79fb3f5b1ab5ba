-- Case workflow (D1–D12): assignment, tags, SLA clocks, escalations and the case's history.
-- `version` guards concurrent changes: every writer reads it and saves only if nobody saved
-- since. `sla` is the case's clocks as one JSON document; `sla_due_at` is the next instant a
-- clock warns or breaches, so the sweep finds due cases through an index, not a scan.
ALTER TABLE cases ADD COLUMN assignee TEXT;
ALTER TABLE cases ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE cases ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN sla TEXT;
ALTER TABLE cases ADD COLUMN sla_due_at BIGINT;
ALTER TABLE cases ADD COLUMN escalations TEXT NOT NULL DEFAULT '[]';
ALTER TABLE cases ADD COLUMN first_response_at BIGINT;
ALTER TABLE cases ADD COLUMN first_resolved_at BIGINT;
ALTER TABLE cases ADD COLUMN resolved_at BIGINT;
ALTER TABLE cases ADD COLUMN merged_into TEXT;
CREATE INDEX cases_sla_due ON cases (sla_due_at) WHERE sla_due_at IS NOT NULL;
CREATE INDEX cases_assignee ON cases (assignee) WHERE assignee IS NOT NULL;

-- Work the case workflow still owes: one row per message placed in a case, written in the
-- same transaction as the placement and deleted in the same transaction as its effect, so
-- each effect happens exactly once whatever crashes in between.
CREATE TABLE case_work (
    seq BIGSERIAL PRIMARY KEY,
    case_id TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    opened BOOLEAN NOT NULL,
    at BIGINT NOT NULL,
    -- A process working the item holds it until then; after a crash another takes it over.
    leased_until BIGINT
);

-- Everything that happened to a case, in order: status, priority, tags, notes, assignment,
-- SLA clock transitions, escalations, replies, approvals, merges and splits.
CREATE TABLE case_events (
    seq BIGSERIAL PRIMARY KEY,
    case_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    data TEXT NOT NULL,
    dedup TEXT UNIQUE
);
CREATE INDEX case_events_case ON case_events (case_id, seq);

CREATE TABLE agent_presence (
    agent_id TEXT PRIMARY KEY,
    presence TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Replies written by agents or automation. A reply that needs approval waits here; every
-- version of its text is kept (D12).
CREATE TABLE replies (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    author TEXT NOT NULL,
    automated BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX replies_case ON replies (case_id, created_at);
CREATE INDEX replies_status ON replies (status, created_at);

CREATE TABLE template_versions (
    key TEXT NOT NULL,
    version BIGINT NOT NULL,
    state TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (key, version)
);

-- Identity resolution (C2): suggestions waiting for review, and merges that can be undone.
CREATE TABLE identity_suggestions (
    id TEXT PRIMARY KEY,
    customer_a TEXT NOT NULL,
    customer_b TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    UNIQUE (customer_a, customer_b)
);
CREATE TABLE customer_merges (
    id TEXT PRIMARY KEY,
    survivor TEXT NOT NULL,
    absorbed TEXT NOT NULL,
    record TEXT NOT NULL,
    merged_at BIGINT NOT NULL,
    undone_at BIGINT
);

-- A message joins its customer's open case, or reopens their resolved one, until it closes.
CREATE INDEX cases_customer_threadable ON cases (customer_id, channel) WHERE status <> 'closed';
