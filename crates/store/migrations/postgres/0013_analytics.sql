-- Reports (H1–H6) read only these rollups, never the facts, so a report costs the same at any
-- history size. The rollup stage tails the facts (case events, processed messages) past a
-- watermark and folds them in here in the transaction that moves the watermark, so a crash
-- or a second worker never folds a fact twice.

-- How far each rollup has folded its facts: `seq` of the last fact folded (and, on
-- PostgreSQL, the transaction that wrote it), and how many facts it folded in all.
CREATE TABLE rollup_marks (
    name TEXT PRIMARY KEY,
    txid BIGINT NOT NULL DEFAULT 0,
    seq BIGINT NOT NULL DEFAULT 0,
    folded BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL DEFAULT 0
);
-- `cases` folds case openings (a case is opened by a row, not an event), `kpi` case events,
-- `messages` processed messages.
INSERT INTO rollup_marks (name) VALUES ('cases'), ('kpi'), ('messages');

-- Service KPIs (H1): one row per UTC day and value of one dimension (`all`, `platform`,
-- `queue`, `team`, `agent`, `intent`, `region`, `tier`), with counters and, per
-- duration, a count, a sum in milliseconds and twelve histogram buckets (docs/METRICS.md).
-- `day` counts days since 1970-01-01 (UTC), `month` months since January 1970.
CREATE TABLE kpi_rollup (
    dim TEXT NOT NULL,
    day BIGINT NOT NULL,
    value TEXT NOT NULL,
    month BIGINT NOT NULL,
    opened BIGINT NOT NULL DEFAULT 0,
    reopened BIGINT NOT NULL DEFAULT 0,
    resolved BIGINT NOT NULL DEFAULT 0,
    backlog BIGINT NOT NULL DEFAULT 0,
    replies BIGINT NOT NULL DEFAULT 0,
    sla_fr_fulfilled BIGINT NOT NULL DEFAULT 0,
    sla_fr_met BIGINT NOT NULL DEFAULT 0,
    sla_nr_fulfilled BIGINT NOT NULL DEFAULT 0,
    sla_nr_met BIGINT NOT NULL DEFAULT 0,
    sla_res_fulfilled BIGINT NOT NULL DEFAULT 0,
    sla_res_met BIGINT NOT NULL DEFAULT 0,
    sla_breaches BIGINT NOT NULL DEFAULT 0,
    fcr_closed BIGINT NOT NULL DEFAULT 0,
    fcr_yes BIGINT NOT NULL DEFAULT 0,
    csat_n BIGINT NOT NULL DEFAULT 0,
    csat_sat BIGINT NOT NULL DEFAULT 0,
    nps_n BIGINT NOT NULL DEFAULT 0,
    nps_pro BIGINT NOT NULL DEFAULT 0,
    nps_det BIGINT NOT NULL DEFAULT 0,
    ces_n BIGINT NOT NULL DEFAULT 0,
    ces_sum BIGINT NOT NULL DEFAULT 0,
    first_response_cal_n BIGINT NOT NULL DEFAULT 0,
    first_response_cal_sum BIGINT NOT NULL DEFAULT 0,
    first_response_cal_h0 BIGINT NOT NULL DEFAULT 0,
    first_response_cal_h1 BIGINT NOT NULL DEFAULT 0,
    first_response_cal_h2 BIGINT NOT NULL DEFAULT 0,
    first_response_cal_h3 BIGINT NOT NULL DEFAULT 0,
    first_response_cal_h4 BIGINT NOT NULL DEFAULT 0,
    first_response_cal_h5 BIGINT NOT NULL DEFAULT 0,
    first_response_cal_h6 BIGINT NOT NULL DEFAULT 0,
    first_response_cal_h7 BIGINT NOT NULL DEFAULT 0,
    first_response_cal_h8 BIGINT NOT NULL DEFAULT 0,
    first_response_cal_h9 BIGINT NOT NULL DEFAULT 0,
    first_response_cal_h10 BIGINT NOT NULL DEFAULT 0,
    first_response_cal_h11 BIGINT NOT NULL DEFAULT 0,
    first_response_bus_n BIGINT NOT NULL DEFAULT 0,
    first_response_bus_sum BIGINT NOT NULL DEFAULT 0,
    first_response_bus_h0 BIGINT NOT NULL DEFAULT 0,
    first_response_bus_h1 BIGINT NOT NULL DEFAULT 0,
    first_response_bus_h2 BIGINT NOT NULL DEFAULT 0,
    first_response_bus_h3 BIGINT NOT NULL DEFAULT 0,
    first_response_bus_h4 BIGINT NOT NULL DEFAULT 0,
    first_response_bus_h5 BIGINT NOT NULL DEFAULT 0,
    first_response_bus_h6 BIGINT NOT NULL DEFAULT 0,
    first_response_bus_h7 BIGINT NOT NULL DEFAULT 0,
    first_response_bus_h8 BIGINT NOT NULL DEFAULT 0,
    first_response_bus_h9 BIGINT NOT NULL DEFAULT 0,
    first_response_bus_h10 BIGINT NOT NULL DEFAULT 0,
    first_response_bus_h11 BIGINT NOT NULL DEFAULT 0,
    next_response_cal_n BIGINT NOT NULL DEFAULT 0,
    next_response_cal_sum BIGINT NOT NULL DEFAULT 0,
    next_response_cal_h0 BIGINT NOT NULL DEFAULT 0,
    next_response_cal_h1 BIGINT NOT NULL DEFAULT 0,
    next_response_cal_h2 BIGINT NOT NULL DEFAULT 0,
    next_response_cal_h3 BIGINT NOT NULL DEFAULT 0,
    next_response_cal_h4 BIGINT NOT NULL DEFAULT 0,
    next_response_cal_h5 BIGINT NOT NULL DEFAULT 0,
    next_response_cal_h6 BIGINT NOT NULL DEFAULT 0,
    next_response_cal_h7 BIGINT NOT NULL DEFAULT 0,
    next_response_cal_h8 BIGINT NOT NULL DEFAULT 0,
    next_response_cal_h9 BIGINT NOT NULL DEFAULT 0,
    next_response_cal_h10 BIGINT NOT NULL DEFAULT 0,
    next_response_cal_h11 BIGINT NOT NULL DEFAULT 0,
    next_response_bus_n BIGINT NOT NULL DEFAULT 0,
    next_response_bus_sum BIGINT NOT NULL DEFAULT 0,
    next_response_bus_h0 BIGINT NOT NULL DEFAULT 0,
    next_response_bus_h1 BIGINT NOT NULL DEFAULT 0,
    next_response_bus_h2 BIGINT NOT NULL DEFAULT 0,
    next_response_bus_h3 BIGINT NOT NULL DEFAULT 0,
    next_response_bus_h4 BIGINT NOT NULL DEFAULT 0,
    next_response_bus_h5 BIGINT NOT NULL DEFAULT 0,
    next_response_bus_h6 BIGINT NOT NULL DEFAULT 0,
    next_response_bus_h7 BIGINT NOT NULL DEFAULT 0,
    next_response_bus_h8 BIGINT NOT NULL DEFAULT 0,
    next_response_bus_h9 BIGINT NOT NULL DEFAULT 0,
    next_response_bus_h10 BIGINT NOT NULL DEFAULT 0,
    next_response_bus_h11 BIGINT NOT NULL DEFAULT 0,
    first_resolution_cal_n BIGINT NOT NULL DEFAULT 0,
    first_resolution_cal_sum BIGINT NOT NULL DEFAULT 0,
    first_resolution_cal_h0 BIGINT NOT NULL DEFAULT 0,
    first_resolution_cal_h1 BIGINT NOT NULL DEFAULT 0,
    first_resolution_cal_h2 BIGINT NOT NULL DEFAULT 0,
    first_resolution_cal_h3 BIGINT NOT NULL DEFAULT 0,
    first_resolution_cal_h4 BIGINT NOT NULL DEFAULT 0,
    first_resolution_cal_h5 BIGINT NOT NULL DEFAULT 0,
    first_resolution_cal_h6 BIGINT NOT NULL DEFAULT 0,
    first_resolution_cal_h7 BIGINT NOT NULL DEFAULT 0,
    first_resolution_cal_h8 BIGINT NOT NULL DEFAULT 0,
    first_resolution_cal_h9 BIGINT NOT NULL DEFAULT 0,
    first_resolution_cal_h10 BIGINT NOT NULL DEFAULT 0,
    first_resolution_cal_h11 BIGINT NOT NULL DEFAULT 0,
    first_resolution_bus_n BIGINT NOT NULL DEFAULT 0,
    first_resolution_bus_sum BIGINT NOT NULL DEFAULT 0,
    first_resolution_bus_h0 BIGINT NOT NULL DEFAULT 0,
    first_resolution_bus_h1 BIGINT NOT NULL DEFAULT 0,
    first_resolution_bus_h2 BIGINT NOT NULL DEFAULT 0,
    first_resolution_bus_h3 BIGINT NOT NULL DEFAULT 0,
    first_resolution_bus_h4 BIGINT NOT NULL DEFAULT 0,
    first_resolution_bus_h5 BIGINT NOT NULL DEFAULT 0,
    first_resolution_bus_h6 BIGINT NOT NULL DEFAULT 0,
    first_resolution_bus_h7 BIGINT NOT NULL DEFAULT 0,
    first_resolution_bus_h8 BIGINT NOT NULL DEFAULT 0,
    first_resolution_bus_h9 BIGINT NOT NULL DEFAULT 0,
    first_resolution_bus_h10 BIGINT NOT NULL DEFAULT 0,
    first_resolution_bus_h11 BIGINT NOT NULL DEFAULT 0,
    full_resolution_cal_n BIGINT NOT NULL DEFAULT 0,
    full_resolution_cal_sum BIGINT NOT NULL DEFAULT 0,
    full_resolution_cal_h0 BIGINT NOT NULL DEFAULT 0,
    full_resolution_cal_h1 BIGINT NOT NULL DEFAULT 0,
    full_resolution_cal_h2 BIGINT NOT NULL DEFAULT 0,
    full_resolution_cal_h3 BIGINT NOT NULL DEFAULT 0,
    full_resolution_cal_h4 BIGINT NOT NULL DEFAULT 0,
    full_resolution_cal_h5 BIGINT NOT NULL DEFAULT 0,
    full_resolution_cal_h6 BIGINT NOT NULL DEFAULT 0,
    full_resolution_cal_h7 BIGINT NOT NULL DEFAULT 0,
    full_resolution_cal_h8 BIGINT NOT NULL DEFAULT 0,
    full_resolution_cal_h9 BIGINT NOT NULL DEFAULT 0,
    full_resolution_cal_h10 BIGINT NOT NULL DEFAULT 0,
    full_resolution_cal_h11 BIGINT NOT NULL DEFAULT 0,
    full_resolution_bus_n BIGINT NOT NULL DEFAULT 0,
    full_resolution_bus_sum BIGINT NOT NULL DEFAULT 0,
    full_resolution_bus_h0 BIGINT NOT NULL DEFAULT 0,
    full_resolution_bus_h1 BIGINT NOT NULL DEFAULT 0,
    full_resolution_bus_h2 BIGINT NOT NULL DEFAULT 0,
    full_resolution_bus_h3 BIGINT NOT NULL DEFAULT 0,
    full_resolution_bus_h4 BIGINT NOT NULL DEFAULT 0,
    full_resolution_bus_h5 BIGINT NOT NULL DEFAULT 0,
    full_resolution_bus_h6 BIGINT NOT NULL DEFAULT 0,
    full_resolution_bus_h7 BIGINT NOT NULL DEFAULT 0,
    full_resolution_bus_h8 BIGINT NOT NULL DEFAULT 0,
    full_resolution_bus_h9 BIGINT NOT NULL DEFAULT 0,
    full_resolution_bus_h10 BIGINT NOT NULL DEFAULT 0,
    full_resolution_bus_h11 BIGINT NOT NULL DEFAULT 0,
    handle_cal_n BIGINT NOT NULL DEFAULT 0,
    handle_cal_sum BIGINT NOT NULL DEFAULT 0,
    handle_cal_h0 BIGINT NOT NULL DEFAULT 0,
    handle_cal_h1 BIGINT NOT NULL DEFAULT 0,
    handle_cal_h2 BIGINT NOT NULL DEFAULT 0,
    handle_cal_h3 BIGINT NOT NULL DEFAULT 0,
    handle_cal_h4 BIGINT NOT NULL DEFAULT 0,
    handle_cal_h5 BIGINT NOT NULL DEFAULT 0,
    handle_cal_h6 BIGINT NOT NULL DEFAULT 0,
    handle_cal_h7 BIGINT NOT NULL DEFAULT 0,
    handle_cal_h8 BIGINT NOT NULL DEFAULT 0,
    handle_cal_h9 BIGINT NOT NULL DEFAULT 0,
    handle_cal_h10 BIGINT NOT NULL DEFAULT 0,
    handle_cal_h11 BIGINT NOT NULL DEFAULT 0,
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
    hour BIGINT NOT NULL,
    value TEXT NOT NULL,
    n BIGINT NOT NULL DEFAULT 0,
    positive BIGINT NOT NULL DEFAULT 0,
    neutral BIGINT NOT NULL DEFAULT 0,
    negative BIGINT NOT NULL DEFAULT 0,
    sentiment_milli BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, hour, value)
);

-- A sequence number is taken before its transaction commits, so on PostgreSQL a fact with a
-- lower `seq` can become visible after one with a higher `seq`. Facts are therefore folded
-- in (writing transaction, seq) order, and only those whose transaction is older than every
-- transaction still running: that order never lets a late commit slip behind the watermark.
ALTER TABLE case_events ADD COLUMN txid BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX case_events_fold ON case_events (txid, seq);
ALTER TABLE messages ADD COLUMN txid BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX messages_fold ON messages (txid, seq);
CREATE INDEX messages_unprocessed_fold ON messages (txid, seq) WHERE stage = 'received';
-- Cases have no sequence of their own; SQLite folds them by rowid.
ALTER TABLE cases ADD COLUMN fold_seq BIGINT GENERATED BY DEFAULT AS IDENTITY;
ALTER TABLE cases ADD COLUMN txid BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX cases_fold ON cases (txid, fold_seq);
