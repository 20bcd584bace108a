-- Programs attach to a CRM's own orders table; every misconfiguration is
-- refused up front with a message naming the culprit.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql
CREATE SCHEMA crm;
CREATE TABLE crm.orders (
    order_id    bigint GENERATED ALWAYS AS IDENTITY,
    customer_id bigint,
    amount      numeric(12,2),
    ordered_at  timestamptz,
    status      text,
    note        jsonb
);
CREATE VIEW crm.orders_view AS SELECT * FROM crm.orders;

-- Bad program names.
CALL pg_temp.expect_errors('SELECT customer_tier.create_program(%s)',
    $$NULL, 'crm.orders', 'customer_id', 'amount', 'ordered_at'$$,
    $$'Retail', 'crm.orders', 'customer_id', 'amount', 'ordered_at'$$,
    $$'a-b', 'crm.orders', 'customer_id', 'amount', 'ordered_at'$$);
-- Not a table.
SELECT customer_tier.create_program('retail', 'crm.orders_view', 'customer_id', 'amount', 'ordered_at');
\echo :LAST_ERROR_SQLSTATE
-- Unknown columns, each named.
CALL pg_temp.expect_errors('SELECT customer_tier.create_program(%s)',
    $$'retail', 'crm.orders', 'client', 'amount', 'ordered_at'$$,
    $$'retail', 'crm.orders', 'customer_id', 'total', 'ordered_at'$$,
    $$'retail', 'crm.orders', 'customer_id', 'amount', NULL$$);
-- Columns of the wrong type, each named with the accepted types.
CALL pg_temp.expect_errors('SELECT customer_tier.create_program(%s)',
    $$'retail', 'crm.orders', 'note', 'amount', 'ordered_at'$$,
    $$'retail', 'crm.orders', 'customer_id', 'status', 'ordered_at'$$,
    $$'retail', 'crm.orders', 'customer_id', 'amount', 'amount'$$);
-- Statuses: a status column needs the statuses that count, and the other way round.
SELECT customer_tier.create_program('retail', 'crm.orders', 'customer_id', 'amount', 'ordered_at',
                                    status_column => 'status');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.create_program('retail', 'crm.orders', 'customer_id', 'amount', 'ordered_at',
                                    counted_statuses => '{paid}');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.create_program('retail', 'crm.orders', 'customer_id', 'amount', 'ordered_at',
                                    status_column => 'status', counted_statuses => '{paid,NULL}');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.create_program('retail', 'crm.orders', 'customer_id', 'amount', 'ordered_at',
                                    status_column => 'state', counted_statuses => '{paid}');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.create_program('retail', 'crm.orders', 'customer_id', 'amount', 'ordered_at',
                                    order_id_column => 'id');
\echo :LAST_ERROR_SQLSTATE
-- Nothing was left behind by the refused calls.
SELECT count(*) AS programs FROM customer_tier.program;
SELECT count(*) AS schemas FROM pg_namespace WHERE nspname LIKE 'ct\_%';

-- A good program, then a duplicate.
SELECT customer_tier.create_program('retail', 'crm.orders', 'customer_id', 'amount', 'ordered_at',
                                    status_column => 'status', counted_statuses => '{paid,shipped}',
                                    order_id_column => 'order_id');
SELECT name, orders_table, customer_type, amount_type, ordered_at_type, counted_statuses, data_schema
  FROM customer_tier.program;
SELECT customer_tier.create_program('retail', 'crm.orders', 'customer_id', 'amount', 'ordered_at');
\echo :LAST_ERROR_SQLSTATE
-- Settings: configure_program says what is wrong; the table's checks back it up.
CALL pg_temp.expect_errors('SELECT customer_tier.configure_program(%s)',
    $$'retail', score_weights => '{1,-1,1}'$$, $$'retail', score_weights => '{0,0,0}'$$,
    $$'retail', score_weights => '{1,NaN,1}'$$, $$'retail', score_weights => '{1,1}'$$,
    $$'retail', downgrade_grace => '-1 day'$$, $$'retail', reject_mode => 'ignore'$$,
    $$'nope', reject_mode => 'error'$$);
\set VERBOSITY terse
UPDATE customer_tier.program SET score_weights = '{1,-1,1}' WHERE name = 'retail';
UPDATE customer_tier.program SET downgrade_grace = '-1 day' WHERE name = 'retail';
UPDATE customer_tier.program SET reject_mode = 'ignore' WHERE name = 'retail';
\set VERBOSITY default
SELECT customer_tier.configure_program('retail', score_weights => '{2,1,1}', downgrade_grace => '30 days');
SELECT score_weights, downgrade_grace, reject_mode FROM customer_tier.program WHERE name = 'retail';
-- A schema that is already taken.
CREATE SCHEMA ct_b2b;
SELECT customer_tier.create_program('b2b', 'crm.orders', 'customer_id', 'amount', 'ordered_at');
\echo :LAST_ERROR_SQLSTATE
DROP SCHEMA ct_b2b;

-- Dropping: an unknown program, then the real one; the CRM's table is untouched.
SELECT customer_tier.drop_program('nope');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.drop_program('retail');
SELECT count(*) AS programs FROM customer_tier.program;
SELECT count(*) AS schemas FROM pg_namespace WHERE nspname = 'ct_retail';
SELECT count(*) AS orders_columns FROM pg_attribute WHERE attrelid = 'crm.orders'::regclass AND attnum > 0;

-- The index a repair reads the orders of one customer through: create_program
-- warns when no valid, non-partial index leads with the customer column, with
-- the statement to run (no CONCURRENTLY on a partitioned table, which cannot
-- take it); it never creates one itself.
CREATE TABLE crm.indexed (customer_id int, amount numeric, ordered_at timestamptz);
CREATE INDEX ON crm.indexed (ordered_at, customer_id);
CREATE INDEX ON crm.indexed (customer_id) WHERE amount > 0;
CREATE INDEX ON crm.indexed ((customer_id + 0));
SELECT customer_tier.customer_index_missing('crm.indexed', 'customer_id');
CREATE INDEX indexed_customer ON crm.indexed (customer_id, ordered_at);
SELECT customer_tier.customer_index_missing('crm.indexed', 'customer_id') IS NULL AS has_index;
SELECT customer_tier.create_program('indexed', 'crm.indexed', 'customer_id', 'amount', 'ordered_at');
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'crm.indexed'::regclass;
-- The trigger path recomputes many customers at once (orders dated before
-- their latest) with one query planned for their number: without an index on
-- the customer column, one pass over the orders with the keys hashed.  A
-- generic plan, on a table not yet analyzed, read the whole table once per
-- key: a COPY that moved 10,000 customers' orders took 96 s.
SELECT customer_tier.program_recompute_sql(p) AS recompute FROM customer_tier.program AS p WHERE p.name = 'indexed' \gset
SELECT customer_tier.drop_program('indexed');
DROP INDEX crm.indexed_customer;
ALTER TABLE crm.indexed SET (autovacuum_enabled = off);
INSERT INTO crm.indexed SELECT i % 10000, 1, '2026-01-01'::timestamptz + i * interval '1 minute' FROM generate_series(1, 100000) AS i;
SELECT pg_catalog.array_agg(i)::text AS many_keys FROM generate_series(1, 2000) AS i \gset
PREPARE recompute (int[], int) AS :recompute;
CREATE FUNCTION crm.plan_nodes(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        IF line ~ '(Join|Loop|Scan)' AND line !~ '(Filter|Cond):' THEN
            RETURN NEXT line;
        END IF;
    END LOOP;
END
$$;
SET max_parallel_workers_per_gather = 0;
SET plan_cache_mode = force_custom_plan;
SELECT crm.plan_nodes(format('EXECUTE recompute(%L, 180)', :'many_keys')) AS planned_for_2000_keys;
RESET plan_cache_mode;
RESET max_parallel_workers_per_gather;
DEALLOCATE recompute;
-- the same through the trigger path: 10,000 customers' latest orders, then an
-- order of each dated before it, earlier than the 180 days a state keeps day
-- by day, in one statement (with a generic plan: over 10 s)
SELECT customer_tier.create_program('unindexed', 'crm.indexed', 'customer_id', 'amount', 'ordered_at') AS customers;
SELECT reltuples < 0 AS never_analyzed FROM pg_class WHERE oid = 'crm.indexed'::regclass;
INSERT INTO crm.indexed SELECT c, 1, '2027-01-01' FROM generate_series(0, 9999) AS c;
BEGIN;
INSERT INTO crm.indexed SELECT c, 2, '2026-02-01' FROM generate_series(0, 9999) AS c;
-- what the commit would apply, now, under a timeout (a commit is not timed)
SET LOCAL statement_timeout = '10s';
SELECT customer_tier.apply_pending();
COMMIT;
SELECT count(*) AS differences FROM customer_tier.verify_program('unindexed');
-- A statement of more rows than maintenance_work_mem holds at 8 bytes each
-- (131,072 at 1MB) is grouped per customer by sorting, not hashing: memory
-- that does not grow with the rows (docs/programs.md, "Memory").
SET maintenance_work_mem = '1MB';
INSERT INTO crm.indexed SELECT i % 10000, 3, '2027-02-01'::timestamptz + i * interval '1 second' FROM generate_series(1, 150000) AS i;
RESET maintenance_work_mem;
SELECT count(*) AS differences FROM customer_tier.verify_program('unindexed');
SELECT customer_tier.drop_program('unindexed');
CREATE TABLE crm.parted (customer_id int, amount numeric, ordered_at timestamptz) PARTITION BY RANGE (ordered_at);
SELECT customer_tier.customer_index_missing('crm.parted', 'customer_id');
CREATE INDEX ON crm.parted (customer_id);
SELECT customer_tier.customer_index_missing('crm.parted', 'customer_id') IS NULL AS has_index;

DROP SCHEMA crm CASCADE;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
