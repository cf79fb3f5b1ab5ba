-- The operational status feed: the latest fact per kind, subject and region, with the time
-- its source observed it. An older report never replaces a newer one.
CREATE TABLE ops_facts (
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    region TEXT NOT NULL,
    value TEXT NOT NULL,
    source TEXT NOT NULL,
    source_time INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (kind, subject, region)
);
