-- order_stats under parallel query, and its state type shipped as text and as bytes.
BEGIN;
CREATE EXTENSION customer_tier;
SELECT no_plan();

SET LOCAL TimeZone = 'UTC';
-- ~50k orders for 5,000 customers, one of them (customer 0) with ~10k orders.
CREATE TABLE os_orders (order_id int, customer int, ordered_at timestamptz, amount numeric(12,2));
INSERT INTO os_orders
SELECT i,
       CASE WHEN i % 5 = 0 THEN 0 ELSE (hashint4(i) & 2147483647) % 5000 END,
       timestamptz '2021-01-01' + ((hashint4(i + 7) & 2147483647) % (3 * 365 * 86400)) * interval '1 second',
       round(((hashint4(i + 13) & 2147483647) % 1000000)::numeric / 100 - 100, 2)
  FROM generate_series(1, 50000) i;
ANALYZE os_orders;

-- pg_temp.plan_of(query, options): the plan text of a query, for matching;
-- EXPLAIN ANALYZE here, to see the workers launched and a hash aggregate spill.
\ir fixtures/plan_of.sql
\set analyzed '''ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF'''

-- Force parallel plans.
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_leader_participation = off;

SELECT matches(pg_temp.plan_of('SELECT customer_tier.order_stats(ordered_at, amount) FROM os_orders', :analyzed),
               'Partial Aggregate', 'a whole-table order_stats is split into partial aggregates');
SELECT matches(pg_temp.plan_of('SELECT customer_tier.order_stats(ordered_at, amount) FROM os_orders', :analyzed),
               'Workers Launched: [12]', 'and parallel workers really ran it (states shipped as bytes)');
SELECT matches(pg_temp.plan_of('SELECT customer, customer_tier.order_stats(ordered_at, amount) FROM os_orders GROUP BY customer', :analyzed),
               'Partial (Hash|Group)?Aggregate', 'a GROUP BY customer order_stats is split into partial aggregates');

CREATE TEMP TABLE os_parallel AS
SELECT customer, (customer_tier.order_stats(ordered_at, amount)).* FROM os_orders GROUP BY customer;
CREATE TEMP TABLE os_whole_parallel AS
SELECT (customer_tier.order_stats(ordered_at, amount)).* FROM os_orders;

-- With the leader taking part, its own partial states reach the finalize step
-- as read-only expanded pointers, not as bytes.
SET LOCAL parallel_leader_participation = on;
CREATE TEMP TABLE os_parallel_leader AS
SELECT customer, (customer_tier.order_stats(ordered_at, amount)).* FROM os_orders GROUP BY customer;

SET LOCAL max_parallel_workers_per_gather = 0;
SELECT doesnt_match(pg_temp.plan_of('SELECT customer_tier.order_stats(ordered_at, amount) FROM os_orders', :analyzed),
                    'Partial', 'with parallel query off the plan is serial');
CREATE TEMP TABLE os_serial AS
SELECT customer, (customer_tier.order_stats(ordered_at, amount)).* FROM os_orders GROUP BY customer;

SELECT results_eq('SELECT * FROM os_parallel ORDER BY customer', 'SELECT * FROM os_serial ORDER BY customer',
                  'per customer: parallel and serial results are equal');
SELECT results_eq('SELECT * FROM os_parallel_leader ORDER BY customer', 'SELECT * FROM os_serial ORDER BY customer',
                  'per customer: parallel with the leader taking part and serial results are equal');
SELECT results_eq(
    'SELECT customer, orders, monetary, first_order, last_order FROM os_parallel ORDER BY customer',
    'SELECT customer, count(*), sum(amount), min(ordered_at), max(ordered_at) FROM os_orders GROUP BY customer ORDER BY customer',
    'per customer: orders, monetary, first and last order equal count, sum, min and max');
SELECT results_eq(
    'SELECT orders, monetary, first_order, last_order FROM os_whole_parallel',
    'SELECT count(*), sum(amount), min(ordered_at), max(ordered_at) FROM os_orders',
    'whole table in parallel: count, sum, min and max');
SELECT ok((SELECT abs(mean_gap_days - (SELECT avg(gap) FROM
              (SELECT extract(epoch FROM ordered_at - lag(ordered_at) OVER (ORDER BY ordered_at))::float8 / 86400 AS gap
                 FROM os_orders WHERE customer = 0) g)) < 1e-12
             FROM os_parallel WHERE customer = 0),
          'the mean gap equals the average of the consecutive gaps computed with lag()');
SELECT ok((SELECT abs(gap_stddev_days - (SELECT stddev_samp(gap) FROM
              (SELECT extract(epoch FROM ordered_at - lag(ordered_at) OVER (ORDER BY ordered_at))::float8 / 86400 AS gap
                 FROM os_orders WHERE customer = 0) g)) < 1e-9
             FROM os_parallel WHERE customer = 0),
          'the gap standard deviation equals stddev_samp of the consecutive gaps');

-- Hash aggregation that spills to disk (the states of each batch are freed
-- with their memory context) and sorted grouping give the same results.
SET LOCAL work_mem = '64kB';
SET LOCAL enable_sort = off;
SELECT matches(pg_temp.plan_of('SELECT customer, customer_tier.order_stats(ordered_at, amount) FROM os_orders GROUP BY customer', :analyzed),
               'Batches: [2-9]', 'with 64kB of work_mem the hash aggregate spills');
SELECT results_eq(
    'SELECT customer, (customer_tier.order_stats(ordered_at, amount)).* FROM os_orders GROUP BY customer ORDER BY customer',
    'SELECT * FROM os_serial ORDER BY customer',
    'a spilling hash aggregate gives the same results');
RESET enable_sort;
SET LOCAL enable_hashagg = off;
SELECT matches(pg_temp.plan_of('SELECT customer, customer_tier.order_stats(ordered_at, amount) FROM os_orders GROUP BY customer', :analyzed),
               'GroupAggregate', 'with hashing off the plan sorts');
SELECT results_eq(
    'SELECT customer, (customer_tier.order_stats(ordered_at, amount)).* FROM os_orders GROUP BY customer ORDER BY customer',
    'SELECT * FROM os_serial ORDER BY customer',
    'a sorted group aggregate gives the same results');
RESET enable_hashagg;
RESET work_mem;

-- An aggregate without a final function returns the state itself.
CREATE AGGREGATE os_partial(timestamptz, numeric) (
    SFUNC = customer_tier.order_stats_transfn, STYPE = customer_tier.order_stats_state,
    COMBINEFUNC = customer_tier.order_stats_combine, PARALLEL = SAFE);
CREATE AGGREGATE os_merge(customer_tier.order_stats_state) (
    SFUNC = customer_tier.order_stats_combine, STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final);

SELECT results_eq(
    $$SELECT customer, (customer_tier.order_stats_final(os_partial(ordered_at, amount)::text::customer_tier.order_stats_state)).*
        FROM os_orders GROUP BY customer ORDER BY customer$$,
    'SELECT * FROM os_serial ORDER BY customer',
    'state_in(state_out(state)) gives the same final result');
SELECT is((SELECT os_partial(ordered_at, amount)::text::customer_tier.order_stats_state::text FROM os_orders WHERE customer = 17),
          (SELECT os_partial(ordered_at, amount)::text FROM os_orders WHERE customer = 17),
          'the text form reads back to the same text');

-- Stored states (flat bytes in a table) merged across two halves equal the whole.
CREATE TEMP TABLE os_states AS
SELECT customer, order_id % 2 AS half, os_partial(ordered_at, amount) AS state
  FROM os_orders GROUP BY customer, order_id % 2;
SELECT results_eq(
    'SELECT customer, (os_merge(state)).* FROM os_states GROUP BY customer ORDER BY customer',
    'SELECT * FROM os_serial ORDER BY customer',
    'states stored in a table and merged give the same result as one pass');

-- The binary form (COPY BINARY, Citus' binary transfers) reads back exactly.
-- (files go to the throwaway server's data directory: COPY wants an absolute path)
CREATE TEMP TABLE os_states_copy (LIKE os_states);
DO $$
BEGIN
    EXECUTE format('COPY os_states TO %L (FORMAT binary)', current_setting('data_directory') || '/os_states.bin');
    EXECUTE format('COPY os_states_copy FROM %L (FORMAT binary)', current_setting('data_directory') || '/os_states.bin');
END
$$;
SELECT results_eq(
    'SELECT customer, (os_merge(state)).* FROM os_states_copy GROUP BY customer ORDER BY customer',
    'SELECT * FROM os_serial ORDER BY customer',
    'states copied out and in as binary give the same result');

-- Malformed binary states never get in: write crafted bytes with COPY, read them as states.
CREATE FUNCTION pg_temp.load_binary_state(bytes bytea) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE os_bytes (b bytea);
    INSERT INTO os_bytes VALUES (bytes);
    EXECUTE format('COPY os_bytes TO %L (FORMAT binary)', current_setting('data_directory') || '/os_bytes.bin');
    DROP TABLE os_bytes;
    CREATE TEMP TABLE os_crafted (s customer_tier.order_stats_state);
    EXECUTE format('COPY os_crafted FROM %L (FORMAT binary)', current_setting('data_directory') || '/os_bytes.bin');
END
$$;
CREATE TEMP TABLE os_good_bytes AS
SELECT customer_tier.order_stats_state_send('v1;time=date;orders=2;monetary=-1.25;times=0,86400000000') AS b;
SELECT lives_ok($$SELECT pg_temp.load_binary_state((SELECT b FROM os_good_bytes)); DROP TABLE os_crafted$$,
                'good binary state bytes load');
SELECT throws_ok($$SELECT pg_temp.load_binary_state((SELECT set_byte(b, 0, 3) FROM os_good_bytes))$$,
                 '22P03', NULL, 'an unknown binary version is refused');
SELECT throws_ok($$SELECT pg_temp.load_binary_state((SELECT set_byte(b, 1, 9) FROM os_good_bytes))$$,
                 '22P03', NULL, 'an unknown time kind is refused');
SELECT throws_ok($$SELECT pg_temp.load_binary_state((SELECT substr(b, 1, length(b) - 8) FROM os_good_bytes))$$,
                 '22P03', NULL, 'a missing time is refused');
SELECT throws_ok($$SELECT pg_temp.load_binary_state((SELECT set_byte(b, length(b) - 1, 1) FROM os_good_bytes))$$,
                 '22P03', NULL, 'a date time that is not a midnight is refused');

-- A bounded state (version 2) goes through the binary form unchanged; crafted ones do not get in.
CREATE TEMP TABLE os_bounded_bytes AS
SELECT customer_tier.order_stats_state_send(customer_tier.order_stats_bounded(
           'v1;time=timestamptz;orders=4;monetary=40;times=0,86400000000,86400000001,864000000000', 30)) AS b;
SELECT lives_ok($$SELECT pg_temp.load_binary_state((SELECT b FROM os_bounded_bytes))$$,
                'good bounded binary state bytes load');
SELECT is((SELECT s::text FROM os_crafted),
          'v2;time=timestamptz;orders=4;monetary=40;first=0;last=864000000000;before_last=86400000001;'
          'gap_squares=612126719998444800000002;horizon=30;days=0:1,1:2,10:1',
          'the bounded state reads back');
DROP TABLE os_crafted;
-- the last day count's orders (the last 8 bytes) raised above the state's orders
SELECT throws_ok($$SELECT pg_temp.load_binary_state((SELECT set_byte(b, length(b) - 1, 9) FROM os_bounded_bytes))$$,
                 '22P03', NULL, 'a bounded state whose day counts exceed its orders is refused');
SELECT throws_ok($$SELECT pg_temp.load_binary_state((SELECT substr(b, 1, length(b) - 8) FROM os_bounded_bytes))$$,
                 '22P03', NULL, 'a bounded state missing a day count is refused');

-- Malformed state text never gets in.
SELECT throws_ok($$SELECT 'v1;time=timestamptz;orders=2;monetary=1;times=5'::customer_tier.order_stats_state$$,
                 '22P02', NULL, 'an order count that does not match the list is refused');
SELECT throws_ok($$SELECT 'v1;time=timestamptz;orders=1;monetary=1.;times=5'::customer_tier.order_stats_state$$,
                 '22P02', NULL, 'a malformed total is refused');
SELECT throws_ok($$SELECT 'v1;time=timestamptz;orders=1;monetary=1;times=-9223372036854775808'::customer_tier.order_stats_state$$,
                 '22P02', NULL, 'an infinite time is refused');
SELECT throws_ok($$SELECT 'v1;time=timestamptz;orders=1;monetary=1;times=5,'::customer_tier.order_stats_state$$,
                 '22P02', NULL, 'a dangling comma is refused');
SELECT throws_ok($$SELECT 'v1;time=timestamptz;orders=1;monetary=--1;times=5'::customer_tier.order_stats_state$$,
                 '22P02', NULL, 'a double sign is refused');
SELECT throws_ok($$SELECT 'v1;time=timestamptz;orders=99999999999999999999;monetary=1;times=5'::customer_tier.order_stats_state$$,
                 '22P02', NULL, 'an order count beyond bigint is refused');

SELECT * FROM finish();
ROLLBACK;
