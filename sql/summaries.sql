-- Summaries without a hot row (docs/views.md, "Summaries"): tier_summary and
-- segment_summary sum the program's summary_deltas, which every write of the
-- customers adds to; after each kind of write they match the customers.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET client_min_messages = warning;
CREATE SCHEMA sum;
CREATE TABLE sum.orders (id bigint GENERATED ALWAYS AS IDENTITY, customer_id bigint, amount numeric, ordered_at timestamptz);
CREATE INDEX ON sum.orders (customer_id);
INSERT INTO sum.orders (customer_id, amount, ordered_at)
SELECT c, 5 + (c * 37 + k * 11) % 400, now() - ((c * 13 + k * 29) % 700) * interval '1 day'
  FROM generate_series(1, 60) AS c, generate_series(1, 1 + c % 7) AS k;

-- The summaries against the customers they count: verify_program's
-- problem 'summary' lists the groups that differ.
CREATE VIEW sum.summary_problems AS
SELECT count(*) AS summary_problems FROM customer_tier.verify_program('sp') WHERE problem = 'summary';
-- The backfill of create_program.
SELECT customer_tier.create_program('sp', 'sum.orders', 'customer_id', 'amount', 'ordered_at') AS customers;
-- tier_summary as the customers give it (value scores to 9 decimals: a
-- sum of exact numerics against a floating-point average)
CREATE VIEW sum.tier_summary_differences AS
WITH shown AS (SELECT tier, customers, revenue, avg_monetary, round(avg_value_score::numeric, 9) AS avg_value_score, at_risk
                 FROM ct_sp.tier_summary WHERE customers > 0),
     counted AS (SELECT c.tier, count(*) AS customers, sum(c.monetary) AS revenue, avg(c.monetary) AS avg_monetary,
                        round(avg(c.value_score)::numeric, 9) AS avg_value_score,
                        count(*) FILTER (WHERE cardinality(c.churn_flags) > 0 AND c.lifecycle IS DISTINCT FROM 'lost') AS at_risk
                   FROM ct_sp.customers AS c GROUP BY c.tier),
     segments_shown AS (SELECT segment, customers, revenue FROM ct_sp.segment_summary),
     segments_counted AS (SELECT c.segment, count(*) AS customers, sum(c.monetary) AS revenue
                            FROM ct_sp.customers AS c GROUP BY c.segment)
SELECT (SELECT count(*) FROM ((TABLE shown EXCEPT TABLE counted) UNION ALL (TABLE counted EXCEPT TABLE shown)) AS t)
     + (SELECT count(*) FROM ((TABLE segments_shown EXCEPT TABLE segments_counted)
                              UNION ALL (TABLE segments_counted EXCEPT TABLE segments_shown)) AS g) AS differences;
SELECT * FROM sum.summary_problems, sum.tier_summary_differences;
-- A run, with its churn flags: some customers are on the churn list.
SELECT customer_tier.set_churn_rules('sp', '{"silent_gap_factor": 2}') IS NOT NULL AS churn_rules;
CALL customer_tier.reclassify('sp');
SELECT * FROM sum.summary_problems, sum.tier_summary_differences;
SELECT sum(at_risk) > 0 AS some_at_risk, sum(customers) AS customers FROM ct_sp.tier_summary;
-- The run folded the deltas: one row per group.
SELECT count(*) = count(DISTINCT (tier, segment, at_risk)) AS folded FROM ct_sp.summary_deltas;
-- Orders through the trigger path: new customers, more orders, an update
-- moving an order between customers, deletes that empty a customer.
INSERT INTO sum.orders (customer_id, amount, ordered_at) VALUES (101, 5000, now()), (102, 3, now()), (5, 900, now());
UPDATE sum.orders SET customer_id = 7 WHERE customer_id = 8 AND amount > 100;
DELETE FROM sum.orders WHERE customer_id IN (9, 102);
SELECT * FROM sum.summary_problems, sum.tier_summary_differences;
-- Two statements in one transaction, one row written twice.
BEGIN;
INSERT INTO sum.orders (customer_id, amount, ordered_at) VALUES (11, 2000, now());
UPDATE sum.orders SET amount = amount + 1 WHERE customer_id = 11;
COMMIT;
SELECT * FROM sum.summary_problems, sum.tier_summary_differences;
-- A pin, a contact, a rebuild, an erasure.
SELECT customer_tier.pin_customer('sp', '12', 'diamond', 'key account') IS NOT NULL AS pinned;
SELECT customer_tier.log_contact('sp', '13', 'phone') > 0 AS logged;
SELECT customer_tier.rebuild_program('sp') AS customers;
DELETE FROM sum.orders WHERE customer_id = 14;
SELECT customer_tier.forget('sp', '14') IS NOT NULL AS forgotten;
SELECT * FROM sum.summary_problems, sum.tier_summary_differences;
-- A fold changes no sum.
SELECT customer_tier.compact_summary('ct_sp.summary_deltas', true);
SELECT * FROM sum.summary_problems, sum.tier_summary_differences;
-- The summaries read summary_deltas, not the customers.
EXPLAIN (COSTS OFF) SELECT customers FROM ct_sp.segment_summary;
-- A write the summaries did not see is a problem verify_program reports.
INSERT INTO ct_sp.summary_deltas VALUES ('gold', 'Champions', false, 1, 10, 0, 0);
SELECT problem, maintained->>'customers' AS kept, recomputed->>'customers' AS counted
  FROM customer_tier.verify_program('sp') WHERE problem = 'summary';
DELETE FROM ct_sp.summary_deltas WHERE (tier, segment, customers, revenue) = ('gold', 'Champions', 1, 10);
-- A TRUNCATE of the orders empties the customers and the summaries.
TRUNCATE sum.orders;
SELECT count(*) AS deltas FROM ct_sp.summary_deltas;
SELECT tier, customers, at_risk FROM ct_sp.tier_summary;
-- The trigger function serves a program's customers table only.
CREATE TABLE sum.other (tier text);
CREATE TRIGGER t AFTER INSERT ON sum.other FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.customers_changed();
INSERT INTO sum.other VALUES ('gold');
\echo :LAST_ERROR_SQLSTATE

DROP VIEW sum.tier_summary_differences;
SELECT customer_tier.drop_program('sp');
DROP SCHEMA sum CASCADE;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
