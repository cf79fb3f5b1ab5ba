-- Reports (H1–H6) read only these rollups, never the facts, so a report costs the same at any
-- history size. The rollup stage tails the facts (case events, processed messages) past a
-- watermark and folds them in here in the transaction that moves the watermark, so a crash
-- or a second worker never folds a fact twice.

-- How far each rollup has folded its facts: `seq` of the last fact folded (and, on
-- PostgreSQL, the transaction that wrote it), and how many facts it folded in all.
CREATE TABLE rollup_marks (
    name TEXT PRIMARY KEY,
    txid INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL DEFAULT 0,
    folded INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL DEFAULT 0
);
-- `cases` folds case openings (a case is opened by a row, not an event), `kpi` case events,
-- `messages` processed messages.
INSERT INTO rollup_marks (name) VALUES ('cases'), ('kpi'), ('messages');

-- Service KPIs (H1): one row per UTC day and value of one dimension (`all`, `platform`,
-- `queue`, `team`, `agent`, `intent`, `region`, `tier`). `counters` holds the row's counters
-- as little-endian 64-bit integers in the order of `sb_store::reports::kpi_columns` — counts,
-- then per duration a count, a sum in milliseconds and twelve histogram buckets
-- (docs/METRICS.md). One value instead of 147 columns: a report over a year of days per agent
-- reads and adds them in Rust, far faster than 147 SQL aggregates per row. `backlog` repeats
-- the backlog change, which reports sum over all earlier days.
-- `day` counts days since 1970-01-01 (UTC), `month` months since January 1970.
CREATE TABLE kpi_rollup (
    dim TEXT NOT NULL,
    day INTEGER NOT NULL,
    value TEXT NOT NULL,
    month INTEGER NOT NULL,
    backlog INTEGER NOT NULL DEFAULT 0,
    counters BLOB NOT NULL,
    PRIMARY KEY (dim, day, value)
);

-- What the fold remembers about each case between facts (clock starts, first replies, the
-- dimensions its backlog entry was counted under), as the fold's own JSON.
CREATE TABLE kpi_cases (
    case_id TEXT PRIMARY KEY,
    state TEXT NOT NULL
);

-- Voice of the customer and volume (H2, H5): processed messages per UTC hour and value of
-- one dimension (`all`, `platform`, `intent`, `region`, `language`, `term`), with
-- the sentiment labels counted and the compound score summed in thousandths.
CREATE TABLE message_rollup (
    dim TEXT NOT NULL,
    hour INTEGER NOT NULL,
    value TEXT NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    positive INTEGER NOT NULL DEFAULT 0,
    neutral INTEGER NOT NULL DEFAULT 0,
    negative INTEGER NOT NULL DEFAULT 0,
    sentiment_milli INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, hour, value)
);
