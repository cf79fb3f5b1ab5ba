-- The durable outbox: every send is stored before it is attempted. `dedup_key` makes enqueue
-- idempotent; `lease_until` keeps two dispatchers from sending the same item at once.
CREATE TABLE outbox (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    target TEXT NOT NULL,
    dedup_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    subject TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_error TEXT,
    remote_id TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_subject ON outbox (subject);

-- The delivery log: one row per attempt, kept with the item.
CREATE TABLE outbox_attempts (
    outbox_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (outbox_id, attempt)
);

-- Targets paused because their credentials were revoked or expired.
CREATE TABLE outbox_targets (
    target TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    since BIGINT NOT NULL,
    reason TEXT
);
