-- The tier migration matrix between two reclassification runs:
-- ct_<program>.migration_between_runs(from_run, to_run) resolves each run to
-- the time it finished and returns migration(from, to) at those two times;
-- ct_<program>.last_run_migration shows it for the two latest succeeded runs.
CREATE EXTENSION customer_tier;
-- The runs' model fits fail on this population, with a NOTICE whose detail
-- depends on the milliseconds between the orders' now() and the run's;
-- churn.sql tests those messages.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql
CREATE TABLE orders (customer_id integer, amount numeric(12,2), ordered_at timestamptz);
INSERT INTO orders
SELECT c, 10 * c, now() - ((21 - c) * 10 + k * 2) * interval '1 day'
  FROM generate_series(1, 20) AS c, generate_series(1, 1 + c / 4) AS k;
SELECT customer_tier.create_program('shop', 'orders', 'customer_id', 'amount', 'ordered_at') AS customers;
SELECT customer_tier.configure_program('shop', downgrade_grace => '0');

-- Before two runs have succeeded the dashboard view is empty.
SELECT count(*) AS rows_before_any_run FROM ct_shop.last_run_migration;
CALL customer_tier.reclassify('shop');
SELECT count(*) AS rows_after_one_run FROM ct_shop.last_run_migration;
SELECT tier, count(*) AS customers, sum(monetary) AS revenue FROM ct_shop.customers GROUP BY tier ORDER BY tier;

-- Between the runs: the three weakest customers place big orders (the
-- triggers upgrade them at once), two new customers arrive, and the run
-- re-ranks the whole population (others fall behind the new money).
INSERT INTO orders SELECT c, 1000, now() - k * interval '1 day' FROM generate_series(1, 3) AS c, generate_series(1, 4) AS k;
INSERT INTO orders VALUES (21, 5, now()), (22, 5000, now());
CALL customer_tier.reclassify('shop');
SELECT id, outcome, customers, tier_changes, changes_by_tier FROM customer_tier.run ORDER BY id;

-- The matrix: every customer who had a tier when run 2 finished, by the
-- tier after run 1 (NULL: new since) and the tier after run 2; the revenue
-- is the customers' net monetary value today.
SELECT * FROM ct_shop.migration_between_runs(1, 2);
-- It counts every customer once.
SELECT sum(customers) AS customers, sum(revenue) AS revenue FROM ct_shop.migration_between_runs(1, 2);
SELECT count(*) AS customers, sum(monetary) AS revenue FROM ct_shop.customers;
-- It is migration() at the two finish times, row for row.
SELECT count(*) AS differences FROM (
    (SELECT * FROM ct_shop.migration_between_runs(1, 2)
     EXCEPT ALL
     SELECT * FROM ct_shop.migration((SELECT finished_at FROM customer_tier.run WHERE id = 1),
                                     (SELECT finished_at FROM customer_tier.run WHERE id = 2)))
    UNION ALL
    (SELECT * FROM ct_shop.migration((SELECT finished_at FROM customer_tier.run WHERE id = 1),
                                     (SELECT finished_at FROM customer_tier.run WHERE id = 2))
     EXCEPT ALL
     SELECT * FROM ct_shop.migration_between_runs(1, 2))) AS d;

-- The dashboard view: the same matrix for the two latest succeeded runs.
SELECT from_run, to_run, from_finished_at < to_finished_at AS in_order,
       from_tier, to_tier, movement, customers, revenue
  FROM ct_shop.last_run_migration;

-- A run against itself: everyone unchanged, on the diagonal.
SELECT from_tier, to_tier, movement, customers FROM ct_shop.migration_between_runs(2, 2);

-- Bad calls: each names what is wrong and how to list the runs.
CALL pg_temp.expect_errors('SELECT * FROM ct_shop.migration_between_runs(%s)',
    '2, 1', '1, NULL', 'NULL, NULL', '1, 99', '-1, 2');

-- A run of another program (run 3) is refused.
CREATE TABLE other_orders (customer_id bigint, amount numeric, ordered_at timestamptz);
INSERT INTO other_orders VALUES (1, 10, now()), (2, 20, now());
SELECT customer_tier.create_program('other', 'other_orders', 'customer_id', 'amount', 'ordered_at') AS customers;
CALL customer_tier.reclassify('other');
SELECT * FROM ct_shop.migration_between_runs(1, 3);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS other_program_rows FROM ct_other.last_run_migration;

-- A failed run (4) and a run still running (5) are refused: neither is a
-- complete reclassification.
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
DROP TRIGGER fail_13 ON ct_shop.customers;
DROP FUNCTION fail_on_customer_13();
SELECT * FROM ct_shop.migration_between_runs(1, 4);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO customer_tier.run (program) VALUES ('shop');
SELECT * FROM ct_shop.migration_between_runs(5, 2);
\echo :LAST_ERROR_SQLSTATE
-- The view skips them: it still compares runs 1 and 2.
SELECT DISTINCT from_run, to_run FROM ct_shop.last_run_migration;
DELETE FROM customer_tier.run WHERE id = 5;

-- BI may read both (the reader role), the CRM application may not.
SET ROLE customer_tier_reader;
SELECT sum(customers) AS customers FROM ct_shop.migration_between_runs(1, 2);
SELECT count(*) > 0 AS reader_sees_view FROM ct_shop.last_run_migration;
SET ROLE customer_tier_writer;
SELECT * FROM ct_shop.last_run_migration;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ct_shop.migration_between_runs(1, 2);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- drop_program removes them with the other views.
SELECT customer_tier.drop_program('shop');
SELECT customer_tier.drop_program('other');
SELECT count(*) AS schemas_left FROM pg_namespace WHERE nspname IN ('ct_shop', 'ct_other');
DROP TABLE orders;
DROP TABLE other_orders;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
