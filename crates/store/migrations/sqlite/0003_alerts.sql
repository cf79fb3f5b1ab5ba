-- Alerts raised by listening: a watched series did something unusual in one time bucket.
-- One per series, kind and bucket, however many processes saw it.
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    series TEXT NOT NULL,
    kind TEXT NOT NULL,
    score REAL NOT NULL,
    bucket_start INTEGER NOT NULL,
    volume INTEGER NOT NULL,
    sentiment_mean REAL,
    raised_at INTEGER NOT NULL,
    UNIQUE (series, kind, bucket_start)
);
CREATE INDEX alerts_recent ON alerts (raised_at, id);
