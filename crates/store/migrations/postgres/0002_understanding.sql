-- The full understanding of each message (B3–B6): intent, urgency and why, emotion,
-- toxicity, the personal data found (byte offsets, JSON) and the data class it puts the
-- message in, watched terms found (JSON) and the operator-trained topic. Messages stored before this migration read as `standard` with no findings.
ALTER TABLE messages ADD COLUMN intent TEXT;
ALTER TABLE messages ADD COLUMN intent_confidence DOUBLE PRECISION;
ALTER TABLE messages ADD COLUMN urgency TEXT;
ALTER TABLE messages ADD COLUMN urgency_reasons TEXT;
ALTER TABLE messages ADD COLUMN emotion TEXT;
ALTER TABLE messages ADD COLUMN toxicity DOUBLE PRECISION;
ALTER TABLE messages ADD COLUMN data_class TEXT NOT NULL DEFAULT 'standard';
ALTER TABLE messages ADD COLUMN pii TEXT;
ALTER TABLE messages ADD COLUMN watch TEXT;
ALTER TABLE messages ADD COLUMN topic TEXT;
