-- Data residency (G5): what agents, automation and customers write about a placed case — its
-- history's notes, handovers and reasons (`case_events.data`), its replies (`replies.doc`),
-- their deliveries once sent or given up (`outbox.payload`) and survey comments
-- (`survey_answers.comment`) — and, for a placed customer, the disruption messages drafted
-- for them (`disruption_recipients.text`, `.payload`) and the detail of audit entries about
-- them (`audit_log.detail`; its digest stays in the chain) and the records of merges into
-- them (`customer_merges.record`) are held whole in the region's
-- partition. The central row keeps a copy with personal strings blanked (labels, kinds and
-- times stay for reports). `place_to` marks a row written here in full for a placed owner and
-- not yet moved; `placed_in` names the partition once it is.
ALTER TABLE case_events ADD COLUMN placed_in TEXT;
ALTER TABLE case_events ADD COLUMN place_to TEXT;
ALTER TABLE replies ADD COLUMN placed_in TEXT;
ALTER TABLE replies ADD COLUMN place_to TEXT;
CREATE INDEX case_events_place_to ON case_events (place_to) WHERE place_to IS NOT NULL;
CREATE INDEX replies_place_to ON replies (place_to) WHERE place_to IS NOT NULL;
ALTER TABLE outbox ADD COLUMN placed_in TEXT;
ALTER TABLE outbox ADD COLUMN place_to TEXT;
CREATE INDEX outbox_place_to ON outbox (place_to) WHERE place_to IS NOT NULL;
ALTER TABLE survey_answers ADD COLUMN placed_in TEXT;
ALTER TABLE survey_answers ADD COLUMN place_to TEXT;
ALTER TABLE disruption_recipients ADD COLUMN placed_in TEXT;
ALTER TABLE disruption_recipients ADD COLUMN place_to TEXT;
CREATE INDEX survey_answers_place_to ON survey_answers (place_to) WHERE place_to IS NOT NULL;
CREATE INDEX disruption_recipients_place_to ON disruption_recipients (place_to)
    WHERE place_to IS NOT NULL;
ALTER TABLE audit_log ADD COLUMN placed_in TEXT;
ALTER TABLE audit_log ADD COLUMN place_to TEXT;
CREATE INDEX audit_log_place_to ON audit_log (place_to) WHERE place_to IS NOT NULL;
ALTER TABLE customer_merges ADD COLUMN placed_in TEXT;
ALTER TABLE customer_merges ADD COLUMN place_to TEXT;
CREATE INDEX customer_merges_place_to ON customer_merges (place_to) WHERE place_to IS NOT NULL;
