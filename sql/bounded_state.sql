-- Bounded states (docs/order_stats.md "Bounded states"): what a program
-- stores per customer does not grow with its orders, every metric stays
-- exact, and what the bounded state cannot take is recomputed from the
-- orders table for that customer alone.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
SET timezone = 'UTC';

-- ==== the bounded form of a state ====
-- Day counts of the last 3 days before the latest order (day 10): days 8..10.
SELECT customer_tier.order_stats_bounded(
    'v1;time=timestamptz;orders=5;monetary=50;times=864000000000,0,691200000000,864000000001,777600000000', 3);
-- The same metrics as the state of times, to the last bit (one rule, from the same summary).
SELECT customer_tier.order_stats_final(s) IS NOT DISTINCT FROM customer_tier.order_stats_final(customer_tier.order_stats_bounded(s, 3))
         AS same_metrics
  FROM (SELECT customer_tier.order_stats_partial(t, a) AS s
          FROM (SELECT timestamptz '2026-01-01' + (i * i % 97) * interval '1 hour 7 minutes' AS t, i::numeric AS a
                  FROM generate_series(1, 500) AS i) AS o) AS x;
-- The text form reads back exactly.
SELECT b::text::customer_tier.order_stats_state::text = b::text AS reads_back
  FROM (SELECT customer_tier.order_stats_bounded('v1;time=date;orders=3;monetary=-7.25;times=0,86400000000,86400000000', 10) AS b) AS x;
-- Narrowed, not widened.
SELECT customer_tier.order_stats_bounded(customer_tier.order_stats_bounded(
    'v1;time=timestamptz;orders=2;monetary=2;times=0,864000000000', 30), 2);
SELECT customer_tier.order_stats_bounded(customer_tier.order_stats_bounded(
    'v1;time=timestamptz;orders=2;monetary=2;times=0,864000000000', 2), 30);
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.order_stats_bounded('v1;time=timestamptz;orders=1;monetary=1;times=0', -1);
\echo :LAST_ERROR_SQLSTATE
-- What needs the times refuses a bounded state, saying so.
SELECT customer_tier.order_stats_state_merge(customer_tier.order_stats_bounded('v1;time=timestamptz;orders=1;monetary=1;times=0', 2),
                                             'v1;time=timestamptz;orders=1;monetary=1;times=0');
\echo :LAST_ERROR_SQLSTATE
-- Malformed bounded text is refused, whatever is wrong with it.
SELECT 'v2;time=timestamptz;orders=2;monetary=2;first=5;last=1;before_last=1;gap_squares=16;horizon=2;days='::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE
SELECT 'v2;time=timestamptz;orders=1;monetary=1;first=0;last=0;before_last=0;gap_squares=0;horizon=2;days=0:2'::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE
SELECT 'v2;time=timestamptz;orders=1;monetary=1;first=0;last=0;before_last=0;gap_squares=0;horizon=2;days=-5:1'::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE
SELECT 'v2;time=timestamptz;orders=1;monetary=1;first=0;last=0;before_last=0;gap_squares=0;horizon=99999;days='::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE
SELECT 'v2;time=timestamptz;orders=1;monetary=1;first=0;last=0;before_last=0;gap_squares=340282366920938463463374607431768211456;horizon=2;days='::customer_tier.order_stats_state;
\echo :LAST_ERROR_SQLSTATE

-- ==== a program stores bounded states ====
CREATE SCHEMA crm;
CREATE TABLE crm.orders (id bigserial PRIMARY KEY, customer_id bigint, amount numeric(12,2),
                         ordered_at timestamptz, status text DEFAULT 'paid');
CREATE INDEX ON crm.orders (customer_id);
SELECT customer_tier.create_program('shop', 'crm.orders', 'customer_id', 'amount', 'ordered_at') AS customers;
SELECT program_state_horizon FROM customer_tier.program_state_horizon('shop');

-- One customer, 500 orders one day apart, each in its own transaction and
-- applied exactly; the stored state stops growing once its day counts cover
-- the horizon of 180 days.
CREATE PROCEDURE one_a_day(first integer, last integer) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN first .. last LOOP
        INSERT INTO crm.orders (customer_id, amount, ordered_at)
        VALUES (1, 10, timestamptz '2025-01-01' + i * interval '1 day');
        COMMIT;
    END LOOP;
END
$$;
CALL one_a_day(1, 200);
SELECT length(customer_tier.order_stats_state_send(purchases)) AS size_after_200 FROM ct_shop.customers WHERE customer = 1 \gset
CALL one_a_day(201, 500);
SELECT orders, monetary, length(customer_tier.order_stats_state_send(purchases)) = :size_after_200 AS not_grown,
       length(customer_tier.order_stats_state_send(purchases)) < 3200 AS bounded
  FROM ct_shop.customers WHERE customer = 1;
SELECT count(*) AS differences FROM customer_tier.verify_program('shop');

-- Every kind of write keeps the program exact: an order dated between the
-- first and the latest (recomputed), a delete (recomputed), an update of the
-- status only (the time and amount cancel out), of the amount, of the time,
-- of the customer.
INSERT INTO crm.orders (customer_id, amount, ordered_at) VALUES (1, 99, '2025-03-15 12:34');
DELETE FROM crm.orders WHERE id = (SELECT min(id) FROM crm.orders WHERE customer_id = 1);
UPDATE crm.orders SET status = 'shipped' WHERE id = 10;
UPDATE crm.orders SET amount = amount + 1 WHERE id = 11;
UPDATE crm.orders SET ordered_at = ordered_at - interval '3 days' WHERE id = 12;
UPDATE crm.orders SET customer_id = 2 WHERE id BETWEEN 13 AND 20;
INSERT INTO crm.orders (customer_id, amount, ordered_at) VALUES (3, -5, '2026-02-01'), (3, 20, '2026-02-02');
SELECT count(*) AS differences FROM customer_tier.verify_program('shop');
-- the stored states are exactly a recomputation's, day counts included
SELECT count(*) AS states_differing
  FROM ct_shop.customers AS c
  JOIN (SELECT customer_id,
               customer_tier.order_stats_bounded(customer_tier.order_stats_partial(ordered_at, amount) FILTER (WHERE amount >= 0), 180) AS p,
               customer_tier.order_stats_bounded(customer_tier.order_stats_partial(ordered_at, amount) FILTER (WHERE amount < 0), 180) AS r
          FROM crm.orders GROUP BY customer_id) AS o ON o.customer_id = c.customer
 WHERE NOT (customer_tier.order_stats_state_same(c.purchases, o.p) AND customer_tier.order_stats_state_same(c.refunds, o.r));
-- a recompute is not drift
SELECT count(*) AS drift_logged FROM customer_tier.drift_repair;
-- an order added and removed in one transaction leaves nothing
BEGIN;
INSERT INTO crm.orders (customer_id, amount, ordered_at) VALUES (4, 10, '2026-03-01');
UPDATE crm.orders SET amount = 12 WHERE customer_id = 4;
DELETE FROM crm.orders WHERE customer_id = 4;
COMMIT;
SELECT count(*) AS customer_4 FROM ct_shop.customers WHERE customer = 4;
-- a customer's last order deleted: the customer goes
DELETE FROM crm.orders WHERE customer_id = 3;
SELECT count(*) AS customer_3 FROM ct_shop.customers WHERE customer = 3;
SELECT count(*) AS differences FROM customer_tier.verify_program('shop');

-- A wider frequency window rebuilds the states with the days it needs.
SELECT (customer_tier.set_churn_rules('shop', '{"frequency_window_days": 120}')) ->> 'frequency_window_days' AS window_days;
SELECT DISTINCT split_part(split_part(purchases::text, ';horizon=', 2), ';', 1) AS horizon FROM ct_shop.customers;
SELECT customer_tier.set_churn_rules('shop', '{"frequency_window_days": 30.5}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS differences FROM customer_tier.verify_program('shop');

-- A transaction keeps at most 64 times of a customer's orders added or
-- removed: more are kept as a bounded state, taken as a whole when they come
-- in time order, and the customer is recomputed when they do not, so that
-- the memory of a bulk load is bounded by its customers, not its rows.
BEGIN;
-- 100 orders each for 5 new customers in one statement, then 100 more after them
INSERT INTO crm.orders (customer_id, amount, ordered_at)
SELECT c, 1, timestamptz '2027-01-01' + i * interval '1 hour' FROM generate_series(1, 100) AS i, generate_series(10, 14) AS c;
INSERT INTO crm.orders (customer_id, amount, ordered_at)
SELECT c, 2, timestamptz '2027-02-01' + i * interval '1 hour' FROM generate_series(1, 100) AS i, generate_series(10, 14) AS c;
-- 100 that interleave with the first ones, for two of them (recomputed)
INSERT INTO crm.orders (customer_id, amount, ordered_at)
SELECT c, 3, timestamptz '2027-01-01 00:30' + i * interval '1 hour' FROM generate_series(1, 100) AS i, generate_series(10, 11) AS c;
-- 100 removals and additions at once (recomputed)
UPDATE crm.orders SET amount = 5 WHERE customer_id = 12 AND ordered_at >= '2027-02-01';
COMMIT;
-- stored customers: 100 before their first order (taken whole), 100 between (recomputed)
INSERT INTO crm.orders (customer_id, amount, ordered_at)
SELECT 13, 4, timestamptz '2026-06-01' + i * interval '1 hour' FROM generate_series(1, 100) AS i;
INSERT INTO crm.orders (customer_id, amount, ordered_at)
SELECT 14, 4, timestamptz '2027-01-20' + i * interval '1 minute' FROM generate_series(1, 100) AS i;
SELECT customer, orders, monetary FROM ct_shop.customers WHERE customer BETWEEN 10 AND 14 ORDER BY customer;
SELECT count(*) AS differences FROM customer_tier.verify_program('shop');
SELECT count(*) AS drift_logged FROM customer_tier.drift_repair;

SELECT customer_tier.drop_program('shop');
DROP PROCEDURE one_a_day;
DROP TABLE crm.orders;
DROP SCHEMA crm;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
