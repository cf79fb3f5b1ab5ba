-- Merging customers (C2): what each merge moved (message, case and consent ids, filled
-- fields — never the people themselves, who are in `record`), so that undoing it gives
-- exactly that back.
ALTER TABLE customer_merges ADD COLUMN moved TEXT NOT NULL DEFAULT '{}';
-- Whether a customer is absorbed by a merge still in force is asked on every merge and scan.
CREATE INDEX customer_merges_absorbed ON customer_merges (absorbed) WHERE undone_at IS NULL;
CREATE INDEX identity_suggestions_status ON identity_suggestions (status, id);
