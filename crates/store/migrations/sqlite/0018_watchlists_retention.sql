-- Watchlist terms stored at run time (B6), and an index for reading retention runs (G4).
-- Watchlist terms added at run time (B6), on top of the configuration file's watchlist.
-- A term is unique per list ignoring case (`term_key`), since matching ignores case too.
-- `watch_terms_version` changes in the same transaction as every change, so each process
-- knows when to rebuild its watchlist.
CREATE TABLE watch_terms (
    list TEXT NOT NULL,
    term_key TEXT NOT NULL,
    term TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (list, term_key)
);
CREATE TABLE watch_terms_version (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
);
INSERT INTO watch_terms_version (id, version) VALUES (1, 0);

-- Retention runs are read back from the audit trail (the latest first) for the retention page.
CREATE INDEX audit_log_retention_runs ON audit_log (seq) WHERE action = 'retention.run';
