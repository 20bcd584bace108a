-- Historical data (docs/programs.md, "Historical data"): a program scored
-- against a fixed date instead of the clock.  Orders that end in 2022 look
-- lost to a program that follows the clock; with as_of at the end of 2022,
-- recency, lifecycle stages, follow-ups, the tier history and the KPI
-- periods are measured there.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql
SET TimeZone = 'UTC';
SET client_min_messages = warning;
CREATE SCHEMA hist;
CREATE TABLE hist.orders (customer_id integer, amount numeric, ordered_at timestamptz);
CREATE INDEX ON hist.orders (customer_id);
-- 30 customers, 1 to 6 orders each, all in 2021 and 2022; customer 30 last
-- bought in May 2022
INSERT INTO hist.orders
SELECT c, 20 + 7 * c + k, timestamptz '2022-12-20' - ((c * 13 + k * 47) % 600) * interval '1 day'
  FROM generate_series(1, 29) AS c, generate_series(1, 1 + c % 6) AS k;
INSERT INTO hist.orders VALUES (30, 500, '2021-03-01'), (30, 500, '2022-05-01');

-- Against the clock, years later: everyone is lost, every follow-up years overdue.
SELECT customer_tier.create_program('clock', 'hist.orders', 'customer_id', 'amount', 'ordered_at') AS customers;
SELECT lifecycle, count(*) FROM ct_clock.customers GROUP BY 1 ORDER BY 1;
SELECT min(days_overdue) > 1000 AS years_overdue FROM ct_clock.follow_ups_due;
SELECT scoring_date FROM customer_tier.program WHERE name = 'clock';

-- As of the end of 2022.
SELECT customer_tier.create_program('h', 'hist.orders', 'customer_id', 'amount', 'ordered_at',
                                    as_of => '2022-12-31 23:59:59+00') AS customers;
SELECT scoring_date, customer_tier.program_as_of('h') AS as_of FROM customer_tier.program WHERE name = 'h';
SELECT lifecycle, count(*) FROM ct_h.customers GROUP BY 1 ORDER BY 1;
-- first tiers are recorded at the scoring date, as is tier_since
SELECT count(*) AS first_tiers, min(changed_at) = max(changed_at) AS one_instant, max(changed_at) AS changed_at
  FROM ct_h.tier_history;
SELECT count(*) FILTER (WHERE tier_since <> '2022-12-31 23:59:59+00') AS tier_since_elsewhere FROM ct_h.customers;
-- recency, silence and overdue days are counted to the scoring date
SELECT customer, round(days_silent) AS days_silent FROM ct_h.churn_risk WHERE customer = 23;
SELECT max(days_overdue) < 700 AS overdue_within_the_data FROM ct_h.follow_ups_due;
SELECT (SELECT count(*) FROM ct_h.follow_ups_due) < (SELECT count(*) FROM ct_clock.follow_ups_due) AS fewer_due;

-- An order written now is scored against the scoring date too; the row says
-- when it was written.
INSERT INTO hist.orders VALUES (30, 5, '2022-12-30');
SELECT customer, last_order, lifecycle, updated_at > '2025-01-01' AS written_now
  FROM ct_h.customers WHERE customer = 30;
SELECT count(*) AS differences FROM customer_tier.verify_program('h');

-- KPIs: the twelve months up to the scoring date.  Before the program's first
-- tiers, the tier at period start is not in the history: the customers who
-- had bought by then are counted under tier "(unknown)", not left out.
SELECT min(period_start) AS first_period, max(period_end) AS last_period,
       sum(customers_at_start) FILTER (WHERE tier = '(unknown)') > 0 AS unknown_counted,
       sum(customers_at_start) FILTER (WHERE tier <> '(unknown)') AS known
  FROM ct_h.kpis('month');
SELECT period_start, tier, customers_at_start, retained
  FROM ct_h.kpis('quarter') WHERE customers_at_start > 0 ORDER BY 1, 2;
SELECT tier, customers FROM ct_h.satisfaction_by_tier('year', '2022-01-01', '2023-01-01') ORDER BY 1;
-- after the scoring date, the tiers are known
SELECT tier, customers_at_start FROM ct_h.kpis('month', '2023-01-01', '2023-02-01')
 WHERE customers_at_start > 0 ORDER BY 1;

-- A run moves the date on and rescores everyone against it.
CALL customer_tier.reclassify('h', as_of => '2023-06-30 00:00+00');
SELECT scoring_date FROM customer_tier.program WHERE name = 'h';
SELECT outcome, customers FROM customer_tier.run WHERE program = 'h' ORDER BY id DESC LIMIT 1;
SELECT lifecycle, count(*) FROM ct_h.customers GROUP BY 1 ORDER BY 1;
SELECT count(*) AS differences FROM customer_tier.verify_program('h');

-- Orders after the scoring date: counted, with a warning at create time.
SET client_min_messages = warning;
SELECT customer_tier.create_program('early', 'hist.orders', 'customer_id', 'amount', 'ordered_at',
                                    as_of => '2022-06-30') AS customers;
SELECT customer_tier.drop_program('early');

-- Bad calls.
SELECT customer_tier.create_program('bad', 'hist.orders', 'customer_id', 'amount', 'ordered_at',
                                    as_of => 'infinity');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS programs FROM customer_tier.program WHERE name = 'bad';
-- a program that follows the clock is never scored at another instant
CALL customer_tier.reclassify('clock', as_of => '2022-12-31');
\echo :LAST_ERROR_SQLSTATE
-- a clock never goes back
CALL customer_tier.reclassify('h', as_of => '2023-01-01');
\echo :LAST_ERROR_SQLSTATE
CALL pg_temp.expect_errors('SELECT customer_tier.set_scoring_date(%s)',
    $$'h', '2023-01-01'$$, $$'clock', '2022-12-31'$$, $$'h', '-infinity'$$, $$NULL, '2024-01-01'$$,
    $$'nope', '2024-01-01'$$);
-- the refused run took no lock and logged nothing: the next one runs
CALL customer_tier.reclassify('h', as_of => '2023-07-31 00:00+00');
SELECT outcome, count(*) FROM customer_tier.run WHERE program = 'h' GROUP BY 1;
-- the reader sees the views and the scoring instant, and may not move it
SET ROLE customer_tier_reader;
SELECT customer_tier.program_as_of('h') AS as_of;
SELECT count(*) > 0 AS reads_follow_ups FROM ct_h.follow_ups_due;
SELECT customer_tier.set_scoring_date('h', '2024-01-01');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- Back to the clock: from now on the program scores against now().
SELECT customer_tier.set_scoring_date('h', NULL) > '2025-01-01' AS follows_the_clock;
SELECT scoring_date FROM customer_tier.program WHERE name = 'h';
CALL customer_tier.reclassify('h');
SELECT count(*) FILTER (WHERE lifecycle = 'lost') = count(*) AS all_lost_now FROM ct_h.customers;

SELECT customer_tier.drop_program(p) FROM unnest(ARRAY['clock', 'h']) AS p;
DROP SCHEMA hist CASCADE;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
