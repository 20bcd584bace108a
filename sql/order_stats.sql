-- customer_tier.order_stats(ordered_at, amount): per-customer purchase metrics.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET extra_float_digits = 0;

CREATE TABLE os_orders (customer text, ordered_at timestamptz, amount numeric);
INSERT INTO os_orders VALUES
    ('ann', '2024-01-01 10:00', 100.00),
    ('ann', '2024-01-11 10:00',  50.50),
    ('ann', '2024-01-31 10:00', 149.50),
    ('ann', '2024-02-01 10:00', -20.00),   -- a refund counts negative
    ('bob', '2024-03-05 08:30',  12.345),
    ('bob', '2024-03-05 08:30',   7.655),  -- same instant: a zero gap
    ('cat', '2024-02-29 23:59',   1),
    ('dan', NULL,                99.99),   -- NULL time: skipped
    ('dan', '2024-01-01',         NULL),   -- NULL amount: skipped
    ('eve', '2024-01-01 00:00',   5),
    ('eve', '2024-01-03 12:00',   5);

-- The usual use: one row of metrics per customer.
SELECT customer, (customer_tier.order_stats(ordered_at, amount)).*
  FROM os_orders GROUP BY customer ORDER BY customer;

-- monetary equals sum(amount), orders equals the count of rows with both values.
SELECT customer, s.monetary = t.total AS monetary_is_sum, s.orders = t.n AS orders_is_count,
       s.first_order = t.first AS first_ok, s.last_order = t.last AS last_ok
  FROM (SELECT customer, (customer_tier.order_stats(ordered_at, amount)).* FROM os_orders GROUP BY customer) s
  JOIN (SELECT customer, sum(amount) AS total, count(*) AS n, min(ordered_at) AS first, max(ordered_at) AS last
          FROM os_orders WHERE ordered_at IS NOT NULL AND amount IS NOT NULL GROUP BY customer) t USING (customer)
 ORDER BY customer;

-- Gaps: ann's are 10, 20 and 1 days (mean 31/3, sample standard deviation 9.5044).
SELECT round(mean_gap_days::numeric, 6) AS mean, round(gap_stddev_days::numeric, 6) AS stddev,
       round(sqrt(((10 - 31/3.0)^2 + (20 - 31/3.0)^2 + (1 - 31/3.0)^2) / 2), 6) AS expected_stddev
  FROM (SELECT (customer_tier.order_stats(ordered_at, amount)).* FROM os_orders WHERE customer = 'ann') s;

-- Order of the input rows does not matter.
SELECT customer_tier.order_stats(ordered_at, amount ORDER BY ordered_at DESC) =
       customer_tier.order_stats(ordered_at, amount ORDER BY ordered_at) AS same
  FROM os_orders;

-- Empty input and all-NULL input give NULL, as sum() does.
SELECT customer_tier.order_stats(ordered_at, amount) IS NULL AS empty_is_null
  FROM os_orders WHERE false;
SELECT customer_tier.order_stats(ordered_at, amount) IS NULL AS all_null_is_null
  FROM os_orders WHERE customer = 'dan';

-- Exact totals: mixed scales, values beyond int128, huge and tiny exponents.
CREATE TABLE os_amounts (grp text, amount numeric);
INSERT INTO os_amounts VALUES
    ('mixed', 1.5), ('mixed', 2.25), ('mixed', 3.125), ('mixed', 7),
    ('beyond_int128', 123456789012345678901234567890123456789012.5),
    ('beyond_int128', 1.25),
    ('beyond_int128', -123456789012345678901234567890123456789012.5),
    ('exponents', 1e100), ('exponents', 1e-50), ('exponents', 2.5), ('exponents', -1e100),
    ('zero_scale2', 1.50), ('zero_scale2', -1.50),
    ('tiny_int', 0.000000000000000000000000000000000000001), ('tiny_int', 3),
    -- a larger scale arrives after a large total: rescaling it would overflow
    ('rescale', 1e36), ('rescale', 0.001), ('rescale', 5);
-- ~1e35 values: the int128 total (of cents) overflows part-way through and moves to numeric.
INSERT INTO os_amounts SELECT 'overflow', 99999999999999999999999999999999999.99 FROM generate_series(1, 100);
INSERT INTO os_amounts SELECT 'overflow', -0.01 FROM generate_series(1, 3);
SELECT grp, (customer_tier.order_stats(now(), amount)).monetary, sum(amount),
       (customer_tier.order_stats(now(), amount)).monetary::text = sum(amount)::text AS same_digits
  FROM os_amounts GROUP BY grp ORDER BY grp;

-- Every combination of time type and amount type works without casts.
CREATE TABLE os_types (t_tz timestamptz, t_ts timestamp, t_date date,
                       a_numeric numeric, a_bigint bigint, a_integer integer,
                       a_float8 double precision, a_money money);
INSERT INTO os_types VALUES
    ('2024-01-01 00:00+00', '2024-01-01 00:00', '2024-01-01', 10.10, 10, 10, 0.1, '10.10'),
    ('2024-01-03 00:00+00', '2024-01-03 00:00', '2024-01-03', 20.20, 20, 20, 0.2, '20.20'),
    ('2024-01-07 00:00+00', '2024-01-07 00:00', '2024-01-07',  0.05,  3,  3, 0.3,  '0.05');
SELECT 'timestamptz' AS time_type, 'numeric' AS amount_type, (customer_tier.order_stats(t_tz, a_numeric)).* FROM os_types
UNION ALL SELECT 'timestamptz', 'bigint', (customer_tier.order_stats(t_tz, a_bigint)).* FROM os_types
UNION ALL SELECT 'timestamptz', 'integer', (customer_tier.order_stats(t_tz, a_integer)).* FROM os_types
UNION ALL SELECT 'timestamptz', 'double precision', (customer_tier.order_stats(t_tz, a_float8)).* FROM os_types
UNION ALL SELECT 'timestamptz', 'money', (customer_tier.order_stats(t_tz, a_money)).* FROM os_types
UNION ALL SELECT 'timestamp', 'numeric', (customer_tier.order_stats(t_ts, a_numeric)).* FROM os_types
UNION ALL SELECT 'timestamp', 'bigint', (customer_tier.order_stats(t_ts, a_bigint)).* FROM os_types
UNION ALL SELECT 'timestamp', 'integer', (customer_tier.order_stats(t_ts, a_integer)).* FROM os_types
UNION ALL SELECT 'timestamp', 'double precision', (customer_tier.order_stats(t_ts, a_float8)).* FROM os_types
UNION ALL SELECT 'timestamp', 'money', (customer_tier.order_stats(t_ts, a_money)).* FROM os_types
UNION ALL SELECT 'date', 'numeric', (customer_tier.order_stats(t_date, a_numeric)).* FROM os_types
UNION ALL SELECT 'date', 'bigint', (customer_tier.order_stats(t_date, a_bigint)).* FROM os_types
UNION ALL SELECT 'date', 'integer', (customer_tier.order_stats(t_date, a_integer)).* FROM os_types
UNION ALL SELECT 'date', 'double precision', (customer_tier.order_stats(t_date, a_float8)).* FROM os_types
UNION ALL SELECT 'date', 'money', (customer_tier.order_stats(t_date, a_money)).* FROM os_types;

-- Each call above resolved to its own overload, not through a cast.
SELECT pg_catalog.pg_get_function_identity_arguments(p.oid) AS order_stats_overloads
  FROM pg_proc p
 WHERE p.proname = 'order_stats' AND p.pronamespace = 'customer_tier'::regnamespace
 ORDER BY 1;

-- Integer amounts beyond bigint's range in total stay exact.
SELECT (customer_tier.order_stats(now(), a)).monetary, sum(a::numeric)
  FROM (VALUES (9223372036854775807::bigint), (9223372036854775807), (9223372036854775807)) v(a);

-- Money uses the locale's minor units, as money::numeric does.
SELECT (customer_tier.order_stats(now(), a)).monetary, sum(a::numeric)
  FROM (VALUES ('92233720368547758.07'::money), ('92233720368547758.07'), ('0.01')) v(a);

-- Timestamp and date times are read as UTC, whatever the session time zone
-- (not like the implicit cast, which reads them in the session's zone).
SET TimeZone = 'America/New_York';
SELECT s.first_order, s.last_order, s.first_order = '2024-01-01 00:00'::timestamp AT TIME ZONE 'UTC' AS as_utc
  FROM (SELECT (customer_tier.order_stats(t_ts, a_numeric)).* FROM os_types) s;
SELECT s.first_order, s.last_order
  FROM (SELECT (customer_tier.order_stats(t_date, a_numeric)).* FROM os_types) s;
SET TimeZone = 'UTC';

-- Running metrics with a window (the final function runs once per row).
SELECT customer, ordered_at, (customer_tier.order_stats(ordered_at, amount)
       OVER (PARTITION BY customer ORDER BY ordered_at)).*
  FROM os_orders WHERE customer IN ('ann', 'eve') ORDER BY customer, ordered_at;

-- Executor paths that keep, restart, free or spill aggregate states: a
-- moving window frame (restarted at every row: no inverse function),
-- grouping sets, a hash aggregate that spills to disk, a sorted one.  The
-- states of one aggregate context share one memory context, which these
-- paths must neither free nor move while the states live
-- (OrderStatsCheckMemory makes either an error), and every path must give
-- what sum() and count() give.
CREATE TEMP TABLE os_many AS
SELECT i % 500 AS customer, timestamptz '2024-01-01' + (i * 7919 % 100000) * interval '1 minute' AS ordered_at,
       (i % 97)::numeric / 4 AS amount
  FROM generate_series(1, 20000) AS i;
SELECT count(*) FILTER (WHERE (w.s).orders <> w.n OR (w.s).monetary <> w.total) AS moving_frame_differences
  FROM (SELECT customer_tier.order_stats(ordered_at, amount)
                   OVER (PARTITION BY customer ORDER BY ordered_at ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s,
               count(*) OVER (PARTITION BY customer ORDER BY ordered_at ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS n,
               sum(amount) OVER (PARTITION BY customer ORDER BY ordered_at ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS total
          FROM os_many) AS w;
SELECT count(*) FILTER (WHERE (g.s).orders <> g.n OR (g.s).monetary <> g.total) AS grouping_sets_differences, count(*) AS groups
  FROM (SELECT customer_tier.order_stats(ordered_at, amount) AS s, count(*) AS n, sum(amount) AS total
          FROM os_many GROUP BY GROUPING SETS ((customer), (customer % 7), ())) AS g;
SET work_mem = '64kB';
SET enable_sort = off;
SELECT count(*) FILTER (WHERE (h.s).orders <> h.n OR (h.s).monetary <> h.total) AS spilled_hash_differences
  FROM (SELECT customer_tier.order_stats(ordered_at, amount) AS s, count(*) AS n, sum(amount) AS total
          FROM os_many GROUP BY customer, date_trunc('day', ordered_at)) AS h;
RESET enable_sort;
SET enable_hashagg = off;
SELECT count(*) FILTER (WHERE (h.s).orders <> h.n OR (h.s).monetary <> h.total) AS sorted_differences
  FROM (SELECT customer_tier.order_stats(ordered_at, amount) AS s, count(*) AS n, sum(amount) AS total
          FROM os_many GROUP BY customer, date_trunc('day', ordered_at)) AS h;
RESET enable_hashagg;
RESET work_mem;
DROP TABLE os_many;

-- Recency and tenure in days as of an instant.
SELECT customer,
       customer_tier.recency_days(customer_tier.order_stats(ordered_at, amount), '2024-03-01 10:00+00') AS recency,
       customer_tier.tenure_days(customer_tier.order_stats(ordered_at, amount), '2024-03-01 10:00+00') AS tenure
  FROM os_orders GROUP BY customer ORDER BY customer;
-- NULL stats (a customer without orders) or NULL as_of give NULL.
SELECT customer_tier.recency_days(NULL, now()) IS NULL AS null_stats,
       customer_tier.tenure_days(s, NULL) IS NULL AS null_as_of
  FROM (SELECT customer_tier.order_stats(ordered_at, amount) s FROM os_orders) x;
-- as_of before the last order gives a negative recency.
SELECT customer_tier.recency_days(customer_tier.order_stats(ordered_at, amount), '2024-01-31 10:00+00')
  FROM os_orders WHERE customer = 'ann';

-- Bad amounts: a money total must be finite.
CALL pg_temp.expect_errors('SELECT customer_tier.order_stats(%s)',
    $$now(), 'NaN'::numeric$$, $$now(), 'Infinity'::numeric$$, $$now(), '-Infinity'::numeric$$,
    $$now(), 'NaN'::double precision$$, $$now(), '-Infinity'::double precision$$);
-- Bad times: an order time must be finite.
CALL pg_temp.expect_errors('SELECT customer_tier.order_stats(%s)',
    $$'infinity'::timestamptz, 1$$, $$'-infinity'::timestamp, 1$$, $$'infinity'::date, 1$$,
    $$'5874897-12-31'::date, 1$$);
-- recency of an infinite instant has no number of days.
SELECT customer_tier.recency_days(customer_tier.order_stats(ordered_at, amount), 'infinity')
  FROM os_orders;
\echo :LAST_ERROR_SQLSTATE

-- The state type: versioned text, read back exactly.
SELECT 'v1;time=timestamptz;orders=3;monetary=-12.50;times=86400000000,0,0'::customer_tier.order_stats_state;
SELECT (customer_tier.order_stats_final(
        'v1;time=timestamptz;orders=3;monetary=-12.50;times=86400000000,0,0')).*;
SELECT (customer_tier.order_stats_final(
        'v1;time=date;orders=2;monetary=123456789012345678901234567890123456789012.5;times=0,172800000000')).*;
-- Malformed state text is refused, whatever is wrong with it.
SELECT 'v3;time=timestamptz;orders=1;monetary=1;times=0'::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE
SELECT 'v1;time=interval;orders=1;monetary=1;times=0'::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE
SELECT 'v1;time=timestamptz;orders=2;monetary=1;times=0'::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE
SELECT 'v1;time=timestamptz;orders=1;monetary=1;times=0,1'::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE
SELECT 'v1;time=timestamptz;orders=0;monetary=0;times='::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE
SELECT 'v1;time=timestamptz;orders=1;monetary=NaN;times=0'::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE
SELECT 'v1;time=timestamptz;orders=1;monetary=1e5;times=0'::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE
SELECT 'v1;time=timestamptz;orders=1;monetary=1;times=9223372036854775807'::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE
SELECT 'v1;time=date;orders=1;monetary=1;times=1'::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE
SELECT 'v1;time=timestamptz;orders=1;monetary=1;times=99999999999999999999'::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE
SELECT 'v1;time=timestamptz;orders=1;monetary=1;times=0;'::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE
SELECT ''::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE

-- The transition and combine functions work only inside an aggregate.
SELECT customer_tier.order_stats_transfn(NULL, now(), 1::numeric);
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.order_stats_combine(NULL, 'v1;time=date;orders=1;monetary=1;times=0');
\echo :LAST_ERROR_SQLSTATE
-- States of different time types do not combine (here through an aggregate of states).
CREATE AGGREGATE os_merge(customer_tier.order_stats_state) (
    SFUNC = customer_tier.order_stats_combine, STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final);
SELECT (os_merge(s)).* FROM (VALUES
    ('v1;time=date;orders=1;monetary=1.5;times=0'::customer_tier.order_stats_state),
    ('v1;time=date;orders=2;monetary=2;times=172800000000,86400000000')) v(s);
SELECT os_merge(s) FROM (VALUES
    ('v1;time=date;orders=1;monetary=1;times=0'::customer_tier.order_stats_state),
    ('v1;time=timestamptz;orders=1;monetary=1;times=0')) v(s);
\echo :LAST_ERROR_SQLSTATE
DROP AGGREGATE os_merge(customer_tier.order_stats_state);

DROP TABLE os_orders, os_amounts, os_types;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
