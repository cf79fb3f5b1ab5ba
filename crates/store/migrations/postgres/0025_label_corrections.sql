-- Agents' corrections of what the understanding stage said about a message (B3), kept as the
-- labelled examples of the next `switchboard nlp train`. One label per message and task; the
-- text is read from the message when the examples are exported, so an erased message drops
-- out of them.
CREATE TABLE label_corrections (
    message_id TEXT NOT NULL,
    task TEXT NOT NULL,
    label TEXT NOT NULL,
    previous TEXT,
    corrected_by TEXT NOT NULL,
    corrected_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, task)
);
CREATE INDEX label_corrections_task ON label_corrections (task, corrected_at);
