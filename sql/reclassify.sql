-- The reclassification job: breakpoints and ABC classes of the whole
-- population, then every customer rescored in committed batches; every run
-- logged, a failed run logged as failed and the next one starting afresh.
CREATE EXTENSION customer_tier;
-- The runs' model fits fail on this population, with a NOTICE whose detail
-- depends on the milliseconds between the orders' now() and the run's;
-- churn.sql tests those messages.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
CREATE TABLE orders (customer_id integer, amount numeric(12,2), ordered_at timestamptz);
INSERT INTO orders
SELECT c, 10 * c, now() - ((21 - c) * 10 + k * 2) * interval '1 day'
  FROM generate_series(1, 20) AS c, generate_series(1, 1 + c / 4) AS k;
SELECT customer_tier.create_program('shop', 'orders', 'customer_id', 'amount', 'ordered_at') AS customers;

-- Big orders arrive for the three weakest customers: the triggers score them
-- against the stored breakpoints; only a run re-ranks the whole population.
SELECT customer_tier.configure_program('shop', downgrade_grace => '0');
INSERT INTO orders SELECT c, 1000, now() - k * interval '1 day' FROM generate_series(1, 3) AS c, generate_series(1, 4) AS k;
SELECT tier, count(*) FROM ct_shop.customers GROUP BY tier ORDER BY tier;
CALL customer_tier.reclassify('shop', batch_size => 7);
SELECT id, program, outcome, customers, batches, tier_changes, changes_by_tier, rejects, error,
       finished_at >= started_at AS timed
  FROM customer_tier.run ORDER BY id;
SELECT tier, count(*), min(abc_class), max(abc_class) FROM ct_shop.customers GROUP BY tier ORDER BY tier;
SELECT count(*) AS changes_by_the_run FROM ct_shop.tier_history WHERE source = 'run 1';
SELECT abc_class, count(*), sum(monetary) FROM ct_shop.customers GROUP BY 1 ORDER BY 1;
-- The run wrote the customers whose scores changed, and only those: a second
-- run over the same orders writes nobody (a customer who keeps its tier keeps
-- the reason it got it).
SELECT count(*) FILTER (WHERE changed_by = 'run 1') AS changed_by_run, count(*) AS customers FROM ct_shop.customers;
CALL customer_tier.reclassify('shop', batch_size => 7);
SELECT customers, tier_changes FROM customer_tier.run WHERE id = 2;
SELECT customer, tier_reason FROM ct_shop.customers WHERE changed_by = 'run 2' ORDER BY customer;

-- A run that fails part-way is logged as failed; the batches before it stand.
CREATE FUNCTION fail_on_customer_13() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'simulated failure on customer 13' USING ERRCODE = 'P0001';
END $$;
-- (customer 13's stored segment is made wrong, so that the run must write it)
UPDATE ct_shop.customers SET segment = 'tampered' WHERE customer = 13;
CREATE TRIGGER fail_13 BEFORE UPDATE ON ct_shop.customers
    FOR EACH ROW WHEN (NEW.customer = 13) EXECUTE FUNCTION fail_on_customer_13();
CALL customer_tier.reclassify('shop', batch_size => 5);
\echo :LAST_ERROR_SQLSTATE
SELECT id, outcome, customers, batches, error FROM customer_tier.run WHERE id = 3;
DROP TRIGGER fail_13 ON ct_shop.customers;
-- A run whose session ended is still marked running; the next run marks it failed.
INSERT INTO customer_tier.run (program, started_at) VALUES ('shop', now() - interval '1 hour');
CALL customer_tier.reclassify('shop');
SELECT id, outcome, customers, batches, error FROM customer_tier.run WHERE id >= 2 ORDER BY id;

-- Bad calls.
CALL customer_tier.reclassify('nope');
\echo :LAST_ERROR_SQLSTATE
CALL customer_tier.reclassify('shop', batch_size => 0);
\echo :LAST_ERROR_SQLSTATE
CALL customer_tier.reclassify(NULL);
\echo :LAST_ERROR_SQLSTATE

-- Scheduling needs pg_cron in this database; without it the hint says what to do.
SELECT customer_tier.schedule('shop', '0 3 * * *');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.schedule('nope', '0 3 * * *');
\echo :LAST_ERROR_SQLSTATE

-- create_program gives every customer its ABC class as a run does, so a run
-- right after it (same orders, same day, no model it can fit) writes nobody.
CREATE TABLE fresh_orders AS SELECT * FROM orders;
SELECT customer_tier.create_program('fresh', 'fresh_orders', 'customer_id', 'amount', 'ordered_at') AS customers;
SELECT count(*) FILTER (WHERE abc_class IS NULL) AS unclassed, count(*) AS customers FROM ct_fresh.customers;
CALL customer_tier.reclassify('fresh');
SELECT outcome, customers, tier_changes FROM customer_tier.run WHERE program = 'fresh';
SELECT count(*) FILTER (WHERE changed_by LIKE 'run %') AS written_by_the_first_run FROM ct_fresh.customers;
SELECT customer_tier.drop_program('fresh');
DROP TABLE fresh_orders;

SELECT * FROM customer_tier.verify_program('shop');
SELECT customer_tier.drop_program('shop');
SELECT count(*) AS runs_left FROM customer_tier.run;
DROP TABLE orders;
DROP FUNCTION fail_on_customer_13();
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
