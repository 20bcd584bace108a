-- Stored order_stats states can be merged and subtracted exactly: the result
-- always equals the aggregate computed from scratch over the remaining orders.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
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

DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
