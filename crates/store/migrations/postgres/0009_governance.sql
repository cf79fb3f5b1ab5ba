-- Governance (G1–G4): scoped keys that rotate with an overlap, browser sessions, the audit
-- chain, legal holds and erasure marks.

-- `scopes` narrows a key below its role (JSON array of permissions; NULL = what the role
-- allows). A rotated key names its successor and expires after the overlap window.
ALTER TABLE api_keys ADD COLUMN scopes TEXT;
ALTER TABLE api_keys ADD COLUMN rotated_to TEXT;
-- Data residency (G5): the regions whose customers a key or user may read (JSON array; NULL =
-- every region).
ALTER TABLE api_keys ADD COLUMN regions TEXT;
ALTER TABLE users ADD COLUMN regions TEXT;
ALTER TABLE users ADD COLUMN disabled_at BIGINT;

-- A browser session: only the SHA-256 of its cookie is kept, with the CSRF token it was issued.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    login TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_login ON sessions (login);

-- The audit trail: each entry's hash covers its fields, the digest of its detail and the
-- previous entry's hash. Erasure may clear `detail` (before/after values) but never the
-- digest, so the chain still verifies. `audit_head` is the last append, which reveals a
-- truncated tail.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT,
    action TEXT NOT NULL,
    subject TEXT,
    customer_id TEXT,
    origin TEXT,
    outcome INTEGER NOT NULL,
    detail TEXT,
    detail_digest TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_customer ON audit_log (customer_id, seq) WHERE customer_id IS NOT NULL;
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- A legal hold (its reason) blocks retention and erasure for the customer.
ALTER TABLE customers ADD COLUMN legal_hold TEXT;
ALTER TABLE customers ADD COLUMN erased_at BIGINT;
-- When retention or erasure removed the message's personal content.
ALTER TABLE messages ADD COLUMN erased_at BIGINT;

-- Consent (G6): a customer's opt-out from automated outreach, per channel (platform). Kept
-- through erasure: an opt-out must outlive the data it was given with.
CREATE TABLE consents (
    customer_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    opted_out INTEGER NOT NULL,
    source TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, channel)
);
