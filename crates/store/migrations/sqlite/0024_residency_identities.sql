-- Data residency (G5): the platform handles of a placed customer. The handle text is held in
-- the region's partition (`identity_content`); the central row keeps the platform and the
-- customer, and its `key` becomes a keyed hash of `platform:handle` under a secret held in the
-- partition, so ingest still finds the customer from a handle without the central tables
-- naming it. `place_to` marks an identity of a placed customer not yet moved; `placed_in`
-- names the partition once it is.
ALTER TABLE identities ADD COLUMN placed_in TEXT;
ALTER TABLE identities ADD COLUMN place_to TEXT;
CREATE INDEX identities_place_to ON identities (place_to) WHERE place_to IS NOT NULL;
