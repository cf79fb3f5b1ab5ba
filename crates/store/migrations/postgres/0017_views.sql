-- Saved inbox views (I2): a named set of inbox filters, owned by the user or key that saved it;
-- a shared one is offered to everyone who reads the inbox. Names are unique per owner.
CREATE TABLE saved_views (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    filters TEXT NOT NULL,
    shared BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    UNIQUE (owner, name)
);
CREATE INDEX saved_views_shared ON saved_views (shared, name);
