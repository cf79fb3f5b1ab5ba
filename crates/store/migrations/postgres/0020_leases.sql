-- Named leases: one process at a time holds each (e.g. `listening`, which must see the
-- whole stream); a lease not renewed by `expires_at` may be taken by another process.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
