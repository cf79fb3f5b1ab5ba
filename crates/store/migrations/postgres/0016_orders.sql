-- Traceable order tagging (F6): orders reported by the order system, tagged with where they
-- came from — the social case that led to them (and so its platform and customer) and the
-- campaign code of the link the customer followed — so fulfilment errors and returns can be
-- attributed to social channels and campaigns. One row per order; a later report of the same
-- order updates its outcome. `tags` is a JSON list such as ["origin:x", "campaign:spring"].
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY,
    case_id TEXT,
    customer_id TEXT,
    platform TEXT,
    campaign TEXT,
    value DOUBLE PRECISION,
    currency TEXT,
    outcome TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    placed_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX orders_placed ON orders (placed_at);
CREATE INDEX orders_customer ON orders (customer_id);
