-- Messages are the durable log every other table is derived from: `seq` is arrival order,
-- `stage` says whether the pipeline has finished with the message.
CREATE TABLE messages (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    visibility TEXT NOT NULL,
    author_handle TEXT NOT NULL,
    author_name TEXT,
    author_followers BIGINT,
    author_verified BOOLEAN NOT NULL DEFAULT FALSE,
    text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    region TEXT,
    in_reply_to TEXT,
    metrics TEXT NOT NULL DEFAULT '{}',
    raw TEXT NOT NULL,
    stage TEXT NOT NULL DEFAULT 'received',
    language TEXT,
    language_confidence DOUBLE PRECISION,
    sentiment_compound DOUBLE PRECISION,
    sentiment_label TEXT,
    customer_id TEXT,
    case_id TEXT,
    processed_at BIGINT,
    UNIQUE (source, external_id)
);
CREATE INDEX messages_unprocessed ON messages (seq) WHERE stage = 'received';
CREATE INDEX messages_case ON messages (case_id, seq);

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    display_name TEXT,
    region TEXT,
    language TEXT,
    tier TEXT NOT NULL DEFAULT 'standard',
    lifetime_value DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- One row per handle; `key` is `platform:lowercased handle`.
CREATE TABLE identities (
    key TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    handle TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX identities_customer ON identities (customer_id);

CREATE TABLE queues (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    is_default BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO queues (id, name, is_default) VALUES ('q_00000000000000000000000001', 'general', TRUE);

CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    source TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    queue_id TEXT REFERENCES queues (id),
    subject TEXT NOT NULL,
    language TEXT,
    region TEXT,
    message_count BIGINT NOT NULL DEFAULT 1,
    last_sentiment DOUBLE PRECISION,
    opened_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_message_at BIGINT NOT NULL
);
CREATE INDEX cases_customer_open ON cases (customer_id, channel) WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX cases_status ON cases (status, id);
CREATE INDEX cases_queue ON cases (queue_id, id);

-- API keys are stored as SHA-256 of the key: keys are long random secrets, so a fast hash
-- is enough, and lookups stay cheap on every request.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE users (
    login TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
