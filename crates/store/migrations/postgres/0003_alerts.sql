-- Alerts raised by listening: a watched series did something unusual in one time bucket.
-- One per series, kind and bucket, however many processes saw it.
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    series TEXT NOT NULL,
    kind TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    bucket_start BIGINT NOT NULL,
    volume BIGINT NOT NULL,
    sentiment_mean DOUBLE PRECISION,
    raised_at BIGINT NOT NULL,
    UNIQUE (series, kind, bucket_start)
);
CREATE INDEX alerts_recent ON alerts (raised_at, id);
