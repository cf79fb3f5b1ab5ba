-- Replies after sending (D12): a platform's notice that a post was edited or removed names
-- the post by the id the platform gave it, which the outbox keeps as `remote_id`.
CREATE INDEX outbox_remote_id ON outbox (remote_id) WHERE remote_id IS NOT NULL;
-- Automatic replies requested by rules are picked up by kind, in order.
CREATE INDEX case_events_kind ON case_events (kind, seq);
