-- KPIs and satisfaction per tier and period, checked against a hand
-- computation on a small fixed data set.  Each period's figures are about
-- the customers each tier had at the period start (tier_history).
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql
SET TimeZone = 'UTC';
CREATE SCHEMA kpi;
CREATE TABLE kpi.orders (id serial, customer_id integer, amount numeric(10,2), ordered_at timestamptz, status text);
CREATE TABLE kpi.answers (customer_id integer, score integer, kind text, answered_at timestamptz);
SELECT customer_tier.create_program('kp', 'kpi.orders', 'customer_id', 'amount', 'ordered_at',
                                    status_column => 'status', counted_statuses => '{paid}') AS customers;
SELECT customer_tier.attach_feedback('kp', 'kpi.answers', 'customer_id', 'score', 'kind', 'answered_at') AS customers;

INSERT INTO kpi.orders (customer_id, amount, ordered_at, status) VALUES
    (1, 100, '2025-12-10', 'paid'), (1, 50, '2026-01-03', 'paid'), (1, 70, '2026-01-25', 'paid'),
    (1, 200, '2026-02-14', 'paid'),
    (2, 80, '2025-12-15', 'paid'), (2, 30, '2026-02-02', 'paid'), (2, -10, '2026-02-20', 'paid'),
    (3, 20, '2025-12-20', 'paid'), (3, 20, '2026-01-15', 'cancelled'),
    (4, 40, '2025-12-31', 'paid'), (4, 25, '2026-01-10', 'paid'), (4, 25, '2026-01-11', 'paid'),
    (4, 25, '2026-01-12', 'paid'),
    (5, 60, '2026-01-05', 'paid'), (5, 60, '2026-02-10', 'paid'),
    (6, 300, '2026-02-01', 'paid');
INSERT INTO kpi.answers VALUES
    (1, 10, 'nps', '2026-01-04'), (1, 5, 'csat', '2026-02-15'),
    (2, 6, 'nps', '2026-01-20'), (2, 9, 'nps', '2026-02-03'),
    (4, 3, 'csat', '2026-01-12'),
    (5, 8, 'nps', '2026-01-06');

-- The tier history as a program running since December 2025 would have
-- recorded it (the program above was created today, so its history is
-- replaced by this fixed one):
--   customer 1: gold from 2025-12-10, diamond from 2026-01-20
--   customer 2: gold from 2025-12-15
--   customer 3: normal from 2025-12-20
--   customer 4: normal from 2025-12-31 23:00
--   customer 5: normal from 2026-01-05 (new in January)
--   customer 6: gold from 2026-02-01 00:00 exactly (new in February: the
--               tier at a period start is the tier of the latest change
--               recorded strictly before it)
DELETE FROM ct_kp.tier_history;
INSERT INTO ct_kp.tier_history (customer, from_tier, to_tier, changed_at, reason, source) VALUES
    (1, NULL, 'gold', '2025-12-10', 'new', 'test'), (1, 'gold', 'diamond', '2026-01-20', 'upgrade', 'test'),
    (2, NULL, 'gold', '2025-12-15', 'new', 'test'),
    (3, NULL, 'normal', '2025-12-20', 'new', 'test'),
    (4, NULL, 'normal', '2025-12-31 23:00', 'new', 'test'),
    (5, NULL, 'normal', '2026-01-05', 'new', 'test'),
    (6, NULL, 'gold', '2026-02-01', 'new', 'test');

-- Hand computation, January 2026 (period [2026-01-01, 2026-02-01)).
-- Tiers at 2026-01-01: gold {1, 2}, normal {3, 4}, diamond {}.
--   gold:    1 bought twice (50 + 70), 2 did not buy.  retained 1, churned 1,
--            retention 1/2 = 0.5, churn 0.5; repeat customers (2+ purchases
--            in the period) {1}: 1/2 = 0.5; orders 2, revenue 120.
--            Answers: 1 NPS 10 (promoter), 2 NPS 6 (detractor): NPS 50 - 50 = 0;
--            no CSAT; 2 answers, respondents 2/2 = 1.
--   normal:  3's January order was cancelled (does not count); 4 bought
--            three times (75).  retained 1, churned 1, 0.5 / 0.5; repeat {4}
--            0.5; orders 3, revenue 75.  Answers: 4 CSAT 3 (not 4-5): CSAT 0;
--            1 answer, respondents 1/2 = 0.5.  (5's NPS 8 is not counted: 5
--            had no tier at 2026-01-01.)
--   diamond: no customers: zeros, rates NULL.
--   new customers: 5 (normal).  1's upgrade on 2026-01-20 counts from February.
-- February 2026 (period [2026-02-01, 2026-03-01)).
-- Tiers at 2026-02-01: diamond {1}, gold {2}, normal {3, 4, 5}; 6 is new.
--   diamond: 1 bought once (200).  retained 1, churned 0, 1.0 / 0.0; repeat 0;
--            orders 1, revenue 200.  Answers: CSAT 5: CSAT 100; response 1.
--   gold:    2 bought once (30) and was refunded 10: orders 1, revenue 20;
--            retained 1, churned 0, 1.0 / 0.0; repeat 0.  Answers: NPS 9: NPS
--            100; response 1.  new customers: 6 (its 300 is not in any
--            tier's revenue: it had no tier at the period start).
--   normal:  only 5 bought (60).  retained 1, churned 2, 1/3 and 2/3; repeat
--            0; orders 1, revenue 60.  No answers: NPS and CSAT NULL,
--            response 0/3 = 0.
SELECT period_start::date, tier, tier_rank, customers_at_start AS at_start, new_customers AS new, retained, churned,
       round(retention_rate::numeric, 4) AS retention, round(churn_rate::numeric, 4) AS churn,
       repeat_customers AS repeaters, round(repeat_purchase_rate::numeric, 4) AS repeat_rate,
       orders, revenue, nps, csat, answers, round(response_rate::numeric, 4) AS response
  FROM ct_kp.kpis('month', '2026-01-01', '2026-03-01');

-- The same data set by quarter: Q1 2026 starts with the tiers of January.
--   gold {1, 2}: both bought (1: 50, 70, 200; 2: 30, -10): retained 2, rate 1;
--                repeat {1}: 0.5; orders 4, revenue 340.  Answers of 1 and 2
--                in Q1: NPS 10, 6, 9 (2 promoters, 1 detractor of 3: 33.3),
--                CSAT 5 (100); 4 answers.
--   normal {3, 4}: 4 bought three times: retained 1, 0.5; repeat 0.5; orders
--                3, revenue 75.  CSAT 3: 0.
--   new: normal 5 (January), gold 6 (February).
SELECT period_start::date, tier, customers_at_start AS at_start, new_customers AS new, retained, churned,
       round(retention_rate::numeric, 4) AS retention, round(repeat_purchase_rate::numeric, 4) AS repeat_rate,
       orders, revenue, round(nps::numeric, 1) AS nps, csat, answers
  FROM ct_kp.kpis('quarter', '2026-02-15', '2026-03-31');

-- satisfaction_by_tier: the same cohorts, with answers per kind.
SELECT period_start::date, period_end::date, tier, tier_rank, customers, respondents,
       round(response_rate::numeric, 4) AS response_rate, answers, nps, nps_answers, csat, csat_answers
  FROM ct_kp.satisfaction_by_tier('month', '2026-01-01', '2026-03-01');

-- A tier the program no longer has still gets its rows (rank NULL), after
-- the others.
UPDATE ct_kp.tier_history SET to_tier = 'silver' WHERE customer = 3;
SELECT tier, tier_rank, customers_at_start, churned FROM ct_kp.kpis('month', '2026-01-01', '2026-02-01');

-- The periods: any date_trunc unit; by default the last twelve up to now.
SELECT count(*) AS periods, min(period_start) = date_trunc('month', now()) - interval '11 months' AS first_ok,
       max(period_start) = date_trunc('month', now()) AS last_ok
  FROM customer_tier.kpi_periods();
SELECT * FROM customer_tier.kpi_periods('week', '2026-01-01', '2026-01-15');
SELECT * FROM customer_tier.kpi_periods('day', '2026-01-31 12:00', '2026-02-02');
SELECT count(*) AS rows FROM ct_kp.kpis();
-- Bad periods.
CALL pg_temp.expect_errors('%s',
    $$SELECT * FROM ct_kp.kpis('fortnight')$$, $$SELECT * FROM ct_kp.kpis('Month')$$,
    'SELECT * FROM ct_kp.kpis(NULL)', $$SELECT * FROM ct_kp.kpis('month', '2026-03-01', '2026-01-01')$$,
    $$SELECT * FROM ct_kp.kpis('month', '2026-01-01', '2026-01-01')$$,
    $$SELECT * FROM ct_kp.kpis('month', '-infinity', '2026-01-01')$$,
    $$SELECT * FROM ct_kp.satisfaction_by_tier('second', '2026-01-01', '2026-01-02')$$,
    $$SELECT * FROM ct_kp.kpis('microseconds', '2026-01-01', '2026-01-02')$$,
    $$SELECT * FROM customer_tier.kpi_periods('year', '294270-01-01', '294276-01-01')$$);
SELECT count(*) AS periods FROM customer_tier.kpi_periods('month', '1900-01-01', '1983-05-01');

-- The reader may call both (kpis reads the orders table as the program's
-- owner and returns aggregates only); the orders table stays closed to it.
SET ROLE customer_tier_reader;
SELECT count(*) AS rows FROM ct_kp.kpis('month', '2026-01-01', '2026-03-01');
SELECT count(*) AS rows FROM ct_kp.satisfaction_by_tier('month', '2026-01-01', '2026-03-01');
SELECT count(*) FROM kpi.orders;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

SELECT customer_tier.drop_program('kp');
DROP TABLE kpi.orders, kpi.answers;
DROP SCHEMA kpi;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
