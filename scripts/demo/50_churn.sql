-- Demo part 50: churn — the program's fitted models, the most valuable
-- customers at risk, and where every customer is in their lifecycle.
\echo
\echo '== A marketplace channel brings 3,000 customers: each buys at a rate of their own and may stop after any purchase'
-- The BG/NBD story itself: exponential gaps of a customer's own mean, a
-- dropout chance after each purchase, gamma-distributed order values around a
-- customer's own mean (the sample shop's first customers buy evenly until
-- they stop, which BG/NBD alone cannot fit: its dropout parameter runs off).
SELECT setseed(0.5);
INSERT INTO shop.customers
SELECT 2000 + i, 'Customer ' || (2000 + i), date '2025-01-01' + (random() * 640)::int FROM generate_series(1, 3000) AS i;
INSERT INTO shop.orders (customer_id, ordered_at, amount)
WITH RECURSIVE cust AS (
    SELECT id, joined, 7 + random() * random() * 200 AS mean_gap, 0.05 + random() * 0.45 AS drop_p,
           6 / (-ln(random() * random() * random() * random()) / 20) AS spend
      FROM shop.customers WHERE id > 2000),
walk AS (
    SELECT id, 0 AS k, joined + random() * interval '1 day' AS at, true AS alive FROM cust
    UNION ALL
    SELECT w.id, w.k + 1, w.at - ln(1 - random()) * cu.mean_gap * interval '1 day', random() >= cu.drop_p
      FROM walk AS w JOIN cust AS cu USING (id)
     WHERE w.alive AND w.k < 100 AND w.at < timestamptz '2026-11-01')
SELECT w.id, w.at, round((cu.spend * -ln(random() * random() * random() * random() * random() * random()) / 6)::numeric + 0.01, 2)
  FROM walk AS w JOIN cust AS cu USING (id)
 WHERE w.at < timestamptz '2026-11-01';
SELECT count(*) AS customers, sum(orders) AS orders FROM ct_shop.customers;
CALL customer_tier.reclassify('shop');
SELECT id, outcome, customers, coalesce(model_fit, '') AS model_fit, finished_at - started_at AS took
  FROM customer_tier.run ORDER BY id DESC LIMIT 1;
\echo
\echo '== The models the nightly run fitted for program shop (BG/NBD and Gamma-Gamma, time in weeks)'
SELECT round((bgnbd).r::numeric, 3) AS r, round((bgnbd).alpha::numeric, 3) AS alpha,
       round((bgnbd).a::numeric, 3) AS a, round((bgnbd).b::numeric, 3) AS b,
       (bgnbd).customers AS customers,
       round((gamma_gamma).p::numeric, 3) AS p, round((gamma_gamma).q::numeric, 3) AS q,
       round((gamma_gamma).gamma::numeric, 3) AS gamma, (gamma_gamma).customers AS spenders,
       coalesce(problem, 'fitted') AS fit
  FROM customer_tier.program_model WHERE program = 'shop';

\echo
\echo '== The ten most valuable customers at risk (view ct_shop.churn_risk, value at stake = predicted 52-week CLV)'
SELECT r.customer, r.tier, r.lifecycle, round(r.value_at_stake::numeric, 2) AS value_at_stake,
       round(r.p_alive::numeric, 3) AS p_alive, r.orders, round(r.days_silent::numeric) AS days_silent,
       r.churn_reasons[1] AS first_reason
  FROM ct_shop.churn_risk AS r
 LIMIT 10;

\echo
\echo '== Lifecycle stages (view ct_shop.segments): customers, revenue so far and predicted CLV'
SELECT lifecycle, count(*) AS customers, sum(monetary) AS revenue,
       round(sum(predicted_clv)::numeric, 2) AS predicted_clv, round(avg(p_alive)::numeric, 3) AS avg_p_alive
  FROM ct_shop.segments
 GROUP BY lifecycle
 ORDER BY array_position('{new,active,won back,at risk,lapsed,lost}'::text[], lifecycle);

\echo
\echo '== Thresholds are per program: a stricter silence rule, and the program is rescored at once'
SELECT customer_tier.set_churn_rules('shop', '{"silent_gap_factor": 2}') ->> 'silent_gap_factor' AS silent_gap_factor;
SELECT lifecycle, count(*) AS customers
  FROM ct_shop.segments GROUP BY lifecycle
 ORDER BY array_position('{new,active,won back,at risk,lapsed,lost}'::text[], lifecycle);
