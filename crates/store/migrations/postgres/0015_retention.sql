-- Retention (H3): in which months each customer wrote, folded by the message rollup stage
-- with the rest of the message rollup (same transaction, same watermark). `month` counts
-- months since January 1970 (UTC). A customer's cohort is the month of the first of their
-- messages the stage folded; `cohort_activity` counts, per cohort and month, the customers of
-- that cohort who wrote in that month, so cohort curves read a few rows at any history size.
-- Erasure removes a customer's rows from the first two tables; the counts stay.
CREATE TABLE customer_cohorts (
    customer_id TEXT PRIMARY KEY,
    cohort BIGINT NOT NULL
);
CREATE TABLE customer_months (
    customer_id TEXT NOT NULL,
    month BIGINT NOT NULL,
    PRIMARY KEY (customer_id, month)
);
CREATE TABLE cohort_activity (
    cohort BIGINT NOT NULL,
    month BIGINT NOT NULL,
    customers BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (cohort, month)
);

-- Messages folded before this table existed.
INSERT INTO customer_months (customer_id, month)
SELECT DISTINCT m.customer_id,
       ((EXTRACT(YEAR FROM to_timestamp(m.created_at / 1000.0) AT TIME ZONE 'UTC') - 1970) * 12
        + EXTRACT(MONTH FROM to_timestamp(m.created_at / 1000.0) AT TIME ZONE 'UTC') - 1)::BIGINT
FROM messages m, rollup_marks k
WHERE k.name = 'messages' AND m.customer_id IS NOT NULL AND m.erased_at IS NULL
  AND (m.txid, m.seq) <= (k.txid, k.seq);
INSERT INTO customer_cohorts (customer_id, cohort)
SELECT customer_id, MIN(month) FROM customer_months GROUP BY customer_id;
INSERT INTO cohort_activity (cohort, month, customers)
SELECT c.cohort, m.month, COUNT(*) FROM customer_months m
JOIN customer_cohorts c ON c.customer_id = m.customer_id
GROUP BY c.cohort, m.month;
