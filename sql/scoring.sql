-- Quantile breakpoints of a population, and scores 1..n against them.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql

-- Quintile breakpoints of 1..10: the cut points at 1/5 .. 4/5, interpolated
-- as percentile_cont does (position k/n * (count - 1) in the sorted values).
SELECT customer_tier.breakpoints(x, 5) FROM generate_series(1, 10) AS x;
SELECT customer_tier.breakpoints(x, 5) =
       percentile_cont(ARRAY[1/5.0, 2/5.0, 3/5.0, 4/5.0]::float8[]) WITHIN GROUP (ORDER BY x) AS same
  FROM generate_series(1, 10) AS x;
-- Quartiles and the median (n = 2); input order does not matter.
SELECT customer_tier.breakpoints(x, 4) AS quartiles, customer_tier.breakpoints(x, 2) AS median
  FROM unnest('{40, 10, 30, 20, 50}'::float8[]) AS x;
-- Negative values are ordinary values; ties can make equal breakpoints.
SELECT customer_tier.breakpoints(x, 4) FROM unnest('{100, -2, 7, -4, 7}'::float8[]) AS x;
-- One value: every cut point is that value.
SELECT customer_tier.breakpoints(42, 5);
-- NULL values are skipped; an empty or all-NULL population gives NULL.
SELECT customer_tier.breakpoints(x, 2) FROM unnest('{1, NULL, 3}'::float8[]) AS x;
SELECT customer_tier.breakpoints(x, 5) IS NULL AS empty FROM generate_series(1, 0) AS x;
SELECT customer_tier.breakpoints(NULL::float8, 5) IS NULL AS all_null FROM generate_series(1, 3);
SELECT customer_tier.breakpoints(v, n) FROM (VALUES (NULL::float8, NULL::int), (1, 2), (NULL, NULL), (3, 2)) AS t(v, n);
-- Values at the ends of double precision stay finite.
SELECT customer_tier.breakpoints(x, 2) FROM unnest('{-1.7e308, 1.7e308}'::float8[]) AS x;
-- Large populations (the state is appended to in place beyond a few hundred values)
-- agree with percentile_cont exactly, in any input order.
SELECT customer_tier.breakpoints(x, 10) =
       percentile_cont(ARRAY(SELECT k / 10.0::float8 FROM generate_series(1, 9) AS k))
           WITHIN GROUP (ORDER BY x) AS same
  FROM (SELECT (i * 7919 % 10007) / 3.0::float8 AS x FROM generate_series(1, 5000) AS i) AS s;
-- The cut points are found by selection, not a full sort: populations sorted,
-- reversed, all equal, of few distinct values (order counts) and random, of
-- sizes around the point where a range is sorted outright, agree with
-- percentile_cont at every n.
SELECT count(*) AS populations,
       count(*) FILTER (WHERE s.ours IS DISTINCT FROM s.theirs) AS differ
  FROM (SELECT p.shape, p.size, q.n, customer_tier.breakpoints(p.v, q.n) AS ours,
               percentile_cont((SELECT array_agg(k / q.n::float8 ORDER BY k) FROM generate_series(1, q.n - 1) AS k))
                   WITHIN GROUP (ORDER BY p.v) AS theirs
          FROM (SELECT shape, size, CASE shape WHEN 0 THEN i::float8
                                               WHEN 1 THEN -i::float8
                                               WHEN 2 THEN 7
                                               WHEN 3 THEN (i * 7919 % 3)::float8
                                               ELSE (i * 7919 % 10007) / 3.0::float8 END AS v
                  FROM generate_series(0, 4) AS shape, unnest('{1, 2, 31, 32, 33, 100, 1001, 20000}'::int[]) AS size,
                       generate_series(1, size) AS i) AS p,
               (VALUES (2), (5), (10), (1000)) AS q (n)
         GROUP BY p.shape, p.size, q.n) AS s;
-- Per group, as for any aggregate.
SELECT g, customer_tier.breakpoints(x, 2) FROM generate_series(1, 9) AS x,
       LATERAL (SELECT x % 2 AS g) AS s GROUP BY g ORDER BY g;

-- Bad input: n outside 2..1000, n changing between rows, NULL n, non-finite values.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    'breakpoints(1, 1)', 'breakpoints(1, 1001)', 'breakpoints(x, x::int) FROM generate_series(2, 3) AS x',
    'breakpoints(1, NULL)', $$breakpoints(x, 5) FROM unnest('{1, NaN}'::float8[]) AS x$$,
    $$breakpoints(x, 5) FROM unnest('{1, Infinity}'::float8[]) AS x$$, $$breakpoints('-Infinity', 5)$$);

-- The state is a real double precision[]: {n, values...}.  Its functions can
-- be called by hand (as Citus or a debugging DBA would) and check what they get.
SELECT customer_tier.breakpoints_accum(NULL, 3, 5);
SELECT customer_tier.breakpoints_accum('{5,1,2}', 3, 5);
SELECT customer_tier.breakpoints_accum('{5,1,2}', NULL, 5);
SELECT customer_tier.breakpoints_combine('{5,1,2}', '{5,3}');
SELECT customer_tier.breakpoints_combine(NULL, '{5,3}');
SELECT customer_tier.breakpoints_combine('{5,3}', NULL);
SELECT customer_tier.breakpoints_final('{5,4,1,3,2}');
SELECT customer_tier.breakpoints_final('{5}') IS NULL AS no_values;
-- Combining two large states: the median of 1..600.
SELECT customer_tier.breakpoints_final(customer_tier.breakpoints_combine(
           ARRAY[2] || ARRAY(SELECT generate_series(1, 300))::float8[],
           ARRAY[2] || ARRAY(SELECT generate_series(301, 600))::float8[])) AS median;
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    $$breakpoints_accum('{4,1,2}', 3, 5)$$, $$breakpoints_combine('{5,3}', '{4,3}')$$,
    $$breakpoints_final('{}')$$, $$breakpoints_final('{{5,1},{2,3}}')$$, $$breakpoints_final('{5.5,1,2}')$$,
    $$breakpoints_final('{1,1,2}')$$, $$breakpoints_final('{5,1,NULL}')$$, $$breakpoints_final('{5,1,NaN}')$$,
    $$breakpoints_combine('{5,1}', '{5,Infinity}')$$);

-- score: higher is better counts the breakpoints strictly below the value;
-- a value equal to a breakpoint stays in the lower score.
SELECT v, customer_tier.score(v, '{10,20,30,40}') AS higher_is_better,
       customer_tier.score(v, '{10,20,30,40}', false) AS lower_is_better
  FROM unnest('{-Infinity, 5, 10, 15, 20, 35, 40, 41, Infinity}'::float8[]) AS v;
-- Equal breakpoints (a population with many ties) skip a score.
SELECT v, customer_tier.score(v, '{1,1,1,5}') AS higher, customer_tier.score(v, '{1,1,1,5}', false) AS lower
  FROM unnest('{0, 1, 2, 5, 6}'::float8[]) AS v;
-- One breakpoint: two scores.
SELECT customer_tier.score(49, '{50}'), customer_tier.score(51, '{50}');
-- NULL value (or NULL array or direction) gives NULL.
SELECT customer_tier.score(NULL, '{50}') IS NULL AS null_value,
       customer_tier.score(1, NULL) IS NULL AS null_breakpoints,
       customer_tier.score(1, '{50}', NULL) IS NULL AS null_direction;

-- Scoring a population against its own quintiles: recency in days, lower is better.
CREATE TEMP TABLE customers AS
SELECT i AS id, (i * 37 % 100)::float8 AS days_since_last, (i * 53 % 1000)::float8 AS spend
  FROM generate_series(1, 100) AS i;
WITH bp AS (SELECT customer_tier.breakpoints(days_since_last, 5) AS r,
                   customer_tier.breakpoints(spend, 5) AS m FROM customers)
SELECT customer_tier.score(days_since_last, bp.r, false) AS r_score,
       count(*) AS customers, min(days_since_last), max(days_since_last)
  FROM customers, bp GROUP BY 1 ORDER BY 1;
WITH bp AS (SELECT customer_tier.breakpoints(spend, 5) AS m FROM customers)
SELECT customer_tier.score(spend, bp.m) AS m_score, count(*) AS customers, min(spend), max(spend)
  FROM customers, bp GROUP BY 1 ORDER BY 1;

-- Bad breakpoints and values.
CALL pg_temp.expect_errors('SELECT customer_tier.score(%s)',
    $$5, '{}'$$, $$5, '{{1,2},{3,4}}'$$, $$5, '{1,NULL,3}'$$, $$5, '{1,NaN}'$$, $$5, '{-Infinity,1}'$$,
    $$5, '{10,20,15,30}'$$, $$'NaN', '{1,2}'$$);

DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
