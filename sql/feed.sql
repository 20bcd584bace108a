-- The change feed (docs/feed.md): changes of tier, lifecycle stage and churn
-- flags as events with stable ids; consumers take them in the transaction
-- that handles them; NOTIFY only wakes them.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql
SET TimeZone = 'UTC';
SET client_min_messages = warning;
CREATE SCHEMA feedt;
CREATE TABLE feedt.orders (customer_id bigint, amount numeric, ordered_at timestamptz);
CREATE INDEX ON feedt.orders (customer_id);
INSERT INTO feedt.orders
SELECT c, 10 * c, now() - ((c * 37 + k * 11) % 300) * interval '1 day'
  FROM generate_series(1, 20) AS c, generate_series(1, 1 + c % 4) AS k;
-- The backfill is not a change of the customers: no event.
SELECT customer_tier.create_program('fd', 'feedt.orders', 'customer_id', 'amount', 'ordered_at') AS customers;
SELECT customer_tier.set_method('fd', 'rules') IS NOT NULL AS rules;
SELECT count(*) AS events FROM ct_fd.events;

-- Without a consumer, no event is kept: customer 2 spends into a better tier.
INSERT INTO feedt.orders VALUES (2, 5000, now());
SELECT count(*) AS events_without_consumers FROM ct_fd.events;

-- A consumer gets the events written after it registered.
SELECT customer_tier.register_consumer('fd', 'crm') AS waiting;
-- customer 3 spends into a better tier; customer 21 is new
INSERT INTO feedt.orders VALUES (3, 5000, now()), (21, 50, now());
SELECT id, customer, kind, detail, source FROM ct_fd.events ORDER BY id;
-- taken in a transaction that rolls back: given back
BEGIN;
SELECT event_id, customer, kind FROM customer_tier.consume_events('fd', 'crm', 1);
ROLLBACK;
-- taken and committed: gone for this consumer
SELECT event_id, customer, kind, detail FROM customer_tier.consume_events('fd', 'crm');
SELECT count(*) AS left_for_crm FROM customer_tier.consume_events('fd', 'crm');

-- A run with churn rules raises churn flags and moves lifecycle stages.
SELECT customer_tier.set_churn_rules('fd', '{"silent_gap_factor": 0.5, "lapsed_days": 30}') IS NOT NULL AS churn_rules;
SELECT kind, count(*) AS events FROM ct_fd.events WHERE id > 2 GROUP BY kind ORDER BY kind;
SELECT detail ? 'raised' AND detail ? 'cleared' AS churn_detail
  FROM ct_fd.events WHERE kind = 'churn_flags' LIMIT 1;
-- in batches, oldest first, no event twice
CREATE TEMP TABLE taken AS SELECT * FROM customer_tier.consume_events('fd', 'crm', 3);
SELECT count(*) AS first_batch, min(event_id) AS oldest FROM taken;
INSERT INTO taken SELECT * FROM customer_tier.consume_events('fd', 'crm', 1000);
SELECT count(*) = count(DISTINCT event_id) AS none_twice,
       count(*) = (SELECT count(*) FROM ct_fd.events WHERE id > 2) AS all_taken FROM taken;
DROP TABLE taken;

-- Consumers keep independent positions; replay_from gives the events kept.
SELECT customer_tier.register_consumer('fd', 'audit', replay_from => 1) = (SELECT count(*) FROM ct_fd.events) AS replayed;
SELECT count(*) = (SELECT count(*) FROM ct_fd.events) AS audit_gets_all FROM customer_tier.consume_events('fd', 'audit', 1000);
SELECT customer_tier.unregister_consumer('fd', 'audit') AS unregistered;

-- Retention: events follow the tier history's.  A consumer whose untaken
-- events are purged is stopped, not skipped ahead, until it is reset.
INSERT INTO feedt.orders VALUES (4, 9000, now());
SELECT count(*) AS waiting FROM ct_fd.event_deliveries;
UPDATE ct_fd.events SET happened_at = now() - interval '3 years';
SELECT customer_tier.purge('fd')->'events' > '0' AS purged;
SELECT * FROM customer_tier.consume_events('fd', 'crm');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.reset_consumer('fd', 'crm') AS reset;
SELECT count(*) AS after_reset FROM customer_tier.consume_events('fd', 'crm');

-- Bad calls.
CALL pg_temp.expect_errors('%s',
    $$SELECT * FROM customer_tier.consume_events('fd', 'nobody')$$,
    $$SELECT customer_tier.register_consumer('fd', 'crm')$$,
    $$SELECT customer_tier.register_consumer('fd', '')$$,
    $$SELECT * FROM customer_tier.consume_events('fd', 'crm', 0)$$,
    $$SELECT * FROM customer_tier.consume_events('fd', NULL)$$,
    $$SELECT * FROM customer_tier.consume_events('nope', 'crm')$$);

-- Roles: the writer (the CRM's workers) registers and consumes; the reader
-- (BI) reads no event.
GRANT USAGE ON SCHEMA feedt TO customer_tier_writer;
GRANT INSERT ON feedt.orders TO customer_tier_writer;
SET ROLE customer_tier_writer;
SELECT customer_tier.register_consumer('fd', 'worker') AS waiting;
INSERT INTO feedt.orders VALUES (5, 9000, now());
SELECT kind, detail FROM customer_tier.consume_events('fd', 'worker');
RESET ROLE;
SET ROLE customer_tier_reader;
SELECT * FROM customer_tier.consume_events('fd', 'worker');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM ct_fd.events;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- Once the last consumer is gone, events stop (the backend's cached answer
-- is dropped at once).
SELECT customer_tier.unregister_consumer('fd', c.name) FROM ct_fd.event_consumers AS c;
SELECT max(id) AS last_event FROM ct_fd.events \gset
INSERT INTO feedt.orders VALUES (22, 9000, now());
SELECT count(*) AS events_after_the_last_consumer FROM ct_fd.events WHERE id > :last_event;

SELECT customer_tier.drop_program('fd');
DROP SCHEMA feedt CASCADE;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
