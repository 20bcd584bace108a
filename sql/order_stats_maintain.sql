-- Stored order_stats states can be merged and subtracted exactly: the result
-- always equals the aggregate computed from scratch over the remaining orders.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql
CREATE TEMP TABLE o (customer int, ordered_at timestamptz, amount numeric);
INSERT INTO o VALUES
    (1, '2026-01-01', 10.50), (1, '2026-01-11', 20.25), (1, '2026-01-31', 5),
    (1, '2026-01-11', 0.125), (1, '2026-03-01', 1e30), (1, '2026-03-02', -3.33);

-- Partial aggregates give the state; order_stats_final reads it like order_stats.
SELECT customer_tier.order_stats_final(customer_tier.order_stats_partial(ordered_at, amount)) =
       customer_tier.order_stats(ordered_at, amount) AS same
  FROM o;

-- merge(state of some orders, state of the rest) = state of all orders, split any way.
SELECT k,
       customer_tier.order_stats_final(customer_tier.order_stats_state_merge(
           (SELECT customer_tier.order_stats_partial(ordered_at, amount) FROM o WHERE ordered_at < d),
           (SELECT customer_tier.order_stats_partial(ordered_at, amount) FROM o WHERE ordered_at >= d)))
       = (SELECT customer_tier.order_stats(ordered_at, amount) FROM o) AS same
  FROM (VALUES (1, timestamptz '2026-01-01'), (2, '2026-01-11'), (3, '2026-02-01'), (4, '2027-01-01')) AS s(k, d);

-- subtract(state of all, state of some) = state of the rest; duplicates are removed once each.
-- The total is exact; its display scale keeps the largest scale of the orders ever added
-- (-3.330 equals -3.33).
SELECT k,
       (customer_tier.order_stats_final(customer_tier.order_stats_state_subtract(
           (SELECT customer_tier.order_stats_partial(ordered_at, amount) FROM o),
           (SELECT customer_tier.order_stats_partial(ordered_at, amount) FROM o WHERE ordered_at < d)))).*
  FROM (VALUES (1, timestamptz '2026-01-02'), (2, '2026-01-12'), (3, '2026-03-02')) AS s(k, d);
SELECT (customer_tier.order_stats(ordered_at, amount)).* FROM o WHERE ordered_at >= '2026-01-12';

-- Removing every order leaves no state; NULL stands for "no orders" on either side.
SELECT customer_tier.order_stats_state_subtract(s, s) IS NULL AS nothing_left,
       customer_tier.order_stats_final(customer_tier.order_stats_state_merge(NULL, s)) =
       customer_tier.order_stats_final(customer_tier.order_stats_state_merge(s, NULL)) AS null_is_empty,
       customer_tier.order_stats_state_subtract(s, NULL) IS NOT NULL AS subtract_nothing
  FROM (SELECT customer_tier.order_stats_partial(ordered_at, amount) AS s FROM o) AS x;

-- Removing an order the state does not hold is refused: the stored state would drift.
SELECT customer_tier.order_stats_state_subtract(
           (SELECT customer_tier.order_stats_partial(ordered_at, amount) FROM o),
           (SELECT customer_tier.order_stats_partial(t, 1) FROM (VALUES (timestamptz '2026-01-02')) AS v(t)));
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.order_stats_state_subtract(
           (SELECT customer_tier.order_stats_partial(ordered_at, amount) FROM o WHERE amount < 1),
           (SELECT customer_tier.order_stats_partial(ordered_at, amount) FROM o));
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.order_stats_state_subtract(NULL,
           (SELECT customer_tier.order_stats_partial(ordered_at, amount) FROM o));
\echo :LAST_ERROR_SQLSTATE
-- States of different time types do not mix.
SELECT customer_tier.order_stats_state_merge(
           (SELECT customer_tier.order_stats_partial(ordered_at, amount) FROM o),
           (SELECT customer_tier.order_stats_partial(ordered_at::date, amount) FROM o));
\echo :LAST_ERROR_SQLSTATE

-- order_stats_of: the state of one order is the partial aggregate over that
-- one row, for every pair of types order_stats takes; NULL in, NULL out.
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE one::text = agg::text) AS equal
  FROM (VALUES (timestamptz '2026-01-02 10:00+00', timestamp '2026-01-02 10:00', date '2026-01-02')) AS t(tz, ts, d),
       (VALUES (12.34::numeric, 1234::bigint, 1234::integer, 12.5::double precision, 12.34::money)) AS a(n, b, i, f, m),
       LATERAL (VALUES
           (customer_tier.order_stats_of(tz, n), (SELECT customer_tier.order_stats_partial(x.t, x.a) FROM (SELECT tz, n) AS x(t, a))),
           (customer_tier.order_stats_of(tz, b), (SELECT customer_tier.order_stats_partial(x.t, x.a) FROM (SELECT tz, b) AS x(t, a))),
           (customer_tier.order_stats_of(tz, i), (SELECT customer_tier.order_stats_partial(x.t, x.a) FROM (SELECT tz, i) AS x(t, a))),
           (customer_tier.order_stats_of(tz, f), (SELECT customer_tier.order_stats_partial(x.t, x.a) FROM (SELECT tz, f) AS x(t, a))),
           (customer_tier.order_stats_of(tz, m), (SELECT customer_tier.order_stats_partial(x.t, x.a) FROM (SELECT tz, m) AS x(t, a))),
           (customer_tier.order_stats_of(ts, n), (SELECT customer_tier.order_stats_partial(x.t, x.a) FROM (SELECT ts, n) AS x(t, a))),
           (customer_tier.order_stats_of(ts, b), (SELECT customer_tier.order_stats_partial(x.t, x.a) FROM (SELECT ts, b) AS x(t, a))),
           (customer_tier.order_stats_of(ts, i), (SELECT customer_tier.order_stats_partial(x.t, x.a) FROM (SELECT ts, i) AS x(t, a))),
           (customer_tier.order_stats_of(ts, f), (SELECT customer_tier.order_stats_partial(x.t, x.a) FROM (SELECT ts, f) AS x(t, a))),
           (customer_tier.order_stats_of(ts, m), (SELECT customer_tier.order_stats_partial(x.t, x.a) FROM (SELECT ts, m) AS x(t, a))),
           (customer_tier.order_stats_of(d, n), (SELECT customer_tier.order_stats_partial(x.t, x.a) FROM (SELECT d, n) AS x(t, a))),
           (customer_tier.order_stats_of(d, b), (SELECT customer_tier.order_stats_partial(x.t, x.a) FROM (SELECT d, b) AS x(t, a))),
           (customer_tier.order_stats_of(d, i), (SELECT customer_tier.order_stats_partial(x.t, x.a) FROM (SELECT d, i) AS x(t, a))),
           (customer_tier.order_stats_of(d, f), (SELECT customer_tier.order_stats_partial(x.t, x.a) FROM (SELECT d, f) AS x(t, a))),
           (customer_tier.order_stats_of(d, m), (SELECT customer_tier.order_stats_partial(x.t, x.a) FROM (SELECT d, m) AS x(t, a)))) AS x(one, agg);
SELECT customer_tier.order_stats_of(NULL::timestamptz, 1::numeric) IS NULL AS no_time,
       customer_tier.order_stats_of(now(), NULL::numeric) IS NULL AS no_amount,
       customer_tier.order_stats_final(customer_tier.order_stats_state_merge(
           customer_tier.order_stats_of(timestamptz '2026-01-02', 10::numeric),
           customer_tier.order_stats_of(timestamptz '2026-01-12', 5::numeric))) =
       (SELECT customer_tier.order_stats(t, a)
          FROM (VALUES (timestamptz '2026-01-02', 10::numeric), ('2026-01-12', 5)) AS v(t, a)) AS merges;
-- A domain counts as its base type, as for the aggregate.
CREATE DOMAIN positive_amount AS numeric CHECK (VALUE > 0);
SELECT customer_tier.order_stats_of(timestamptz '2026-01-02', 5::positive_amount)::text =
       customer_tier.order_stats_of(timestamptz '2026-01-02', 5::numeric)::text AS domain_as_base;
DROP DOMAIN positive_amount;
-- Bad input: other types, and what order_stats refuses too.
CALL pg_temp.expect_errors('SELECT customer_tier.order_stats_of(%s)',
    $$now(), 'ten'::text$$, $$'infinity'::timestamptz, 1::numeric$$, $$now(), 'NaN'::double precision$$);

DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
