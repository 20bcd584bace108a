-- nps, csat and breakpoints split across parallel workers: the plan shows a
-- Partial Aggregate, and the result equals the serial one exactly.
BEGIN;
CREATE EXTENSION customer_tier;
SELECT no_plan();

CREATE TABLE answers (region int, nps int, csat int, spend double precision);
INSERT INTO answers
SELECT i % 4,
       CASE WHEN i % 13 = 0 THEN NULL ELSE (i * 7) % 11 END,
       CASE WHEN i % 17 = 0 THEN NULL ELSE 1 + (i * 3) % 5 END,
       CASE WHEN i % 19 = 0 THEN NULL ELSE ((i * 7919) % 100003) / 7.0 END
  FROM generate_series(1, 200000) AS i;
ANALYZE answers;

-- Serial results first.
SET LOCAL max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial AS
SELECT customer_tier.nps(nps) AS nps, customer_tier.csat(csat) AS csat,
       customer_tier.breakpoints(spend, 5) AS quintiles,
       customer_tier.breakpoints(spend, 10) AS deciles
  FROM answers;
CREATE TEMP TABLE serial_by_region AS
SELECT region, customer_tier.nps(nps) AS nps, customer_tier.csat(csat) AS csat,
       customer_tier.breakpoints(spend, 4) AS quartiles
  FROM answers GROUP BY region;

-- Then force a parallel plan; with the leader not participating, the workers
-- (when any can be started) do all the scanning and the leader only combines.
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_leader_participation = off;

-- pg_temp.plan_of(query): the plan text of a query, for matching.
\ir fixtures/plan_of.sql

SELECT matches(pg_temp.plan_of('SELECT customer_tier.nps(nps) FROM answers'),
               'Partial Aggregate', 'nps: EXPLAIN shows Partial Aggregate');
SELECT matches(pg_temp.plan_of('SELECT customer_tier.csat(csat) FROM answers'),
               'Partial Aggregate', 'csat: EXPLAIN shows Partial Aggregate');
SELECT matches(pg_temp.plan_of('SELECT customer_tier.breakpoints(spend, 5) FROM answers'),
               'Partial Aggregate', 'breakpoints: EXPLAIN shows Partial Aggregate');
SELECT matches(pg_temp.plan_of('SELECT region, customer_tier.nps(nps) FROM answers GROUP BY region'),
               'Partial (Hash|Group)?Aggregate', 'nps by region: EXPLAIN shows a partial aggregate');

SELECT results_eq(
    $$SELECT customer_tier.nps(nps), customer_tier.csat(csat),
             customer_tier.breakpoints(spend, 5), customer_tier.breakpoints(spend, 10)
        FROM answers$$,
    $$SELECT nps, csat, quintiles, deciles FROM serial$$,
    'nps, csat and breakpoints: parallel result equals serial result');

SELECT results_eq(
    $$SELECT region, customer_tier.nps(nps), customer_tier.csat(csat),
             customer_tier.breakpoints(spend, 4)
        FROM answers GROUP BY region ORDER BY region$$,
    $$SELECT region, nps, csat, quartiles FROM serial_by_region ORDER BY region$$,
    'grouped by region: parallel result equals serial result');

-- The serial results are themselves right: checked against plain SQL.
SELECT is((SELECT nps FROM serial),
          (SELECT 100.0 * (count(*) FILTER (WHERE nps >= 9) - count(*) FILTER (WHERE nps <= 6))
                  / count(nps) FROM answers)::double precision,
          'nps equals % promoters minus % detractors');
SELECT is((SELECT csat FROM serial),
          (SELECT 100.0 * count(*) FILTER (WHERE csat >= 4) / count(csat) FROM answers)::double precision,
          'csat equals % of 4-5 answers');
SELECT is((SELECT quintiles FROM serial),
          (SELECT percentile_cont(ARRAY[1/5.0, 2/5.0, 3/5.0, 4/5.0]::double precision[])
                  WITHIN GROUP (ORDER BY spend) FROM answers),
          'breakpoints(spend, 5) equals percentile_cont at k/5');
SELECT is((SELECT deciles FROM serial),
          (SELECT percentile_cont(ARRAY(SELECT k / 10.0::double precision FROM generate_series(1, 9) k))
                  WITHIN GROUP (ORDER BY spend) FROM answers),
          'breakpoints(spend, 10) equals percentile_cont at k/10');

SELECT * FROM finish();
ROLLBACK;
