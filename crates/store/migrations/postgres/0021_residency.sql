-- Data residency (G5): the region whose partition holds a message's personal content (text,
-- author, raw delivery, earlier texts) or a case's subject; NULL while it is held here. The
-- partitions' own tables are created when the store opens, from the configured regions.
ALTER TABLE messages ADD COLUMN placed_in TEXT;
ALTER TABLE cases ADD COLUMN placed_in TEXT;
-- Every region content was ever placed in, so that a store opened without one of them
-- configured refuses to start instead of showing blank messages.
CREATE TABLE placed_regions (region TEXT PRIMARY KEY);
