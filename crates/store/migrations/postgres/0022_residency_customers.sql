-- Data residency (G5): the region whose partition holds the customer's display name; NULL
-- while it is held here.
ALTER TABLE customers ADD COLUMN placed_in TEXT;
