-- Platforms report edits and removals of messages they already delivered. The message row
-- shows the current state; every earlier text is kept here, in order, for audit.
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
ALTER TABLE messages ADD COLUMN removed_at BIGINT;

CREATE TABLE message_revisions (
    message_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    kind TEXT NOT NULL,
    previous_text TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, revision)
);
