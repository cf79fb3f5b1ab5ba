-- Satisfaction surveys (D10) and quality review (D11).
--
-- Both are decided when a case is resolved, and saved with the resolution: the case workflow
-- writes a `survey.sent` or `qa.sampled` case event in the same transaction as the status
-- change, and the triggers below turn each event into its row. An event deduplicated away
-- (its `dedup` key already stored) inserts nothing, so it makes no row either: a resolution
-- has a survey exactly when its history says so, whatever retries or crashes in between.

-- A survey link. Only the SHA-256 of its token is kept; `resolution` counts the case's
-- resolutions (1 for the first, 2 after a reopen and a second resolve, …).
CREATE TABLE surveys (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    resolution INTEGER NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    UNIQUE (case_id, resolution)
);

-- The customer's answer: one per survey (the primary key refuses a second).
CREATE TABLE survey_answers (
    survey_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    csat INTEGER NOT NULL,
    nps INTEGER,
    ces INTEGER,
    comment TEXT,
    answered_at INTEGER NOT NULL
);
CREATE INDEX survey_answers_at ON survey_answers (answered_at);
CREATE INDEX survey_answers_case ON survey_answers (case_id, answered_at);

-- A case drawn for quality review, once per case; `scores` is the scorecard as scored (JSON
-- lines with the weights of the day), `total` its weighted share of the best score.
CREATE TABLE qa_reviews (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL UNIQUE,
    agent TEXT,
    reason TEXT NOT NULL,
    sampled_at INTEGER NOT NULL,
    reviewer TEXT,
    scores TEXT,
    total REAL,
    comment TEXT,
    reviewed_at INTEGER
);
CREATE INDEX qa_reviews_queue ON qa_reviews (reviewed_at, sampled_at);

CREATE TRIGGER surveys_from_case_events AFTER INSERT ON case_events
WHEN NEW.kind = 'survey.sent'
BEGIN
    INSERT INTO surveys (id, case_id, customer_id, resolution, token_hash, created_at, expires_at)
    SELECT json_extract(NEW.data, '$.survey_id'), NEW.case_id, c.customer_id,
           (SELECT COALESCE(MAX(s.resolution), 0) + 1 FROM surveys s WHERE s.case_id = NEW.case_id),
           json_extract(NEW.data, '$.token_sha256'), NEW.at,
           NEW.at + json_extract(NEW.data, '$.valid_days') * 86400000
    FROM cases c WHERE c.id = NEW.case_id
    ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER qa_reviews_from_case_events AFTER INSERT ON case_events
WHEN NEW.kind = 'qa.sampled'
BEGIN
    INSERT INTO qa_reviews (id, case_id, agent, reason, sampled_at)
    VALUES (json_extract(NEW.data, '$.review_id'), NEW.case_id, json_extract(NEW.data, '$.agent'),
            json_extract(NEW.data, '$.reason'), NEW.at)
    ON CONFLICT DO NOTHING;
END;

-- Erasure (which marks the customer `erased_at`) removes what the customer wrote in their
-- answers and closes their open links.
CREATE TRIGGER feedback_erased AFTER UPDATE OF erased_at ON customers
WHEN NEW.erased_at IS NOT NULL
BEGIN
    UPDATE survey_answers SET comment = NULL WHERE customer_id = NEW.id;
    UPDATE surveys SET expires_at = MIN(expires_at, NEW.erased_at) WHERE customer_id = NEW.id;
END;
