-- Satisfaction surveys (D10) and quality review (D11).
--
-- Both are decided when a case is resolved, and saved with the resolution: the case workflow
-- writes a `survey.sent` or `qa.sampled` case event in the same transaction as the status
-- change, and the trigger below turns each event into its row. An event deduplicated away
-- (its `dedup` key already stored) inserts nothing, so it makes no row either: a resolution
-- has a survey exactly when its history says so, whatever retries or crashes in between.

-- A survey link. Only the SHA-256 of its token is kept; `resolution` counts the case's
-- resolutions (1 for the first, 2 after a reopen and a second resolve, …).
CREATE TABLE surveys (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    resolution BIGINT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    UNIQUE (case_id, resolution)
);

-- The customer's answer: one per survey (the primary key refuses a second).
CREATE TABLE survey_answers (
    survey_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    csat BIGINT NOT NULL,
    nps BIGINT,
    ces BIGINT,
    comment TEXT,
    answered_at BIGINT NOT NULL
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
    sampled_at BIGINT NOT NULL,
    reviewer TEXT,
    scores TEXT,
    total DOUBLE PRECISION,
    comment TEXT,
    reviewed_at BIGINT
);
CREATE INDEX qa_reviews_queue ON qa_reviews (reviewed_at, sampled_at);

CREATE FUNCTION feedback_from_case_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d jsonb := NEW.data::jsonb;
BEGIN
    IF NEW.kind = 'survey.sent' THEN
        INSERT INTO surveys (id, case_id, customer_id, resolution, token_hash, created_at, expires_at)
        SELECT d ->> 'survey_id', NEW.case_id, c.customer_id,
               (SELECT COALESCE(MAX(s.resolution), 0) + 1 FROM surveys s WHERE s.case_id = NEW.case_id),
               d ->> 'token_sha256', NEW.at,
               NEW.at + (d ->> 'valid_days')::bigint * 86400000
        FROM cases c WHERE c.id = NEW.case_id
        ON CONFLICT DO NOTHING;
    ELSIF NEW.kind = 'qa.sampled' THEN
        INSERT INTO qa_reviews (id, case_id, agent, reason, sampled_at)
        VALUES (d ->> 'review_id', NEW.case_id, d ->> 'agent', d ->> 'reason', NEW.at)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER feedback_from_case_events AFTER INSERT ON case_events
FOR EACH ROW WHEN (NEW.kind IN ('survey.sent', 'qa.sampled'))
EXECUTE FUNCTION feedback_from_case_event();

-- Erasure (which marks the customer `erased_at`) removes what the customer wrote in their
-- answers and closes their open links.
CREATE FUNCTION feedback_erase_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE survey_answers SET comment = NULL WHERE customer_id = NEW.id;
    UPDATE surveys SET expires_at = LEAST(expires_at, NEW.erased_at) WHERE customer_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER feedback_erased AFTER UPDATE OF erased_at ON customers
FOR EACH ROW WHEN (NEW.erased_at IS NOT NULL)
EXECUTE FUNCTION feedback_erase_customer();
