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
SELECT customer_tier.drop_program('indexed');
CREATE TABLE crm.parted (customer_id int, amount numeric, ordered_at timestamptz) PARTITION BY RANGE (ordered_at);
SELECT customer_tier.customer_index_missing('crm.parted', 'customer_id');
CREATE INDEX ON crm.parted (customer_id);
SELECT customer_tier.customer_index_missing('crm.parted', 'customer_id') IS NULL AS has_index;

DROP SCHEMA crm CASCADE;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
